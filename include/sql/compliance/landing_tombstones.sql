-- The erasure tombstones of %(table)s.%(column)s for the JSON keys %(fields)s, read once per
-- landed batch (atlas.dsr.landing): one row per key with the subject hashes erased.
SELECT json_key, array_agg(DISTINCT subject_key_hash)
  FROM compliance.erasure_tombstones
 WHERE table_name = %(table)s AND column_name = %(column)s AND json_key = ANY(%(fields)s::text[])
 GROUP BY json_key
