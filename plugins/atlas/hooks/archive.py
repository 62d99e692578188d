"""``ArchiveHook``: partitions past retention to verified Parquet in S3, snapshots, and restores.

Archiving one partition is one warehouse transaction, in this order (docs/design.md, "Archive
and retention"):

1. take the advisory lock ``archive:<partition>`` (two archivers never work on one partition;
   the second finds it gone and does nothing) and ``LOCK TABLE … IN SHARE MODE`` (no row can be
   written to it from here on, so what is exported is what is dropped);
2. export it as Parquet (:mod:`atlas.parquet_io`, bounded memory; the ADBC driver reads it in
   this transaction's snapshot), PostgreSQL hashing each row it exports in the same query
   (:mod:`atlas.row_checksum`: the table's ``sha64`` checksum, kept in the manifest);
3. the Parquet bytes go straight into a multipart upload through ``S3Hook``'s client to
   ``<schema>/<table>/<partition>.parquet`` (:class:`atlas.multipart.MultipartUpload`: parts
   sent while the export goes on; no local file);
4. verify: download the object and compute the same checksum from its rows: row count and
   checksum must equal PostgreSQL's;
5. record the verified object in ``archive.snapshots`` (committed on a second connection, so the
   manifest shows it even if what follows fails);
6. detach and drop the partition, mark the manifest row dropped, write the audit entries, commit.

Any failure before the commit rolls back steps 1 and 6: the partition stays, the manifest has
no completed (dropped) row, and the next run starts over for that partition (the object key is
the same, so it is overwritten).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from atlas import parquet_io
from atlas.archive import (
    NO_RUN,
    Partition,
    RunInfo,
    SnapshotResult,
    audit,
    checksum_algorithm,
    object_key,
    split_relation,
    table_checksum,
)
from atlas.constants import S3_CONN_ID, PartitionGrain, Schema
from atlas.dsr.erase import Actor
from atlas.dsr.restore import erase_restored
from atlas.exceptions import ArchiveError
from atlas.hooks import psycopg_connection
from atlas.hooks.locks import advisory_xact_lock
from atlas.hooks.warehouse import WarehouseHook
from atlas.multipart import MultipartUpload
from atlas.partitions import add_grains, partition_grain
from atlas.sql import load_sql

if TYPE_CHECKING:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from atlas.retention import RetentionRule

log = logging.getLogger(__name__)

TMP_DIR_ENV = "ATLAS_ARCHIVE_TMP"
"""Where the local Parquet files are written while they are read back or restored (default: the
system's temporary directory)."""


MAX_OBJECT_SIZE = 5 * 1024**4
"""S3's largest object (5 TiB)."""
TRANSFER_CONFIG = {"multipart_threshold": MAX_OBJECT_SIZE, "max_io_queue": 8}
"""boto3's managed transfers (the downloads): every object in one streamed GET, not in ranged GETs
of 8 MiB parts; and 8 chunks queued for the file, not 100, so a download holds a few MiB of
buffers. A ranged GET costs moto_server (and any server that reads the object to slice it) the
whole object: read back in parts, a 5M-row partition took 37 s against 4 s for 1M rows, a time
growing with the square of the size (bench/bench_archive.py)."""


class ArchiveHook(WarehouseHook):
    """The warehouse hook with object storage: archive, snapshot and restore.

    :param warehouse_conn_id: the Airflow connection of the warehouse.
    :param s3_conn_id: the ``aws`` connection of object storage (``endpoint_url`` for MinIO).
    """

    def __init__(self, *args: Any, s3_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.s3_conn_id = s3_conn_id

    @cached_property
    def s3(self) -> S3Hook:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        return S3Hook(aws_conn_id=self.s3_conn_id, transfer_config_args=TRANSFER_CONFIG)

    # -- which partitions -----------------------------------------------------------------------

    def partitions(self, parent: str) -> list[Partition]:
        """Every partition of ``parent`` with its range, in range order."""
        with psycopg_connection(self) as conn:
            conn.execute("SET TimeZone = 'UTC'")
            rows = conn.execute(load_sql("archive", "partitions"), {"parent": parent}).fetchall()
        return [Partition(parent, name, start, end) for name, start, end in rows]

    def due_partitions(self, rule: RetentionRule, now: dt.datetime) -> list[Partition]:
        """The partitions of the rule's table whose whole range ended ``rule.months`` before ``now``."""
        cutoff = rule.cutoff(now)
        if cutoff is None:
            return []
        return [p for p in self.partitions(rule.table) if p.end is not None and p.end <= cutoff]

    # -- archive --------------------------------------------------------------------------------

    def archive_due(
        self,
        rules: Sequence[RetentionRule],
        now: dt.datetime,
        *,
        bucket: str,
        keep_months: int | None,
        run: RunInfo,
    ) -> list[SnapshotResult]:
        """Archive and drop every partition past its retention; return what was archived."""
        done = []
        for rule in rules:
            for partition in self.due_partitions(rule, now):
                result = self.archive_partition(partition, bucket=bucket, keep_months=keep_months, run=run)
                if result is not None:
                    done.append(result)
        return done

    def archive_partition(
        self, partition: Partition, *, bucket: str, keep_months: int | None, run: RunInfo = NO_RUN
    ) -> SnapshotResult | None:
        """Archive one partition (the steps of the module docstring); ``None`` if it is gone already."""
        with psycopg_connection(self) as conn, conn.cursor() as cur, self._workdir() as workdir:
            advisory_xact_lock(cur, f"archive:{partition.name}")
            still_there = any(p.name == partition.name for p in self.partitions(partition.parent))
            if not still_there:
                log.info(
                    "%s: no longer a partition of %s, archived by another run",
                    partition.name,
                    partition.parent,
                )
                return None
            cur.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(split_relation(partition.name)))
            key = object_key(partition.name, partition.parent)
            result = self._export_and_verify(conn, partition.name, bucket, key, workdir)
            snapshot_id = self._record(
                kind="archive",
                result=result,
                partition=partition,
                keep_months=keep_months,
                run=run,
            )
            result.snapshot_id = snapshot_id
            self._detach_and_drop(conn, partition)
            cur.execute(load_sql("archive", "mark_dropped"), {"snapshot_id": snapshot_id})
            audit(cur, "archive.partition", partition.name, result.row_count, run, result)
            audit(cur, "partition.drop", partition.name, result.row_count, run, result)
            conn.commit()
        log.info(
            "archived %s (%s rows) to s3://%s/%s and dropped it (manifest %s)",
            partition.name,
            result.row_count,
            bucket,
            key,
            snapshot_id,
        )
        return result

    def snapshot_table(
        self, table: str, *, bucket: str, keep_months: int | None, run: RunInfo = NO_RUN
    ) -> SnapshotResult:
        """A point-in-time Parquet snapshot of a navigate table, verified and recorded."""
        if not re.fullmatch(rf"{Schema.NAVIGATE}\.[a-z_][a-z0-9_]{{0,62}}", table):
            raise ArchiveError(
                f"cannot snapshot {table!r}: snapshots on demand are of navigate tables (navigate.<table>)"
            )
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        key = f"snapshots/{table.replace('.', '/')}/{stamp}.parquet"
        with psycopg_connection(self) as conn, conn.cursor() as cur, self._workdir() as workdir:
            # One snapshot of the database for the export and the checksum: point in time.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            if cur.execute("SELECT to_regclass(%s)", (table,)).fetchone() == (None,):
                raise ArchiveError(f"cannot snapshot {table!r}: no such table")
            result = self._export_and_verify(conn, table, bucket, key, workdir)
            result.snapshot_id = self._record(
                kind="snapshot",
                result=result,
                partition=Partition(table, table, None, None),
                keep_months=keep_months,
                run=run,
            )
            audit(cur, "archive.snapshot", table, result.row_count, run, result)
            conn.commit()
        log.info("snapshot of %s (%s rows) at s3://%s/%s", table, result.row_count, bucket, key)
        return result

    # -- the steps (separate methods: each is one step of the order above) ----------------------

    def _export_and_verify(
        self, conn: psycopg.Connection[Any], relation: str, bucket: str, key: str, workdir: Path
    ) -> SnapshotResult:
        """Export and upload, read back and compare with PostgreSQL's checksum of the rows.

        The rows are those of ``conn``'s snapshot: a partition locked against writes, or a
        point-in-time snapshot under REPEATABLE READ.
        """
        exported, size = self._upload(conn, relation, bucket, key)
        rows, checksum = self._verify(bucket, key, workdir)
        if (rows, checksum) != (exported.rows, exported.checksum):
            raise ArchiveError(
                f"verification of s3://{bucket}/{key} failed: PostgreSQL exported {exported.rows} rows of "
                f"{relation} with checksum {exported.checksum}, the object read back has {rows} rows, "
                f"checksum {checksum}; the partition is kept, the next run retries"
            )
        extra = {"size_bytes": size}
        return SnapshotResult(0, bucket, key, relation, relation, rows, exported.checksum, extra)

    def _upload(
        self, conn: psycopg.Connection[Any], relation: str, bucket: str, key: str
    ) -> tuple[parquet_io.Export, int]:
        """Export ``relation`` straight into a multipart upload of the object; the export's rows
        and checksum, and the object's size."""
        if not self.s3.check_for_bucket(bucket):
            self.s3.create_bucket(bucket_name=bucket)
        with MultipartUpload(self.s3.get_conn(), bucket, key) as stream:
            exported = parquet_io.export_parquet(conn, relation, stream)
        return exported, stream.size

    def _download(self, bucket: str, key: str, path: Path) -> None:
        self.s3.get_conn().download_file(
            Bucket=bucket, Key=key, Filename=str(path), Config=self.s3.transfer_config
        )

    def _verify(self, bucket: str, key: str, workdir: Path) -> tuple[int, str]:
        """Row count and ``sha64`` checksum of the object as read back from S3."""
        readback = workdir / "readback.parquet"
        self._download(bucket, key, readback)
        try:
            return parquet_io.file_checksum(readback)
        finally:
            readback.unlink()

    def _record(
        self,
        *,
        kind: str,
        result: SnapshotResult,
        partition: Partition,
        keep_months: int | None,
        run: RunInfo,
    ) -> int:
        """Upsert the verified manifest row on its own connection (committed at once)."""
        # ``forever`` keeps an object 100 years: the manifest's retain_until is NOT NULL.
        retain_until = add_grains(dt.datetime.now(dt.UTC), PartitionGrain.MONTH, keep_months or 1200)
        params = {
            "kind": kind,
            "bucket": result.bucket,
            "object_key": result.object_key,
            "source_table": partition.parent,
            "partition_name": partition.name,
            "range_start": partition.start,
            "range_end": partition.end,
            "row_count": result.row_count,
            "checksum": result.checksum,
            "object_digest": result.extra.get("object_digest"),
            "size_bytes": result.extra.get("size_bytes"),
            "column_types": Jsonb(None),
            "retain_until": retain_until,
            "dag_id": run.dag_id,
            "run_id": run.run_id,
        }
        with psycopg_connection(self) as conn:
            params["column_types"] = Jsonb(
                [{"name": c.name, "type": c.type} for c in parquet_io.table_columns(conn, partition.name)]
            )
            row = conn.execute(load_sql("archive", "record_snapshot"), params).fetchone()
            conn.commit()
        assert row is not None
        return int(row[0])

    def _detach_and_drop(self, conn: psycopg.Connection[Any], partition: Partition) -> None:
        # as the table's owner, and only with a verified archive row (sql/V022): the pipeline's
        # login may not drop tables itself
        conn.execute("SELECT archive.drop_archived_partition(%s)", (partition.name,))

    @contextmanager
    def _workdir(self) -> Iterator[Path]:
        base = os.environ.get(TMP_DIR_ENV) or None
        with tempfile.TemporaryDirectory(prefix="atlas-archive-", dir=base) as name:
            yield Path(name)

    # -- restore --------------------------------------------------------------------------------

    @staticmethod
    def _erase_again(
        conn: psycopg.Connection[Any], parent: str, name: str, since: dt.datetime, run: RunInfo
    ) -> int:
        """Erasures recorded after the archive, applied to the restored rows as erasure does (no row deleted)."""
        actor = Actor(dag_id=run.dag_id, run_id=run.run_id, task_id=run.task_id)
        return erase_restored(conn, parent, name, since, actor)

    def restore(
        self,
        *,
        snapshot_id: int | None = None,
        table: str | None = None,
        partition: str | None = None,
        run: RunInfo = NO_RUN,
    ) -> SnapshotResult:
        """Bring an archived partition back from its object, verify it, re-apply later erasures
        (the subjects' personal values overwritten as erasure does; every row kept)."""
        if snapshot_id is None and not (table and partition):
            raise ArchiveError("restore needs a manifest id (snapshot_id), or a table and a partition")
        with psycopg_connection(self) as conn, conn.cursor() as cur, self._workdir() as workdir:
            conn.execute("SET TimeZone = 'UTC'")
            params = {"snapshot_id": snapshot_id, "source_table": table, "partition_name": partition}
            found = cur.execute(load_sql("archive", "find_snapshot"), params).fetchone()
            if found is None:
                raise ArchiveError(
                    f"no verified archive of {snapshot_id if snapshot_id is not None else f'{table} {partition}'} "
                    "in archive.snapshots"
                )
            (
                sid,
                kind,
                bucket,
                key,
                parent,
                name,
                start,
                _end,
                row_count,
                checksum,
                object_digest,
                created_at,
                _,
            ) = found
            if kind != "archive":
                raise ArchiveError(
                    f"manifest row {sid} is a {kind} of {parent}, not an archived partition: read "
                    f"s3://{bucket}/{key} with DuckDB, pandas or Spark instead"
                )
            advisory_xact_lock(cur, f"archive:{name}")
            if any(p.name == name for p in self.partitions(parent)):
                raise ArchiveError(f"{name} is a partition of {parent} already: nothing to restore")
            grain = partition_grain(parent)
            if grain is None:
                raise ArchiveError(f"the partition grain of {parent} is unknown: add it to atlas.partitions")
            created = cur.execute(
                load_sql("pipeline", "ensure_partitions"),
                {"parent": parent, "grain": PartitionGrain(grain).value, "from_ts": start, "to_ts": start},
            ).fetchone()
            if created is None or created[0] != name:
                raise ArchiveError(f"{parent} would restore {name} as {created}: the partition names differ")
            readback = workdir / "restore.parquet"
            self._download(bucket, key, readback)
            loaded = parquet_io.load_parquet(conn, readback, name)
            got = table_checksum(conn, name, checksum_algorithm(checksum))
            # object_digest: only manifest rows written before the sha64 checksum have one
            digest_ok = loaded == parquet_io.Digest(row_count, object_digest) if object_digest else True
            if not digest_ok or loaded.rows != row_count or got != (row_count, checksum):
                raise ArchiveError(
                    f"restore of {name} from s3://{bucket}/{key}: the object holds {loaded} and loads as "
                    f"{got}, the manifest says {row_count} rows, digest {object_digest}, checksum {checksum}; "
                    "nothing was restored"
                )
            erased = self._erase_again(conn, parent, name, created_at, run)
            cur.execute(load_sql("archive", "mark_restored"), {"snapshot_id": sid})
            result = SnapshotResult(
                sid, bucket, key, parent, name, row_count, checksum, {"erased_rows": erased}
            )
            audit(cur, "archive.restore", name, row_count, run, result)
            conn.commit()
        log.info(
            "restored %s from s3://%s/%s: %s rows, %s erased again", name, bucket, key, row_count, erased
        )
        return result
