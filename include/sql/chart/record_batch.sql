-- Reconciliation: rows_landed = rows_promoted + rows_rejected (a batch promoted without a
-- landing record, e.g. landed by hand, gets one with rows_landed = the rows found).
INSERT INTO pipeline.batches AS b
    (batch_id, source_name, entity_name, dag_id, run_id, interval_start, interval_end,
     rows_landed, rows_promoted, rows_rejected, promoted_at, status)
VALUES
    (%(batch_id)s, %(source_name)s, %(entity_name)s, %(dag_id)s, %(run_id)s,
     %(interval_start)s, %(interval_end)s,
     %(rows_landed)s, %(rows_promoted)s, %(rows_rejected)s, clock_timestamp(), 'promoted')
ON CONFLICT (batch_id) DO UPDATE
   SET dag_id = coalesce(EXCLUDED.dag_id, b.dag_id),
       run_id = coalesce(EXCLUDED.run_id, b.run_id),
       rows_landed = coalesce(b.rows_landed, EXCLUDED.rows_landed),
       rows_promoted = EXCLUDED.rows_promoted,
       rows_rejected = EXCLUDED.rows_rejected,
       promoted_at = EXCLUDED.promoted_at,
       status = EXCLUDED.status
