-- The erasure tombstones of %(table)s recorded after %(since)s: one row per column and json key,
-- with the subject hashes to erase.
SELECT column_name, json_key, array_agg(DISTINCT subject_key_hash ORDER BY subject_key_hash)
  FROM compliance.erasure_tombstones
 WHERE table_name = %(table)s AND erased_at >= %(since)s
 GROUP BY column_name, json_key
 ORDER BY column_name, json_key NULLS FIRST
