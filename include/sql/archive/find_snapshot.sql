-- The newest verified manifest row of a snapshot id, or of a table and partition.
SELECT snapshot_id, kind, bucket, object_key, source_table, partition_name, range_start, range_end,
       row_count, checksum, object_digest, created_at, partition_dropped_at
  FROM archive.snapshots
 WHERE verified_at IS NOT NULL
   AND (snapshot_id = %(snapshot_id)s
        OR (%(snapshot_id)s IS NULL AND source_table = %(source_table)s AND partition_name = %(partition_name)s))
 ORDER BY created_at DESC
 LIMIT 1
