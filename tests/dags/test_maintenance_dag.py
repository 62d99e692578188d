"""atlas_maintenance parses cleanly and, run for real, creates partitions ahead on every table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]


def _load():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "atlas_maintenance.py"), bundle_name="dags-folder")
    assert bag.import_errors == {}
    return bag.dags["atlas_maintenance"]


def test_maintenance_dag_shape() -> None:
    """The DAG is tagged, owned, retried and runs one catalog-wide partition task."""
    dag = _load()
    assert {"atlas", "maintenance"} <= set(dag.tags)
    task = dag.get_task("ensure_partitions_ahead")
    assert task.tables is None
    assert task.ahead >= 1
    assert task.retries >= 1
    assert task.owner == "atlas-platform"


@pytest.mark.postgres
@pytest.mark.airflow
@pytest.mark.slow
def test_maintenance_dag_creates_partitions_ahead(fresh_warehouse_dsn: str, airflow_db: Path) -> None:
    """A dag.test() run leaves PARTITIONS_AHEAD partitions past the run's own on every table."""
    from atlas_maintenance import PARTITIONS_AHEAD

    dag = _load()
    run = dag.test(logical_date=dt.datetime(2034, 5, 10, tzinfo=dt.UTC))
    assert run.state == "success"
    expected = {
        "explore.raw_data": [f"explore.raw_data_p2034{m:02d}" for m in range(5, 6 + PARTITIONS_AHEAD)],
        "compliance.audit_log": [
            f"compliance.audit_log_p{2034 + (q - 1) // 4}q{(q - 1) % 4 + 1}"
            for q in range(2, 3 + PARTITIONS_AHEAD)
        ],
        "quality.check_results": [
            f"quality.check_results_p{y}" for y in range(2034, 2035 + PARTITIONS_AHEAD)
        ],
    }
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        for parent, names in expected.items():
            found = {
                row[0]
                for row in conn.execute(
                    "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass",
                    (parent,),
                )
            }
            assert set(names) <= found, parent
