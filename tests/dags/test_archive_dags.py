"""atlas_snapshot, atlas_restore and the archive task of atlas_maintenance, run for real with dag.test()."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def _load(file: str, dag_id: str):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / file), bundle_name="dags-folder")
    assert bag.import_errors == {}
    return bag.dags[dag_id]


def test_archive_dags_shape() -> None:
    """Snapshot and restore are unscheduled, conf-driven, alerting DAGs; maintenance archives after ensuring."""
    snapshot = _load("atlas_archive.py", "atlas_snapshot")
    restore = _load("atlas_archive.py", "atlas_restore")
    for dag in (snapshot, restore):
        assert dag.schedule is None
        assert "archive" in dag.tags
        task = dag.tasks[0]
        assert task.on_failure_callback
        assert task.retries >= 2
    assert set(restore.params) == {"snapshot_id", "table", "partition"}
    maintenance = _load("atlas_maintenance.py", "atlas_maintenance")
    archive = maintenance.get_task("archive_partitions_past_retention")
    assert archive.upstream_task_ids == {"ensure_partitions_ahead"}


def _partitions(conn: psycopg.Connection) -> set[str]:
    query = "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'explore.raw_data'::regclass"
    return {row[0] for row in conn.execute(query)}


@pytest.fixture
def retention_file(tmp_path: Path, s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """include/retention.yaml's defaults, writing to the test's bucket; navigate facts kept 1 year."""
    path = tmp_path / "retention.yaml"
    path.write_text(
        yaml.safe_dump({"retention": {"bucket": s3_bucket, "navigate": "1 year"}}), encoding="utf-8"
    )
    monkeypatch.setenv("ATLAS_RETENTION_FILE", str(path))
    return path


@pytest.mark.slow
def test_maintenance_archives_snapshot_and_restore_dags_round_trip(
    fresh_warehouse_dsn: str, airflow_db: Path, retention_file: Path, s3_bucket: str
) -> None:
    """Maintenance archives an old raw_data month (and leaves recent ones); restore brings it back; snapshot writes."""
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', '2016-02-10Z')")
        conn.execute(
            "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, payload, payload_checksum)"
            " SELECT 'crm', 'customers', gen_random_uuid(), '2016-02-10Z', jsonb_build_object('i', i), md5(i::text)"
            " FROM generate_series(1, 100) AS i"
        )
        before = _partitions(conn)
        conn.execute(
            "CREATE TABLE navigate.snap_me AS SELECT i AS id, now() AS at FROM generate_series(1, 7) AS i"
        )

    maintenance = _load("atlas_maintenance.py", "atlas_maintenance")
    assert maintenance.test(logical_date=dt.datetime(2026, 11, 30, tzinfo=dt.UTC)).state == "success"
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        manifest = conn.execute(
            "SELECT snapshot_id, partition_name, row_count, partition_dropped_at IS NOT NULL FROM archive.snapshots"
        ).fetchall()
        assert [row[1:] for row in manifest] == [("explore.raw_data_p201602", 100, True)]
        assert conn.execute("SELECT count(*) FROM explore.raw_data").fetchone() == (0,)
        # Partitions inside retention (every one the migrations and ensure_partitions made) are all there.
        assert before - {"explore.raw_data_p201602"} <= _partitions(conn)
        assert "explore.raw_data_p201602" not in _partitions(conn)

    restore = _load("atlas_archive.py", "atlas_restore")
    assert restore.test(run_conf={"snapshot_id": manifest[0][0]}).state == "success"
    snapshot = _load("atlas_archive.py", "atlas_snapshot")
    assert snapshot.test(run_conf={"table": "navigate.snap_me"}).state == "success"
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM explore.raw_data").fetchone() == (100,)
        kinds = conn.execute(
            "SELECT kind, row_count, restored_at IS NOT NULL FROM archive.snapshots ORDER BY snapshot_id"
        ).fetchall()
        assert kinds == [("archive", 100, True), ("snapshot", 7, False)]
        actions = [r[0] for r in conn.execute("SELECT action FROM compliance.audit_log ORDER BY audit_id")]
        assert actions == ["archive.partition", "partition.drop", "archive.restore", "archive.snapshot"]
