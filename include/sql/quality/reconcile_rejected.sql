-- Accuracy: the batch's rows in chart.quarantine against pipeline.batches.rows_rejected.
SELECT b.rows_rejected AS expected,
       (SELECT count(*) FROM chart.quarantine AS q WHERE q.batch_id = b.batch_id) AS actual
  FROM pipeline.batches AS b
 WHERE b.batch_id = %(batch_id)s
