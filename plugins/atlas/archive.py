"""The archive's records and the SQL around them: who acts, partitions, manifest rows, audit
entries and checksums (used by :class:`atlas.hooks.archive.ArchiveHook`; erasure tombstones are
applied on restore by :mod:`atlas.dsr.restore`)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from atlas import row_checksum
from atlas.exceptions import ArchiveError
from atlas.parquet_io import table_columns
from atlas.sql import load_sql


@dataclass(frozen=True)
class RunInfo:
    """Who acts, for the manifest and the audit log (an Airflow task, or a person at a shell)."""

    dag_id: str | None = None
    run_id: str | None = None
    task_id: str | None = None


@dataclass(frozen=True)
class Partition:
    """A partition of a range-partitioned table and its range ``[start, end)``."""

    parent: str
    name: str
    start: dt.datetime | None
    end: dt.datetime | None


@dataclass
class SnapshotResult:
    """One verified object and its manifest row."""

    snapshot_id: int
    bucket: str
    object_key: str
    source_table: str
    partition_name: str
    row_count: int
    checksum: str
    extra: dict[str, Any] = field(default_factory=dict)


NO_RUN = RunInfo()
"""Acting outside Airflow (a shell, the demo): no DAG, run or task recorded."""


def object_key(relation: str, parent: str | None = None) -> str:
    """``<schema>/<table>/<partition>.parquet`` for a partition of ``parent``."""
    schema, name = relation.split(".", 1)
    table = (parent or relation).split(".", 1)[1]
    return f"{schema}/{table}/{name}.parquet"


def table_checksum(
    conn: psycopg.Connection[Any], relation: str, algorithm: str = row_checksum.ALGORITHM
) -> tuple[int, str]:
    """Row count and checksum of a table, computed by PostgreSQL: ``sha64`` (:mod:`atlas.row_checksum`,
    what an archive records), or ``h64x2`` (``archive.relation_checksum``, sql/V019: the checksum of
    manifest rows written before ``sha64``; :func:`checksum_algorithm` tells which a row has)."""
    if algorithm == RELATION_CHECKSUM:
        row = conn.execute(load_sql("archive", "checksum"), {"table": relation}).fetchone()
    elif algorithm == row_checksum.ALGORITHM:
        columns = table_columns(conn, relation)
        with conn.transaction():  # the export's text forms of the columns it writes as text
            conn.execute(load_sql("archive", "text_settings"))
            row = conn.execute(row_checksum.checksum_query(relation, columns)).fetchone()
    else:
        raise ArchiveError(f"unknown checksum algorithm {algorithm!r} (known: sha64, h64x2)")
    if row is None:
        raise ArchiveError(f"no checksum of {relation}")
    return int(row[0]), str(row[1])


RELATION_CHECKSUM = "h64x2"
"""The prefix of ``archive.relation_checksum`` checksums (manifest rows written before ``sha64``)."""


def checksum_algorithm(checksum: str) -> str:
    """The algorithm a manifest row's checksum was computed with: its prefix (``sha64:…``)."""
    return checksum.split(":", 1)[0]


def split_relation(relation: str) -> sql.Identifier:
    """``schema.table`` as a quoted identifier."""
    schema, name = relation.split(".", 1)
    return sql.Identifier(schema, name)


def audit(
    cur: psycopg.Cursor[Any],
    action: str,
    relation: str,
    rows: int,
    run: RunInfo,
    result: SnapshotResult,
) -> None:
    """One ``compliance.audit_log`` entry of an archive action, with the object and manifest row."""
    from atlas.audit import record_action

    details = {
        "bucket": result.bucket,
        "object_key": result.object_key,
        "checksum": result.checksum,
        "snapshot_id": result.snapshot_id,
        **{k: v for k, v in result.extra.items() if k != "size_bytes"},
    }
    record_action(
        cur,
        action,
        relation,
        rows,
        dag_id=run.dag_id,
        run_id=run.run_id,
        task_id=run.task_id,
        details=details,
    )


def manifest_row(conn: psycopg.Connection[Any], snapshot_id: int) -> dict[str, Any]:
    """The manifest row ``snapshot_id`` as a dict (for printing)."""
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(load_sql("archive", "manifest_row"), {"snapshot_id": snapshot_id}).fetchone()
    if row is None:
        raise ArchiveError(f"no manifest row {snapshot_id}")
    shown: dict[str, Any] = json.loads(json.dumps(row, default=str))
    return shown
