"""The demo's archive step: the oldest demo partition to S3 and back, with its manifest row.

``archive_demo(warehouse_dsn)`` starts a ``moto_server`` (the demo has no MinIO) with
``AIRFLOW_CONN_ATLAS_S3`` pointing at it for its duration, archives the oldest
``explore.raw_data`` partition that holds rows exactly as ``atlas_maintenance`` archives a
partition past its retention (export, upload, verify, manifest, detach, drop, audit), prints the
manifest row, restores the partition with ``ArchiveHook.restore`` (the ``atlas_restore`` DAG's
work), checks that the rows are the same, and prints the row again. The warehouse ends as it began
(the demo can run again); moto keeps objects in memory only, so a copy of the object is also
written to ``.demo/archive/`` in case the restore fails.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from atlas.constants import ROOT, WAREHOUSE_CONN_ID
from atlas_dev.embedded_pg import uri
from atlas_dev.env import environment_variable

log = logging.getLogger(__name__)

DEMO_DIR = ROOT / ".demo"
TABLE = "explore.raw_data"


def _say(message: str) -> None:
    print(message, flush=True)


def _oldest_partition_with_rows(conn: psycopg.Connection) -> str | None:
    from atlas.sql import load_sql

    for name, _start, _end in conn.execute(load_sql("archive", "partitions"), {"parent": TABLE}).fetchall():
        schema, table = name.split(".", 1)
        query = psycopg.sql.SQL("SELECT EXISTS (SELECT FROM {})").format(
            psycopg.sql.Identifier(schema, table)
        )
        if conn.execute(query).fetchone() == (True,):
            return str(name)
    return None


def _rows_digest(conn: psycopg.Connection, partition: str) -> tuple[int, str]:
    from atlas.sql import load_sql

    row = conn.execute(load_sql("archive", "checksum"), {"table": partition}).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def _print_manifest(dsn: str, snapshot_id: int, when: str) -> None:
    from atlas.archive import manifest_row

    with psycopg.connect(dsn) as conn:
        row = manifest_row(conn, snapshot_id)
    _say(f"archive.snapshots row {snapshot_id} {when}:")
    for key in (
        "kind",
        "bucket",
        "object_key",
        "source_table",
        "partition_name",
        "range_start",
        "range_end",
        "row_count",
        "checksum",
        "size_bytes",
        "created_at",
        "retain_until",
        "verified_at",
        "partition_dropped_at",
        "restored_at",
    ):
        _say(f"  {key:<21} {row[key]}")


def archive_demo(warehouse_dsn: str, *, workdir: Path | None = None) -> None:
    """Archive the oldest demo partition of ``explore.raw_data`` to S3 (moto) and restore it, printing the manifest row."""
    from atlas.archive import RunInfo
    from atlas.config.retention import project_retention
    from atlas.hooks.archive import ArchiveHook
    from atlas_dev.moto_server import s3_connection

    workdir = workdir or DEMO_DIR
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    variable = f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}"
    connection = os.environ.get(variable) or uri(conninfo_to_dict(warehouse_dsn), host_in_authority=True)
    with environment_variable(variable, connection):
        with psycopg.connect(warehouse_dsn) as conn:
            partition = _oldest_partition_with_rows(conn)
            before = _rows_digest(conn, partition) if partition else None
        if partition is None or before is None:
            _say(f"archive: no partition of {TABLE} holds rows; nothing to archive")
            return
        bucket = project_retention().bucket
        with s3_connection(workdir / "logs" / "moto_server.log") as server:
            _say(
                f"\narchive: {partition} ({before[0]} rows) to s3://{bucket} on moto_server at {server.endpoint_url}"
            )
            hook = ArchiveHook()
            run = RunInfo(dag_id="atlas_demo", run_id="demo", task_id="archive_demo")
            target = next(p for p in hook.partitions(TABLE) if p.name == partition)
            result = hook.archive_partition(
                target, bucket=bucket, keep_months=project_retention().keep_archives, run=run
            )
            if result is None:
                _say(f"archive: {partition} was archived by another run meanwhile")
                return
            copy = workdir / "archive" / result.object_key
            copy.parent.mkdir(parents=True, exist_ok=True)
            hook.s3.get_conn().download_file(Bucket=bucket, Key=result.object_key, Filename=str(copy))
            _print_manifest(warehouse_dsn, result.snapshot_id, "after the archive (partition dropped)")
            _say(f"  (a copy of the object: {copy})")
            hook.restore(snapshot_id=result.snapshot_id, run=run)
        with psycopg.connect(warehouse_dsn) as conn:
            after = _rows_digest(conn, partition)
        _print_manifest(warehouse_dsn, result.snapshot_id, "after the restore")
        same = "identical rows" if after == before else f"DIFFERENT rows: {before} before, {after} after"
        _say(
            f"restore: {partition} is back with {after[0]} rows: {same} to those before the archive"
            f" (a digest of every row's text, archive.relation_checksum, {after[1]}; independent of the"
            " manifest's sha64, which the restore checked)"
        )
        copy.unlink()
