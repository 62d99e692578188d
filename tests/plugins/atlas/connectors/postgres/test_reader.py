"""The PostgreSQL connector against a real database filled by the shop generator."""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Iterator

import orjson
import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from atlas.batches import Interval
from atlas.connectors.postgres.config import PostgresConnector, PostgresEntity
from atlas.connectors.postgres.reader import PostgresSourceConnector
from atlas.exceptions import ConnectorError
from atlas_dev.embedded_pg import uri
from atlas_dev.sample.shop import generate_shop
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


def test_the_extract_runs_read_only_with_the_statement_timeout(shop_dsn: str) -> None:
    """The extract's transaction is READ ONLY and its statement_timeout is the connector's."""
    connector = PostgresSourceConnector(
        PostgresConnector(conn_id="shop_source", statement_timeout_seconds=90)
    )
    entity = orders_entity(
        table=None,
        query="SELECT o.*, current_setting('transaction_read_only') AS read_only, "
        "current_setting('statement_timeout') AS timeout FROM shop.orders o",
    )
    records = [r for c in connector.extract(entity, DAY2) for r, _ in c.records]
    assert records
    assert {(r["read_only"], r["timeout"]) for r in records} == {("on", "90s")}


@pytest.fixture
def touched(shop_dsn: str) -> Iterator[str]:
    """A table, a sequence and a volatile function that inserts (what a query must not change)."""
    with psycopg.connect(shop_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE public.touched (n integer)")
        conn.execute("CREATE SEQUENCE public.counter")
        conn.execute(
            "CREATE FUNCTION public.touch() RETURNS integer LANGUAGE sql VOLATILE "
            "AS $$ INSERT INTO public.touched VALUES (1) RETURNING n $$"
        )
    return shop_dsn


@pytest.mark.parametrize(
    ("query", "says"),
    [
        pytest.param(
            "WITH moved AS (UPDATE shop.orders SET status = 'stolen' RETURNING *) SELECT * FROM moved",
            "data-modifying statement",
            id="data-modifying-cte",
        ),
        pytest.param(
            "SELECT o.*, public.touch() AS t FROM shop.orders o",
            "cannot execute INSERT in a read-only transaction",
            id="volatile-function-that-inserts",
        ),
        pytest.param(
            "SELECT o.*, nextval('public.counter') AS n FROM shop.orders o",
            "cannot execute nextval() in a read-only transaction",
            id="nextval",
        ),
        pytest.param(
            "SELECT o.*, set_config('transaction_read_only', 'off', true) AS rw, public.touch() AS t "
            "FROM shop.orders o",
            "transaction read-write mode must be set before any query",
            id="switching-to-read-write",
        ),
    ],
)
def test_a_query_that_writes_fails_naming_the_entity(touched: str, query: str, says: str) -> None:
    """A query that writes fails with a ConnectorError naming the entity, and writes nothing."""
    connector = PostgresSourceConnector(PostgresConnector(conn_id="shop_source"))
    with pytest.raises(ConnectorError) as info:
        list(connector.extract(orders_entity(table=None, query=query), DAY2))
    message = str(info.value)
    assert message.startswith("orders: reading query:orders from 'shop_source' failed: ")
    assert says in message
    assert rows_of(touched, "SELECT count(*) FROM public.touched") == [(0,)]
    assert rows_of(touched, "SELECT count(*) FROM shop.orders WHERE status = 'stolen'") == [(0,)]
    assert rows_of(touched, "SELECT is_called FROM public.counter") == [(False,)]


def test_a_query_slower_than_the_timeout_is_cancelled(shop_dsn: str) -> None:
    """With statement_timeout_seconds 1, a query sleeping 5 s fails after about a second."""
    connector = PostgresSourceConnector(PostgresConnector(conn_id="shop_source", statement_timeout_seconds=1))
    entity = orders_entity(table=None, query="SELECT o.* FROM shop.orders o, pg_sleep(5) AS s")
    started = time.monotonic()
    with pytest.raises(ConnectorError) as info:
        list(connector.extract(entity, DAY2))
    assert time.monotonic() - started < 4
    assert (
        "orders: reading query:orders from 'shop_source' failed: canceling statement due to statement timeout"
        in str(info.value)
    )
    assert "ran longer than statement_timeout_seconds (1 s)" in str(info.value)


@pytest.fixture
def reader_role(shop_dsn: str, pg_server: PgServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A non-superuser LOGIN role allowed to read shop.orders; ``shop_reader`` connects as it."""
    role, password = f"atlas_reader_{secrets.token_hex(4)}", secrets.token_hex(16)
    with pg_server.admin() as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), password))
    try:
        with psycopg.connect(shop_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA shop TO {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("GRANT SELECT ON shop.orders TO {}").format(sql.Identifier(role)))
            dbname = conn.info.dbname
        params = conninfo_to_dict(pg_server.admin_dsn) | {
            "dbname": dbname,
            "user": role,
            "password": password,
        }
        monkeypatch.setenv("AIRFLOW_CONN_SHOP_READER", uri(params, host_in_authority=True))
        yield role
    finally:
        with psycopg.connect(shop_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        with pg_server.admin() as admin:
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_a_read_only_role_cannot_read_server_files(reader_role: str) -> None:
    """pg_read_file is stopped only by the role's rights: a plain LOGIN role gets permission denied."""
    connector = PostgresSourceConnector(PostgresConnector(conn_id="shop_reader"))
    assert [r for c in connector.extract(orders_entity(), DAY2) for r, _ in c.records]
    entity = orders_entity(
        table=None, query="SELECT o.*, pg_read_file('/etc/passwd') AS leak FROM shop.orders o"
    )
    with pytest.raises(ConnectorError) as info:
        list(connector.extract(entity, DAY2))
    message = str(info.value)
    assert message.startswith("orders: reading query:orders from 'shop_reader' failed: ")
    assert "permission denied for function pg_read_file" in message
    assert "a source's role should be read-only" in message
