"""atlas_quality_scorecard, run for real: it scores the day before its run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]


def _load():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "atlas_quality_scorecard.py"), bundle_name="dags-folder")
    assert bag.import_errors == {}
    return bag.dags["atlas_quality_scorecard"]


@pytest.mark.postgres
@pytest.mark.airflow
@pytest.mark.slow
def test_the_scorecard_dag_scores_the_day_its_interval_starts(
    fresh_warehouse_dsn: str, airflow_db: Path
) -> None:
    day = dt.date(2026, 3, 9)
    at = dt.datetime(2026, 3, 9, 15, tzinfo=dt.UTC)
    with psycopg.connect(fresh_warehouse_dsn, autocommit=True) as conn:
        conn.execute("SELECT pipeline.ensure_partition('quality.check_results', 'year', %s)", (at,))
        for name, outcome in (("a", "pass"), ("b", "pass"), ("c", "fail")):
            conn.execute(
                "INSERT INTO quality.check_results (table_name, check_name, dimension_name, outcome, executed_at)"
                " VALUES ('chart.s', %s, 'validity', %s, %s)",
                (name, outcome, at),
            )
    dag = _load()
    assert dag.get_task("score_tables").owner == "atlas-platform"
    # the run at 00:30 after `day` has the interval [day 00:30, next day 00:30) and scores `day`
    # (dag.test infers the interval that ends at the logical date, as a manual trigger does)
    run = dag.test(logical_date=dt.datetime(2026, 3, 10, 0, 30, tzinfo=dt.UTC))
    assert run.data_interval_start == dt.datetime(2026, 3, 9, 0, 30, tzinfo=dt.UTC)
    assert run.state == "success"
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        stored = conn.execute("SELECT scorecard_date, score, grade FROM quality.scorecards").fetchall()
    # three fail-severity checks (no definition: a failed one counts as fail), two passed: 66.67, D
    assert stored == [(day, Decimal("66.67"), "D")]
