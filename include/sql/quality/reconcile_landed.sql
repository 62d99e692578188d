-- Accuracy: the batch's rows in explore.raw_data against pipeline.batches.rows_landed.
SELECT b.rows_landed AS expected,
       (SELECT count(*)
          FROM explore.raw_data AS r
         WHERE r.batch_id = b.batch_id
           AND r.interval_start = b.interval_start) AS actual
  FROM pipeline.batches AS b
 WHERE b.batch_id = %(batch_id)s
