-- One pass over the batch's rows in explore.raw_data (one partition: batch_id AND
-- interval_start): extract each declared column as trimmed text (level 1), cast it with the
-- pipeline.try_* safe casts (level 2), then evaluate every rule and collect the names of the
-- failed ones in _failed_rules (level 3, with references joined to their chart tables).
-- OFFSET 0 keeps each level a separate scan so no expression is computed twice.
CREATE TEMPORARY TABLE {stage} ON COMMIT DROP AS
SELECT t._raw_id,
       t._record_key,
       t._payload_checksum,
       {typed_columns},
       array_remove(ARRAY[{rules}]::text[], NULL) AS _failed_rules
  FROM (
        SELECT v.*, {casts}
          FROM (
                SELECT r.raw_id AS _raw_id,
                       r.record_key AS _record_key,
                       r.payload_checksum AS _payload_checksum,
                       {texts}
                  FROM explore.raw_data AS r
                 WHERE r.batch_id = %(batch_id)s
                   AND r.interval_start = %(interval_start)s
                OFFSET 0
               ) AS v
        OFFSET 0
       ) AS t
  {reference_joins}
