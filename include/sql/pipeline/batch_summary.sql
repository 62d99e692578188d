-- One batch's bookkeeping row.
SELECT batch_id, source_name, entity_name, dag_id, run_id, interval_start, interval_end,
       rows_read, rows_landed, rows_quarantined, rows_promoted, rows_rejected, checksum,
       started_at, landed_at, promoted_at, status, notes
  FROM pipeline.batches
 WHERE batch_id = %(batch_id)s
