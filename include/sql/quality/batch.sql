-- The batch of one entity and interval, as landing and promotion recorded it.
SELECT batch_id, rows_landed, rows_promoted, rows_rejected
  FROM pipeline.batches
 WHERE batch_id = %(batch_id)s
