-- The partition of manifest row %(snapshot_id)s was detached and dropped (in this transaction).
-- clock_timestamp(), not now(): this transaction began before the manifest row was written (on
-- another connection, at its own now()), and the drop comes after it.
UPDATE archive.snapshots SET partition_dropped_at = clock_timestamp()
 WHERE snapshot_id = %(snapshot_id)s AND verified_at IS NOT NULL
