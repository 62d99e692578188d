-- Valid rows into the typed table, latest record wins: within the batch the last one by
-- raw_id per key; against the table only over a row whose interval is not newer (a late
-- batch of an older interval inserts new keys but never overwrites newer data). A row that
-- is already there from the same raw row (same raw_id and checksum) is left alone, so a re-run
-- rewrites nothing; the refresh parameter forces the rewrite when the YAML gained columns.
INSERT INTO {table} AS c (
    {columns}, _record_key, _raw_id, _batch_id, _interval_start, _payload_checksum, _promoted_at
)
SELECT DISTINCT ON ({stage_key})
       {stage_columns},
       coalesce(s._record_key, {record_key}),
       s._raw_id,
       %(batch_id)s,
       %(interval_start)s,
       s._payload_checksum,
       now()
  FROM {stage} AS s
 WHERE cardinality(s._failed_rules) = 0
 ORDER BY {stage_key}, s._raw_id DESC
ON CONFLICT ({key}) DO UPDATE
   SET {updates},
       _record_key = EXCLUDED._record_key,
       _raw_id = EXCLUDED._raw_id,
       _batch_id = EXCLUDED._batch_id,
       _interval_start = EXCLUDED._interval_start,
       _payload_checksum = EXCLUDED._payload_checksum,
       _promoted_at = EXCLUDED._promoted_at
 WHERE c._interval_start <= EXCLUDED._interval_start
   AND (%(refresh)s
        OR c._raw_id <> EXCLUDED._raw_id
        OR c._payload_checksum IS DISTINCT FROM EXCLUDED._payload_checksum)
