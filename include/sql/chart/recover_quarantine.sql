-- Retried rows that now pass every rule leave chart.quarantine, and their original batches'
-- reconciliation moves them from rejected to promoted (landed = promoted + rejected still holds
-- for every batch). Returns one row per original batch with the rows moved.
WITH recovered AS (
    DELETE FROM chart.quarantine AS q
     USING {stage} AS s
     WHERE s._valid
       AND q.batch_id = s._batch_id
       AND q.raw_id = s._raw_id
       AND q.source_name = %(source_name)s
       AND q.entity_name = %(entity_name)s
    RETURNING q.batch_id
), per_batch AS (
    SELECT batch_id, count(*) AS n FROM recovered GROUP BY batch_id
)
UPDATE pipeline.batches AS b
   SET rows_promoted = b.rows_promoted + p.n,
       rows_rejected = b.rows_rejected - p.n
  FROM per_batch AS p
 WHERE b.batch_id = p.batch_id
RETURNING b.batch_id, p.n
