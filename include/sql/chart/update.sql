-- Valid rows over existing keys, latest record wins against the table: only over a row whose
-- interval is not newer (a late batch of an older interval never overwrites newer data; a
-- retried row only over an older interval's row or an earlier raw row of its own interval). A row
-- already there from the same raw row (same raw_id and checksum) is left alone, so a re-run
-- rewrites nothing; the refresh parameter forces the rewrite when the YAML gained columns.
-- The stage holds one valid row per key here (dedupe_stage). Plain UPDATE + INSERT instead of
-- INSERT ... ON CONFLICT: the advisory lock (lock.sql) already serialises writers of the table,
-- and skipping the speculative insertion of every row is about a third faster on a first load.
UPDATE {table} AS c
   SET {updates},
       _record_key = coalesce(s._record_key, {record_key}),
       _raw_id = s._raw_id,
       _batch_id = s._batch_id,
       _interval_start = s._interval_start,
       _payload_checksum = s._payload_checksum,
       _promoted_at = now()
  FROM {stage} AS s
 WHERE s._valid
   AND {key_match}
   AND {not_newer}
   AND (%(refresh)s
        OR c._raw_id <> s._raw_id
        OR c._payload_checksum IS DISTINCT FROM s._payload_checksum)
