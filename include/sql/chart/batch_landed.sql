-- What landing recorded for the batch, locked until the promotion commits.
SELECT rows_landed FROM pipeline.batches WHERE batch_id = %(batch_id)s FOR UPDATE
