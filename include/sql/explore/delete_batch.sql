-- Remove a batch's landed rows before it is landed again. Filtering on interval_start (the
-- partition key) prunes the delete to the one monthly partition that can hold the batch.
DELETE FROM explore.raw_data
 WHERE interval_start = %(interval_start)s
   AND batch_id = %(batch_id)s
