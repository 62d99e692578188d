"""archive_demo: the oldest demo partition goes to S3 and comes back, the manifest row printed."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg
import pytest

from atlas_dev.demo_archive import archive_demo

pytestmark = [pytest.mark.postgres]


def _snapshot(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return [r[0] for r in conn.execute("SELECT t::text FROM explore.raw_data AS t ORDER BY 1")]


def test_archive_demo_archives_the_oldest_partition_and_restores_it(
    fresh_warehouse_dsn: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The oldest partition with rows is archived (dropped, manifest printed) and restored with the same rows."""
    monkeypatch.delenv("AIRFLOW_CONN_ATLAS_WAREHOUSE")  # archive_demo sets it from the DSN it is given
    monkeypatch.delenv("AIRFLOW_CONN_ATLAS_S3", raising=False)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        for day in ("2025-12-31Z", "2026-01-01Z"):
            conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (day,))
            conn.execute(
                "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, payload,"
                " payload_checksum) SELECT 'crm', 'customers', %s, %s, jsonb_build_object('i', i), md5(i::text)"
                " FROM generate_series(1, 20) AS i",
                (uuid.uuid4(), day),
            )
    before = _snapshot(fresh_warehouse_dsn)
    archive_demo(fresh_warehouse_dsn, workdir=tmp_path)
    out = capsys.readouterr().out
    assert "archive: explore.raw_data_p202512 (20 rows)" in out
    assert "partition_dropped_at" in out
    assert "restore: explore.raw_data_p202512 is back with 20 rows" in out
    assert "identical rows" in out
    assert _snapshot(fresh_warehouse_dsn) == before
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        row = conn.execute(
            "SELECT partition_name, partition_dropped_at IS NOT NULL, restored_at IS NOT NULL FROM archive.snapshots"
        ).fetchall()
    assert row == [("explore.raw_data_p202512", True, True)]
    assert "AIRFLOW_CONN_ATLAS_S3" not in os.environ
