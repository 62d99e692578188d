-- The manifest row %(snapshot_id)s, every column.
SELECT * FROM archive.snapshots WHERE snapshot_id = %(snapshot_id)s
