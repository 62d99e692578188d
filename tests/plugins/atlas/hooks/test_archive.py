"""ArchiveHook against a real migrated warehouse and a moto S3 endpoint: archive, verify, drop, restore."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atlas import parquet_io
from atlas.archive import (
    RELATION_CHECKSUM,
    Partition,
    RunInfo,
    SnapshotResult,
    checksum_algorithm,
    table_checksum,
)
from atlas.config.retention import ProjectRetention
from atlas.exceptions import ArchiveError, LockTimeoutError
from atlas.hooks.archive import ArchiveHook
from atlas.retention import rule_for

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

TABLE = "navigate.fact_types"
OLD = dt.datetime(2015, 6, 1, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
RUN = RunInfo(dag_id="test", run_id="r1", task_id="t1")

TRICKY_ROWS: list[dict[str, Any]] = [
    {
        "id": 1,
        "at": "2015-03-01 10:00:00.123456+05:30",
        "amount": "12345678901234567890.000000001",
        "ratio": 0.1,
        "flag": True,
        "day": "2015-03-01",
        "wall": "2015-03-01 23:59:59.999999",
        "doc": '{"name": "Zoë \\"q\\"", "nested": {"n": [1, 2.50, null, "\\u00e9"]}, "empty": ""}',
        "note": 'line1\nline2,\t"quoted" \\ back 😀 ',
        "tags": '{a,"b c",NULL}',
        "ident": "6f1c7b7e-3a51-4f0e-9a8e-5c0d2b7a9e11",
        "small": -32768,
        "price": "1.50",
    },
    {
        "id": 2,
        "at": "2015-12-31 23:59:59.999999+00",
        "amount": "-0.00",
        "ratio": -1.0e-300,
        "flag": False,
        "day": "2015-12-31",
        "wall": "2015-12-31 00:00:00",
        "doc": "[]",
        "note": "",
        "tags": "{}",
        "ident": "00000000-0000-0000-0000-000000000000",
        "small": 0,
        "price": "0",
    },
    {
        "id": 4,
        "at": "2015-07-01 00:00:00+00",
        "amount": "NaN",
        "ratio": "NaN",
        "flag": None,
        "day": "0001-01-01",
        "wall": "0001-01-01 00:00:00",
        "doc": '"just a string"',
        "note": "\u00a0\u200b\ufeff\U0001f9ea",
        "tags": '{""}',
        "ident": None,
        "small": 32767,
        "price": "-9999999999.99",
    },
    {
        "id": 3,
        "at": "2015-01-01 00:00:00+00",
        **dict.fromkeys(
            ("amount", "ratio", "flag", "day", "wall", "doc", "note", "tags", "ident", "small", "price")
        ),
    },
]


@pytest.fixture
def hook(fresh_warehouse_dsn: str, s3_bucket: str) -> ArchiveHook:
    return ArchiveHook()


def _create_table(dsn: str, then: str | None = None, params: tuple[Any, ...] = ()) -> None:
    """The partitioned table with TRICKY_ROWS in its 2015 partition; then ``then`` runs."""
    with psycopg.connect(dsn) as conn:
        conn.execute(
            f"""
            CREATE TABLE {TABLE} (
                id bigint NOT NULL, at timestamptz NOT NULL, amount numeric, ratio double precision,
                flag boolean, day date, wall timestamp, doc jsonb, note text, tags text[], ident uuid,
                small smallint, price numeric(12, 2), PRIMARY KEY (id, at)
            ) PARTITION BY RANGE (at)
            """
        )
        conn.execute("SELECT pipeline.ensure_partitions(%s, 'year', %s, %s)", (TABLE, OLD, NOW))
        for row in TRICKY_ROWS:
            cols = ", ".join(row)
            marks = ", ".join(["%s"] * len(row))
            conn.execute(f"INSERT INTO {TABLE} ({cols}) VALUES ({marks})", list(row.values()))
        if then:
            conn.execute(then, params)


def _rows(dsn: str, table: str = TABLE) -> list[str]:
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return [r[0] for r in conn.execute(f"SELECT t::text FROM {table} AS t ORDER BY 1")]


def _partition(hook: ArchiveHook, name: str, parent: str = TABLE) -> Partition:
    return next(p for p in hook.partitions(parent) if p.name == name)


def _archive_2015(hook: ArchiveHook, dsn: str, bucket: str) -> SnapshotResult:
    """The table created and its 2015 partition archived (and dropped)."""
    _create_table(dsn)
    result = hook.archive_partition(
        _partition(hook, "navigate.fact_types_p2015"), bucket=bucket, keep_months=None
    )
    assert result is not None
    return result


def _manifest(dsn: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT partition_name, row_count, verified_at IS NOT NULL, partition_dropped_at IS NOT NULL, object_key"
            " FROM archive.snapshots ORDER BY snapshot_id"
        ).fetchall()


def _audit(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT action, object_name FROM compliance.audit_log WHERE action LIKE 'archive.%' "
            "OR action = 'partition.drop' ORDER BY audit_id"
        ).fetchall()


def test_round_trip_archive_drop_restore_gives_identical_rows(
    hook: ArchiveHook, fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """Archive → drop → restore gives the same rows (numeric, float, jsonb, timestamptz, arrays, NULLs, Unicode)."""
    _create_table(fresh_warehouse_dsn)
    before = _rows(fresh_warehouse_dsn)
    result = hook.archive_partition(
        _partition(hook, "navigate.fact_types_p2015"), bucket=s3_bucket, keep_months=12, run=RUN
    )
    assert result is not None
    assert result.row_count == 4
    assert _rows(fresh_warehouse_dsn) == []
    assert "navigate.fact_types_p2015" not in [p.name for p in hook.partitions(TABLE)]
    assert _manifest(fresh_warehouse_dsn) == [
        ("navigate.fact_types_p2015", 4, True, True, "navigate/fact_types/fact_types_p2015.parquet")
    ]
    assert _audit(fresh_warehouse_dsn) == [
        ("archive.partition", "fact_types_p2015"),
        ("partition.drop", "fact_types_p2015"),
    ]
    with psycopg.connect(fresh_warehouse_dsn) as conn:  # the manifest's times in the order of the steps
        assert conn.execute(
            "SELECT created_at <= verified_at AND verified_at <= partition_dropped_at FROM archive.snapshots"
        ).fetchone() == (True,)
    # The object is plain Parquet any reader opens: typed columns, UTC timestamps.
    body = hook.s3.get_key(result.object_key, s3_bucket).get()["Body"].read()
    table = pq.read_table(io.BytesIO(body))
    assert table.num_rows == 4
    assert table.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("ratio").type == pa.float64()

    restored = hook.restore(table=TABLE, partition="navigate.fact_types_p2015", run=RUN)
    assert restored.row_count == 4
    assert _rows(fresh_warehouse_dsn) == before
    assert _audit(fresh_warehouse_dsn)[-1] == ("archive.restore", "fact_types_p2015")


def test_restore_by_manifest_id_of_raw_data(
    hook: ArchiveHook, fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """A landed explore.raw_data month archives and comes back by its manifest id, JSONB payloads intact."""
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (OLD,))
        conn.execute(
            "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, record_key, payload,"
            " payload_checksum) SELECT 'crm', 'customers', %s, %s, i::text,"
            " jsonb_build_object('id', i, 'email', 'user' || i || '@example.com', 'x', repeat('é', i %% 7)),"
            " md5(i::text) FROM generate_series(1, 5000) AS i",
            (uuid.uuid4(), OLD),
        )
    before = _rows(fresh_warehouse_dsn, "explore.raw_data")
    result = hook.archive_partition(
        _partition(hook, "explore.raw_data_p201506", "explore.raw_data"), bucket=s3_bucket, keep_months=None
    )
    assert result is not None
    assert result.row_count == 5000
    assert _rows(fresh_warehouse_dsn, "explore.raw_data") == []
    hook.restore(snapshot_id=result.snapshot_id)
    assert _rows(fresh_warehouse_dsn, "explore.raw_data") == before
    with pytest.raises(ArchiveError, match="already"):
        hook.restore(snapshot_id=result.snapshot_id)


def test_restore_after_erasure_holds_no_trace_of_the_subject(
    hook: ArchiveHook, fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """A tombstone recorded after the archive erases the subject's row again on restore as erasure does:
    its personal columns (the data dictionary's) NULL, every row kept, the rest of the row unchanged."""
    result = _archive_2015(hook, fresh_warehouse_dsn, s3_bucket)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        conn.execute(
            "INSERT INTO compliance.data_assets (schema_name, table_name, column_name, classification)"
            " VALUES ('navigate', 'fact_types', 'doc', 'confidential'), ('navigate', 'fact_types', 'note', 'confidential')"
        )
        conn.execute(
            "INSERT INTO compliance.erasure_tombstones (subject_key_hash, table_name, column_name, json_key)"
            " VALUES (compliance.subject_key_hash('6f1c7b7e-3a51-4f0e-9a8e-5c0d2b7a9e11'), %s, 'ident', NULL)",
            (TABLE,),
        )
    restored = hook.restore(snapshot_id=result.snapshot_id, run=RUN)
    assert restored.extra["erased_rows"] == 1
    rows = _rows(fresh_warehouse_dsn)
    assert len(rows) == len(TRICKY_ROWS)
    assert not any("Zoë" in r or "quoted" in r for r in rows)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        erased = conn.execute(
            f"SELECT doc, note, amount::text, ident::text FROM {TABLE} WHERE id = 1"
        ).fetchone()
        audited = conn.execute(
            "SELECT action, object_name, rows_affected, dag_id, run_id FROM compliance.audit_log"
            " WHERE action IN ('dsr.erasure', 'archive.restore') ORDER BY audit_id"
        ).fetchall()
    assert erased == (None, None, TRICKY_ROWS[0]["amount"], TRICKY_ROWS[0]["ident"])
    assert audited == [
        ("dsr.erasure", "fact_types", 1, "test", "r1"),
        ("archive.restore", "fact_types_p2015", len(TRICKY_ROWS), "test", "r1"),
    ]


def test_tombstone_older_than_the_archive_is_not_reapplied(
    hook: ArchiveHook, fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """Only erasures recorded after the archive was made apply on restore."""
    _create_table(
        fresh_warehouse_dsn,
        "INSERT INTO compliance.erasure_tombstones (subject_key_hash, table_name, column_name, erased_at)"
        " VALUES (compliance.subject_key_hash('1'), %s, 'id', now() - interval '1 day')",
        (TABLE,),
    )
    result = hook.archive_partition(
        _partition(hook, "navigate.fact_types_p2015"), bucket=s3_bucket, keep_months=None
    )
    assert result is not None
    assert hook.restore(snapshot_id=result.snapshot_id).extra["erased_rows"] == 0
    assert len(_rows(fresh_warehouse_dsn)) == 4


def test_a_manifest_row_of_the_older_checksum_still_restores(
    hook: ArchiveHook, fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """A manifest row written before sha64 (an h64x2 checksum of archive.relation_checksum and an
    object digest) restores with those checks; a wrong object digest still refuses it."""
    _create_table(fresh_warehouse_dsn)
    before = _rows(fresh_warehouse_dsn)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        old_checksum = table_checksum(conn, "navigate.fact_types_p2015", RELATION_CHECKSUM)
    result = hook.archive_partition(
        _partition(hook, "navigate.fact_types_p2015"), bucket=s3_bucket, keep_months=None
    )
    assert result is not None
    assert checksum_algorithm(result.checksum) == "sha64"
    digest = parquet_io.RowDigest()
    for batch in pq.read_table(_download_bytes(hook, s3_bucket, result.object_key)).to_batches():
        digest.render(batch)

    def as_older_row(object_digest: str) -> None:
        with psycopg.connect(fresh_warehouse_dsn) as conn:
            conn.execute(
                "UPDATE archive.snapshots SET checksum = %s, object_digest = %s WHERE snapshot_id = %s",
                (old_checksum[1], object_digest, result.snapshot_id),
            )

    as_older_row("0" * 64)
    with pytest.raises(ArchiveError, match="nothing was restored"):
        hook.restore(snapshot_id=result.snapshot_id)
    assert _rows(fresh_warehouse_dsn) == []
    as_older_row(digest.result().sha256)
    assert hook.restore(snapshot_id=result.snapshot_id).checksum.startswith("h64x2:")
    assert _rows(fresh_warehouse_dsn) == before


def _failing(step: str, exc: BaseException) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    fail.__name__ = step
    return fail


FAILURES = {
    "upload-failure": "_upload",
    "verification-mismatch-lost-row": "lost-row",
    "verification-mismatch-changed-value": "changed-value",
    "crash-between-upload-and-drop": "_detach_and_drop",
}
"""What goes wrong in an archive run, by test id: a step that raises, or damage to the object."""


@pytest.mark.parametrize("step", [pytest.param(step, id=name) for name, step in FAILURES.items()])
def test_failure_leaves_partition_and_next_run_completes(
    hook: ArchiveHook, fresh_warehouse_dsn: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """A failed upload, a verification mismatch or a crash before the drop keeps the partition; a re-run finishes."""
    _create_table(fresh_warehouse_dsn)
    before = _rows(fresh_warehouse_dsn)
    partition = _partition(hook, "navigate.fact_types_p2015")
    if step == "_upload":
        monkeypatch.setattr(hook, "_upload", _failing(step, OSError("connection reset by peer")))
    elif step in CORRUPTIONS:
        real_download = hook._download

        def corrupt_download(bucket: str, key: str, path: Path) -> None:
            # The object in S3 is replaced by a damaged one, then read back.
            _corrupt(hook, bucket, key, CORRUPTIONS[step])
            real_download(bucket, key, path)

        monkeypatch.setattr(hook, "_download", corrupt_download)
    else:
        monkeypatch.setattr(hook, "_detach_and_drop", _failing(step, RuntimeError("the worker was killed")))
    with pytest.raises((ArchiveError, OSError, RuntimeError)):
        hook.archive_partition(partition, bucket=s3_bucket, keep_months=None)
    assert _rows(fresh_warehouse_dsn) == before
    assert "navigate.fact_types_p2015" in [p.name for p in hook.partitions(TABLE)]
    assert all(not dropped for *_, dropped, _key in _manifest(fresh_warehouse_dsn))
    assert not any(action == "partition.drop" for action, _ in _audit(fresh_warehouse_dsn))

    monkeypatch.undo()
    result = hook.archive_partition(partition, bucket=s3_bucket, keep_months=None)
    assert result is not None
    assert result.row_count == 4
    assert _manifest(fresh_warehouse_dsn) == [
        ("navigate.fact_types_p2015", 4, True, True, "navigate/fact_types/fact_types_p2015.parquet")
    ]
    hook.restore(snapshot_id=result.snapshot_id)
    assert _rows(fresh_warehouse_dsn) == before


def _download_bytes(hook: ArchiveHook, bucket: str, key: str) -> io.BytesIO:
    return io.BytesIO(hook.s3.get_key(key, bucket).get()["Body"].read())


def _changed_note(table: pa.Table) -> pa.Table:
    notes = table.column("note").to_pylist()
    notes[0] = (notes[0] or "") + "!"
    return table.set_column(table.schema.get_field_index("note"), "note", pa.array(notes, pa.string()))


CORRUPTIONS = {"lost-row": lambda table: table.slice(1), "changed-value": _changed_note}
"""Damage done to an uploaded object: a row lost, one value changed (same row count)."""


def _corrupt(hook: ArchiveHook, bucket: str, key: str, damage: Any) -> None:
    """Replace the object with a damaged copy of itself (same schema and metadata)."""
    body = io.BytesIO()
    pq.write_table(damage(pq.read_table(_download_bytes(hook, bucket, key))), body)
    hook.s3.load_bytes(body.getvalue(), key=key, bucket_name=bucket, replace=True)


def test_restore_of_a_damaged_object_restores_nothing(
    hook: ArchiveHook, fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """An object changed after its archive fails the restore's check; the partition is not recreated."""
    result = _archive_2015(hook, fresh_warehouse_dsn, s3_bucket)
    _corrupt(hook, s3_bucket, result.object_key, _changed_note)
    with pytest.raises(ArchiveError, match="nothing was restored"):
        hook.restore(snapshot_id=result.snapshot_id)
    assert "navigate.fact_types_p2015" not in [p.name for p in hook.partitions(TABLE)]
    assert _rows(fresh_warehouse_dsn) == []


def test_archive_twice_archives_once_and_spares_partitions_inside_retention(
    hook: ArchiveHook, fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """Two archive runs archive each due partition once; partitions inside retention keep their rows."""
    _create_table(
        fresh_warehouse_dsn,
        f"INSERT INTO {TABLE} (id, at) VALUES (10, '2025-06-01Z'), (11, '2026-02-01Z'), (12, '2024-12-31Z')",
    )
    project = ProjectRetention(tables={TABLE: "2 years"})
    rule = rule_for(TABLE, project)
    assert rule.months == 24
    first = hook.archive_due([rule], NOW, bucket=s3_bucket, keep_months=None, run=RUN)
    # Due: every year whose whole range ended by 2024-12-01, i.e. 2015 .. 2023 (2024 ends 2025-01-01).
    assert [r.partition_name for r in first] == [f"navigate.fact_types_p{y}" for y in range(2015, 2024)]
    second = hook.archive_due([rule], NOW, bucket=s3_bucket, keep_months=None, run=RUN)
    assert second == []
    remaining = [p.name for p in hook.partitions(TABLE)]
    assert remaining == [f"navigate.fact_types_p{y}" for y in range(2024, 2027)]
    assert len(_rows(fresh_warehouse_dsn)) == 3
    assert len(_manifest(fresh_warehouse_dsn)) == 9
    assert (
        hook.archive_partition(
            Partition(TABLE, "navigate.fact_types_p2015", None, None), bucket=s3_bucket, keep_months=None
        )
        is None
    )


def test_snapshot_of_a_navigate_table(hook: ArchiveHook, fresh_warehouse_dsn: str, s3_bucket: str) -> None:
    """A snapshot on demand writes a verified object and a manifest row, and leaves the table as it was."""
    _create_table(fresh_warehouse_dsn)
    result = hook.snapshot_table(TABLE, bucket=s3_bucket, keep_months=12, run=RUN)
    assert result.row_count == 4
    assert result.object_key.startswith("snapshots/navigate/fact_types/")
    assert pq.read_table(_download_bytes(hook, s3_bucket, result.object_key)).num_rows == 4
    assert len(_rows(fresh_warehouse_dsn)) == 4
    with pytest.raises(ArchiveError, match="navigate"):
        hook.snapshot_table("explore.raw_data", bucket=s3_bucket, keep_months=12)
    with pytest.raises(ArchiveError, match="not an archived partition"):
        hook.restore(snapshot_id=result.snapshot_id)


def test_two_archivers_never_work_on_one_partition(
    hook: ArchiveHook, fresh_warehouse_dsn: str, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one archiver holds a partition another waits (here: times out); two at once archive it once."""
    _create_table(fresh_warehouse_dsn)
    partition = _partition(hook, "navigate.fact_types_p2015")
    monkeypatch.setenv("ATLAS_LOCK_TIMEOUT", "1s")
    with psycopg.connect(fresh_warehouse_dsn) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtext('archive:navigate.fact_types_p2015'))")
        with pytest.raises(LockTimeoutError, match=r"archive:navigate\.fact_types_p2015"):
            hook.archive_partition(partition, bucket=s3_bucket, keep_months=None)
    assert len(_rows(fresh_warehouse_dsn)) == 4

    monkeypatch.setenv("ATLAS_LOCK_TIMEOUT", "2min")
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(
                lambda _: ArchiveHook().archive_partition(partition, bucket=s3_bucket, keep_months=None),
                range(2),
            )
        )
    assert sorted(r is None for r in results) == [False, True]
    assert [m[1:4] for m in _manifest(fresh_warehouse_dsn)] == [(4, True, True)]
    assert _audit(fresh_warehouse_dsn).count(("partition.drop", "fact_types_p2015")) == 1


def test_the_pipelines_login_archives_drops_and_restores_without_owning_the_table(
    fresh_warehouse_dsn: str, s3_bucket: str, pg_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a login in atlas_write only (the pipeline's, docker-compose.yaml): the drop goes through
    archive.drop_archived_partition(), which refuses any partition without a verified archive."""
    from psycopg.conninfo import conninfo_to_dict

    from atlas_dev.embedded_pg import uri
    from tests.fixtures.roles import login_as
    from tests.fixtures.warehouse import WAREHOUSE_CONN_ENV

    _create_table(fresh_warehouse_dsn)
    before = _rows(fresh_warehouse_dsn)
    with login_as(pg_server, fresh_warehouse_dsn, "atlas_write") as pipeline:
        monkeypatch.setenv(WAREHOUSE_CONN_ENV, uri(conninfo_to_dict(pipeline), host_in_authority=True))
        as_pipeline = ArchiveHook()
        with psycopg.connect(pipeline) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"DROP TABLE {TABLE}_p2016")
            conn.rollback()
            with pytest.raises(psycopg.errors.RaiseException, match="has no verified archive"):
                conn.execute("SELECT archive.drop_archived_partition(%s)", (f"{TABLE}_p2016",))
        result = as_pipeline.archive_partition(
            _partition(as_pipeline, "navigate.fact_types_p2015"), bucket=s3_bucket, keep_months=12, run=RUN
        )
        assert result is not None
        assert "navigate.fact_types_p2015" not in [p.name for p in as_pipeline.partitions(TABLE)]
        as_pipeline.restore(snapshot_id=result.snapshot_id, run=RUN)
        login = conninfo_to_dict(pipeline)["user"]
    assert _rows(fresh_warehouse_dsn) == before
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        actors = conn.execute(
            "SELECT DISTINCT actor FROM compliance.audit_log WHERE action IN ('archive.partition', 'partition.drop', 'archive.restore')"
        ).fetchall()
    assert actors == [(login,)]  # every step ran as the pipeline's login
