-- Record a landed batch. A re-landed batch replaces its counts and forgets its promotion
-- (rows_promoted / rows_rejected / promoted_at go back to NULL until it is promoted again).
INSERT INTO pipeline.batches AS b
    (batch_id, source_name, entity_name, dag_id, run_id, interval_start, interval_end,
     rows_read, rows_landed, rows_quarantined, rows_promoted, rows_rejected, checksum,
     started_at, landed_at, promoted_at, status, notes)
VALUES
    (%(batch_id)s, %(source_name)s, %(entity_name)s, %(dag_id)s, %(run_id)s,
     %(interval_start)s, %(interval_end)s,
     %(rows_read)s, %(rows_landed)s, %(rows_quarantined)s, NULL, NULL, %(checksum)s,
     %(started_at)s, clock_timestamp(), NULL, 'landed', %(notes)s)
ON CONFLICT (batch_id) DO UPDATE
   SET dag_id = EXCLUDED.dag_id,
       run_id = EXCLUDED.run_id,
       rows_read = EXCLUDED.rows_read,
       rows_landed = EXCLUDED.rows_landed,
       rows_quarantined = EXCLUDED.rows_quarantined,
       rows_promoted = NULL,
       rows_rejected = NULL,
       checksum = EXCLUDED.checksum,
       started_at = EXCLUDED.started_at,
       landed_at = EXCLUDED.landed_at,
       promoted_at = NULL,
       status = EXCLUDED.status,
       notes = EXCLUDED.notes
RETURNING landed_at
