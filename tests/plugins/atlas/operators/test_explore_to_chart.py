"""ExploreToChartOperator run for real with dag.test(): orders then order lines of one interval."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import psycopg
import pytest

from atlas.batches import Interval, batch_id
from atlas.constants import SOURCES_DIR
from tests.fixtures.airflow_db import write_and_load_dag

pytestmark = [pytest.mark.postgres, pytest.mark.airflow, pytest.mark.slow]

DAG_SOURCE = """\
from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG
from airflow.timetables.interval import CronDataIntervalTimetable

from atlas.operators.explore_to_chart import ExploreToChartOperator

with DAG(
    "{dag_id}",
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    tags=["test"],
):
    previous = None
    for entity in ("products", "orders", "order_lines"):
        task = ExploreToChartOperator(
            task_id=f"promote_{{entity}}", source_path="{source_path}", entity=entity
        )
        if previous is not None:
            previous >> task
        previous = task
"""

INTERVAL = Interval(dt.datetime(2026, 1, 5, tzinfo=dt.UTC), dt.datetime(2026, 1, 6, tzinfo=dt.UTC))

PAYLOADS = {
    "products": [
        {"product_id": 5, "sku": "SKU-000005", "name": "Kettle", "category": "kitchen",
         "unit_price": 19.9, "updated_at": "2026-01-05T08:00:00Z"},
    ],
    "orders": [
        {"order_id": 100, "customer_id": 1, "order_date": "2026-01-05", "status": "paid",
         "currency": "EUR", "updated_at": "2026-01-05T09:00:00Z"},
        {"order_id": 101, "customer_id": 1, "order_date": "2026-01-05", "status": "lost",
         "currency": "EUR", "updated_at": "2026-01-05T09:00:00Z"},
    ],
    "order_lines": [
        {"order_id": 100, "line_number": 1, "product_id": 5, "quantity": 2, "unit_price": 19.9,
         "order_date": "2026-01-05", "updated_at": "2026-01-05T09:00:00Z"},
        {"order_id": 101, "line_number": 1, "product_id": 5, "quantity": 1, "unit_price": 19.9,
         "order_date": "2026-01-05", "updated_at": "2026-01-05T09:00:00Z"},
    ],
}  # fmt: skip


def _land(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (INTERVAL.start,))
        for entity, payloads in PAYLOADS.items():
            batch = batch_id("shop", entity, INTERVAL)
            for payload in payloads:
                text = json.dumps(payload)
                conn.execute(
                    "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, "
                    "payload, payload_checksum) VALUES ('shop', %s, %s, %s, %s::jsonb, md5(%s::jsonb::text))",
                    (entity, batch, INTERVAL.start, text, text),
                )


def test_dag_promotes_each_entity_of_the_interval_in_reference_order(
    fresh_warehouse_dsn: str, airflow_db: Path, session_dirs
) -> None:
    """A real DAG run promotes the interval's batches; an invalid order takes its lines to quarantine."""
    _land(fresh_warehouse_dsn)
    dag = write_and_load_dag(
        session_dirs.test_dags,
        "h6a_promote",
        DAG_SOURCE.format(dag_id="h6a_promote", source_path=SOURCES_DIR / "shop.yaml"),
    )

    run = dag.test(logical_date=INTERVAL.end)
    assert run.state == "success"
    rerun = dag.test(logical_date=INTERVAL.end)
    assert rerun.state == "success"

    with psycopg.connect(fresh_warehouse_dsn) as conn:
        batches = conn.execute(
            "SELECT entity_name, rows_landed, rows_promoted, rows_rejected, status, dag_id "
            "FROM pipeline.batches ORDER BY entity_name"
        ).fetchall()
        quarantine = conn.execute(
            "SELECT entity_name, failed_rules FROM chart.quarantine ORDER BY entity_name"
        ).fetchall()
        lines = conn.execute("SELECT order_id, quantity FROM chart.shop__order_lines").fetchall()
    assert batches == [
        ("order_lines", 2, 1, 1, "promoted", "h6a_promote"),
        ("orders", 2, 1, 1, "promoted", "h6a_promote"),
        ("products", 1, 1, 0, "promoted", "h6a_promote"),
    ]
    assert quarantine == [
        ("order_lines", ["reference:orders(order_id)"]),
        ("orders", ["allowed_values:status"]),
    ]
    assert lines == [(100, 2)]
