-- Record a verified object in the manifest (one row per bucket and key: a re-run that exported
-- the partition again replaces what the earlier, unfinished run recorded). Returns its id.
INSERT INTO archive.snapshots AS s (
    kind, bucket, object_key, source_table, partition_name, range_start, range_end, row_count,
    checksum, object_digest, size_bytes, column_types, retain_until, verified_at, dag_id, run_id
) VALUES (
    %(kind)s, %(bucket)s, %(object_key)s, %(source_table)s, %(partition_name)s, %(range_start)s,
    %(range_end)s, %(row_count)s, %(checksum)s, %(object_digest)s, %(size_bytes)s, %(column_types)s,
    greatest(%(retain_until)s, now()), now(), %(dag_id)s, %(run_id)s
)
ON CONFLICT (bucket, object_key) DO UPDATE SET
    row_count = excluded.row_count,
    checksum = excluded.checksum,
    object_digest = excluded.object_digest,
    size_bytes = excluded.size_bytes,
    column_types = excluded.column_types,
    retain_until = excluded.retain_until,
    created_at = now(),
    verified_at = now(),
    partition_dropped_at = NULL,
    restored_at = NULL,
    dag_id = excluded.dag_id,
    run_id = excluded.run_id
RETURNING snapshot_id
