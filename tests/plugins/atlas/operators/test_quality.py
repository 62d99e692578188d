"""QualityGateOperator run for real with dag.test(): a failed ``fail`` check stops the run before
navigate; a ``warn`` (a YAML severity override) is recorded and the run goes on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from atlas.config import parse_source
from atlas.constants import SOURCES_DIR
from tests.plugins.atlas.quality.seed import INTERVAL, execute, land_and_promote
from tests.plugins.atlas.test_alerts import receiver  # noqa: F401 - the fixture, by name below

pytestmark = [pytest.mark.postgres, pytest.mark.airflow, pytest.mark.slow]

DAG_SOURCE = """\
from __future__ import annotations

import datetime as dt
from pathlib import Path

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from airflow.timetables.interval import CronDataIntervalTimetable

from atlas.alerts import task_callbacks
from atlas.config.loader import load_source
from atlas.operators.quality import QualityGateOperator

with DAG(
    "{dag_id}",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    tags=["test"],
    default_args=task_callbacks("shop", load_source(Path("{source_path}")).alerts),
):
    QualityGateOperator(task_id="quality_gate", source_path="{source_path}", retries=2) >> EmptyOperator(
        task_id="navigate"
    )
"""


def _source(tmp_path: Path, quality: dict[str, Any] | None, alerts: dict[str, Any] | None = None) -> Path:
    document = yaml.safe_load((SOURCES_DIR / "shop.yaml").read_text())
    if quality:
        document["quality"] = quality
    if alerts:
        document["alerts"] = alerts
    parse_source(document, "shop.yaml")
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _run(make_test_dag: Any, dag_id: str, source: Path) -> dict[str, str | None]:
    dag = make_test_dag(dag_id, DAG_SOURCE.format(dag_id=dag_id, source_path=source))
    run = dag.test(logical_date=INTERVAL.end)
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


@pytest.mark.parametrize(
    ("quality", "states", "outcome"),
    [
        pytest.param(
            None, {"quality_gate": "failed", "navigate": "upstream_failed"}, "fail", id="fail-blocks"
        ),
        pytest.param(
            {"severity": {"orders.allowed_values.status": "warn"}},
            {"quality_gate": "success", "navigate": "success"},
            "warn",
            id="warn-passes",
        ),
    ],
)
def test_gate_blocks_navigate_only_on_a_failed_fail_check(
    fresh_warehouse_dsn: str, make_test_dag: Any, tmp_path: Path, quality: Any, states: Any, outcome: str
) -> None:
    """An invalid status fails the gate (navigate upstream_failed, no retry); overridden to warn it passes."""
    land_and_promote(
        fresh_warehouse_dsn, parse_source(yaml.safe_load(_source(tmp_path, quality).read_text()), "x")
    )
    execute(fresh_warehouse_dsn, "UPDATE chart.shop__orders SET status = 'lost' WHERE order_id = 100")
    assert _run(make_test_dag, f"q_gate_{outcome}", _source(tmp_path, quality)) == states
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        rows = conn.execute(
            "SELECT outcome, metric_value, dag_id, count(*) OVER () FROM quality.check_results "
            "WHERE check_name = 'orders.allowed_values.status'"
        ).fetchall()
        others = conn.execute(
            "SELECT count(*) FROM quality.check_results WHERE outcome <> 'pass' "
            "AND check_name <> 'orders.allowed_values.status'"
        ).fetchone()
    assert rows == [(outcome, 1, f"q_gate_{outcome}", 1)]  # one try: a failed check is not retried
    assert others == (0,)


def test_a_failed_gate_alerts_once_with_its_checks(
    fresh_warehouse_dsn: str, make_test_dag: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A failed fail check sends one alert per route, the gate's, naming the check and its metric;
    the task's failure callback does not add a second, generic one."""
    posts = request.getfixturevalue("receiver")
    source = _source(
        tmp_path, None, {"slack_webhook_conn_id": "atlas_slack", "pagerduty_conn_id": "atlas_pagerduty"}
    )
    land_and_promote(fresh_warehouse_dsn, parse_source(yaml.safe_load(source.read_text()), "x"))
    execute(fresh_warehouse_dsn, "UPDATE chart.shop__orders SET status = 'lost' WHERE order_id = 100")
    assert _run(make_test_dag, "q_gate_alert_once", source)["quality_gate"] == "failed"
    (slack,) = posts.at("/slack")
    assert "atlas_shop: quality gate failed (1 check(s))" in slack["text"]
    assert "orders.allowed_values.status: fail (validity, metric 1.0)" in slack["text"]
    (page,) = posts.at("/v2/enqueue")
    assert page["event_action"] == "trigger"
    assert page["payload"]["severity"] == "error"
    assert page["dedup_key"].startswith("atlas/q_gate_alert_once/quality_gate/")
