"""The PostgreSQL connector against a real database filled by the shop generator."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import orjson
import psycopg
import pytest
from atlas_dev.sample.shop import generate_shop

from atlas.batches import Interval
from atlas.connectors.postgres.config import PostgresConnector, PostgresEntity
from atlas.connectors.postgres.reader import PostgresSourceConnector
from tests.fixtures.postgres import PgServer

START = dt.date(2026, 1, 1)
DAY2 = Interval(dt.datetime(2026, 1, 2, tzinfo=dt.UTC), dt.datetime(2026, 1, 3, tzinfo=dt.UTC))


@pytest.fixture
def shop_dsn(empty_db_dsn: str, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database holding three days of the shop sample; ``shop_source`` points at it."""
    generate_shop(empty_db_dsn, START, START + dt.timedelta(days=3))
    with psycopg.connect(empty_db_dsn) as conn:
        dbname = conn.info.dbname
    # the harness's URI form keeps a Unix-socket host (embedded server) in Airflow's host field
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_SOURCE", pg_server.airflow_uri(dbname))
    return empty_db_dsn


def orders_entity(**kwargs: object) -> PostgresEntity:
    """The orders entity of ``include/sources/shop.yaml`` (table unless overridden)."""
    options = {"table": "shop.orders"} | kwargs
    columns = [
        {"name": c} for c in ("order_id", "customer_id", "order_date", "status", "currency", "updated_at")
    ]
    return PostgresEntity(
        name="orders", key=["order_id"], watermark_column="updated_at", columns=columns, **options
    )


def rows_of(dsn: str, query: str, *params: object) -> list[tuple]:
    """Rows of a query on ``dsn``."""
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        return conn.execute(query, params).fetchall()


def test_extract_returns_the_interval_rows_ordered_by_watermark(shop_dsn: str) -> None:
    """Only rows with updated_at in [start, end) come back, ordered by updated_at then key."""
    connector = PostgresSourceConnector(
        PostgresConnector(conn_id="shop_source", fetch_size=100), chunk_rows=10
    )
    chunks = list(connector.extract(orders_entity(), DAY2))
    records = [r for c in chunks for r in c.records]
    expected = rows_of(
        shop_dsn,
        "SELECT order_id, updated_at FROM shop.orders WHERE updated_at >= %s AND updated_at < %s ORDER BY 2, 1",
        DAY2.start,
        DAY2.end,
    )
    assert [r["order_id"] for r, _ in records] == [row[0] for row in expected]
    assert max(len(c) for c in chunks) <= 10
    assert all("2026-01-02T" in r["updated_at"] for r, _ in records)
    assert records[0][1] == "shop.orders#1"
    orjson.dumps([r for r, _ in records])


def test_changed_rows_show_up_in_the_later_interval(shop_dsn: str) -> None:
    """An order placed on day 1 and updated on day 2 is extracted in day 2 with its new status."""
    connector = PostgresSourceConnector(PostgresConnector(conn_id="shop_source"))
    records = [r for c in connector.extract(orders_entity(), DAY2) for r, _ in c.records]
    moved = [r for r in records if r["order_date"] == "2026-01-01"]
    assert moved
    assert {r["status"] for r in moved} <= {"paid", "cancelled"}


def test_payload_values_are_json_text(shop_dsn: str) -> None:
    """Numerics become strings, dates ISO text: the payload survives orjson unchanged."""
    connector = PostgresSourceConnector(PostgresConnector(conn_id="shop_source"))
    entity = PostgresEntity(
        name="order_lines",
        table="shop.order_lines",
        watermark_column="updated_at",
        key=["order_id", "line_number"],
        columns=[{"name": "order_id"}, {"name": "line_number"}, {"name": "updated_at"}],
    )
    records = [r for c in connector.extract(entity, DAY2) for r, _ in c.records]
    first = records[0]
    assert isinstance(first["unit_price"], str)
    assert first["order_date"] == "2026-01-02"
    assert orjson.loads(orjson.dumps(first)) == first
    keys = [(r["updated_at"], r["order_id"], r["line_number"]) for r in records]
    assert keys == sorted(keys)


def test_query_entity_and_empty_interval(shop_dsn: str) -> None:
    """A ``query`` entity is wrapped as a subquery; an interval without rows yields no chunk."""
    connector = PostgresSourceConnector(PostgresConnector(conn_id="shop_source"))
    entity = orders_entity(
        table=None, query="SELECT order_id, status, updated_at FROM shop.orders WHERE status = 'paid'"
    )
    records = [r for c in connector.extract(entity, DAY2) for r, _ in c.records]
    assert records
    assert {r["status"] for r in records} == {"paid"}
    assert set(records[0]) == {"order_id", "status", "updated_at"}
    empty = Interval(dt.datetime(2030, 1, 1, tzinfo=dt.UTC), dt.datetime(2030, 1, 2, tzinfo=dt.UTC))
    assert list(connector.extract(orders_entity(), empty)) == []
