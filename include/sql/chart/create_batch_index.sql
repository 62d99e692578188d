-- Finds the rows a batch promoted, so a re-run can remove keys the batch no longer holds.
CREATE INDEX IF NOT EXISTS {index} ON {table} (_batch_id)
