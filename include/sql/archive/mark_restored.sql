-- The partition of manifest row %(snapshot_id)s was restored from its object.
UPDATE archive.snapshots SET restored_at = now() WHERE snapshot_id = %(snapshot_id)s
