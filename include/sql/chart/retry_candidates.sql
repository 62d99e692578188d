-- Rows of the entity's other batches quarantined for a reference, among other rules or alone
-- (their parent may have arrived since), to re-validate. Only
-- batches whose promotion is recorded (a re-landed batch not promoted since waits for its own
-- promotion) and raw rows still in explore.raw_data (the quarantine row's exact raw row).
CREATE TEMPORARY TABLE {candidates} ON COMMIT DROP AS
SELECT r.raw_id, r.record_key, r.payload_checksum, r.batch_id, r.interval_start, r.payload
  FROM chart.quarantine AS q
  JOIN pipeline.batches AS b
    ON b.batch_id = q.batch_id
   AND b.rows_promoted IS NOT NULL
  JOIN explore.raw_data AS r
    ON r.raw_id = q.raw_id
   AND r.interval_start = q.interval_start
   AND r.batch_id = q.batch_id
 WHERE q.source_name = %(source_name)s
   AND q.entity_name = %(entity_name)s
   AND q.batch_id <> %(batch_id)s
   AND q.failed_rules && %(reference_rules)s::text[]
