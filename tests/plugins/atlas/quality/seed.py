"""A shop interval landed and promoted for real, for the quality tests to dirty on purpose."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import psycopg

from atlas.batches import Interval, batch_id
from atlas.config import SourceConfig
from atlas.hooks.chart import ChartHook

INTERVAL = Interval(dt.datetime(2026, 1, 5, tzinfo=dt.UTC), dt.datetime(2026, 1, 6, tzinfo=dt.UTC))

PAYLOADS: dict[str, list[dict[str, Any]]] = {
    "products": [
        {"product_id": 5, "sku": "SKU-000005", "name": "Kettle", "category": "kitchen",
         "unit_price": 19.9, "updated_at": "2026-01-05T08:00:00Z"},
        {"product_id": 6, "sku": "SKU-000006", "name": "Spade", "category": "garden",
         "unit_price": 9.5, "updated_at": "2026-01-05T08:00:00Z"},
    ],
    "orders": [
        {"order_id": 100, "customer_id": 1, "order_date": "2026-01-05", "status": "paid",
         "currency": "EUR", "updated_at": "2026-01-05T09:00:00Z"},
        {"order_id": 101, "customer_id": 2, "order_date": "2026-01-05", "status": "placed",
         "currency": "GBP", "updated_at": "2026-01-05T09:00:00Z"},
        {"order_id": 102, "customer_id": 2, "order_date": "2026-01-05", "status": "lost",
         "currency": "GBP", "updated_at": "2026-01-05T09:00:00Z"},
    ],
    "order_lines": [
        {"order_id": 100, "line_number": 1, "product_id": 5, "quantity": 2, "unit_price": 19.9,
         "order_date": "2026-01-05", "updated_at": "2026-01-05T09:00:00Z"},
        {"order_id": 100, "line_number": 2, "product_id": 6, "quantity": 1, "unit_price": 9.5,
         "order_date": "2026-01-05", "updated_at": "2026-01-05T09:00:00Z"},
        {"order_id": 101, "line_number": 1, "product_id": 5, "quantity": 3, "unit_price": 19.9,
         "order_date": "2026-01-05", "updated_at": "2026-01-05T09:00:00Z"},
    ],
}  # fmt: skip
"""Clean except order 102 (status ``lost``), which promotion quarantines."""


def land_and_promote(dsn: str, config: SourceConfig, interval: Interval = INTERVAL) -> None:
    """Land :data:`PAYLOADS` in ``explore.raw_data`` and promote every entity with ``ChartHook``."""
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (interval.start,))
        for entity, payloads in PAYLOADS.items():
            batch = batch_id(config.name, entity, interval)
            key = config.entity(entity).key
            for payload in payloads:
                text = json.dumps(payload)
                conn.execute(
                    "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, "
                    "record_key, payload, payload_checksum) "
                    "VALUES (%s, %s, %s, %s, %s, %s::jsonb, md5(%s::jsonb::text))",
                    (
                        config.name,
                        entity,
                        batch,
                        interval.start,
                        "|".join(str(payload[k]) for k in key),
                        text,
                        text,
                    ),
                )
    hook = ChartHook()
    for entity in PAYLOADS:
        hook.promote(config, entity, interval, dag_id="test", run_id="test_run")


def execute(dsn: str, *statements: str) -> None:
    with psycopg.connect(dsn) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]
