-- The partition of manifest row %(snapshot_id)s was detached and dropped (in this transaction).
UPDATE archive.snapshots SET partition_dropped_at = now()
 WHERE snapshot_id = %(snapshot_id)s AND verified_at IS NOT NULL
