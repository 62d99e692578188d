-- Valid rows of keys the table does not hold yet (after update.sql; one row per key).
INSERT INTO {table} (
    {columns}, _record_key, _raw_id, _batch_id, _interval_start, _payload_checksum, _promoted_at
)
SELECT {stage_columns},
       coalesce(s._record_key, {record_key}),
       s._raw_id,
       s._batch_id,
       s._interval_start,
       s._payload_checksum,
       now()
  FROM {stage} AS s
 WHERE s._valid
   AND NOT EXISTS (SELECT FROM {table} AS c WHERE {key_match})
