"""The navigate dbt project run for real (dbt as a subprocess) on chart tables filled here.

The project is a private copy with the models generated from the sample sources (``project.py``),
so these tests never depend on what ``make setup`` last generated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from atlas.dbt.rules import hashed_columns, is_masked, mask_entity
from tests.fixtures.hostile import HOSTILE_TEXTS
from tests.fixtures.warehouse import clone_warehouse
from tests.include.atlas_dbt.chart_tables import (
    create_chart_tables,
    day,
    interval_env,
    interval_vars,
    promote,
    query,
    run_dbt,
    sample_sources,
)

pytestmark = [pytest.mark.postgres, pytest.mark.dbt, pytest.mark.slow(seconds=115)]

SOURCES = sample_sources()
UTC = dt.UTC
DAY1, DAY2 = day(2026, 1, 5), day(2026, 1, 6)


def customer(customer_id: int, **changes: object) -> dict[str, object]:
    """A valid crm customer row."""
    row: dict[str, object] = {
        "customer_id": customer_id,
        "first_name": "Jane",
        "last_name": "Doe",
        "email": f"jane.doe{customer_id}@example.com",
        "phone": "+44 20 7946 0958",
        "street": "1 Main Street",
        "city": "London",
        "postal_code": "N1 9GU",
        "country": "GB",
        "birth_date": dt.date(1984, 7, 21),
        "updated_at": dt.datetime(2026, 1, 5, 9, tzinfo=UTC),
    }
    row.update(changes)
    return row


def order(order_id: int, order_date: dt.date, **changes: object) -> dict[str, object]:
    """A valid shop order row."""
    row: dict[str, object] = {
        "order_id": order_id,
        "customer_id": 1,
        "order_date": order_date,
        "status": "paid",
        "currency": "EUR",
        "updated_at": dt.datetime(2026, 1, 5, 9, tzinfo=UTC),
    }
    row.update(changes)
    return row


def line(order_id: int, line_number: int, order_date: dt.date, product_id: int = 10) -> dict[str, object]:
    """A valid shop order line row."""
    return {
        "order_id": order_id,
        "line_number": line_number,
        "product_id": product_id,
        "quantity": 2,
        "unit_price": 12.5,
        "order_date": order_date,
        "updated_at": dt.datetime(2026, 1, 5, 9, tzinfo=UTC),
    }


def product(product_id: int, **changes: object) -> dict[str, object]:
    """A valid shop product row."""
    row: dict[str, object] = {
        "product_id": product_id,
        "sku": f"SKU-{product_id:06d}",
        "name": "A book",
        "category": "books",
        "unit_price": 12.5,
        "updated_at": dt.datetime(2026, 1, 5, 9, tzinfo=UTC),
    }
    row.update(changes)
    return row


def ticket(ticket_id: int, opened_at: dt.datetime, **changes: object) -> dict[str, object]:
    """A valid support ticket row."""
    row: dict[str, object] = {
        "ticket_id": ticket_id,
        "customer_id": 1,
        "opened_at": opened_at,
        "channel": "email",
        "priority": "normal",
        "status": "open",
        "subject": "Where is my parcel?",
        "body": "Hello, this is Jane Doe, my parcel never arrived.",
        "updated_at": opened_at,
    }
    row.update(changes)
    return row


def fill(dsn: str, source: str, entity: str, rows: list[dict[str, object]], interval=DAY1) -> None:
    """Promote ``rows`` into the chart table of ``source.entity`` for ``interval``."""
    with psycopg.connect(dsn) as conn:
        promote(conn, SOURCES[source], entity, rows, interval)


def build(dsn: str, work: Path, source: str, interval=None) -> None:
    """``dbt build`` the source's nodes for ``interval`` (all chart rows when None); must pass."""
    result = run_dbt(
        dsn,
        work,
        "build",
        "--select",
        f"tag:source_{source}",
        dbt_vars=interval_vars(interval) if interval else None,
    )
    assert result.returncode == 0, result.stdout[-6000:]


@pytest.fixture(scope="module")
def built_dsn(sample_project, pg_server, warehouse_template, tmp_path_factory) -> Iterator[str]:
    """A warehouse whose chart tables hold sample rows of every source, navigate built from them."""
    name, dsn = clone_warehouse(pg_server, warehouse_template)
    try:
        with psycopg.connect(dsn) as conn:
            create_chart_tables(conn, SOURCES.values())
        fill(dsn, "crm", "customers", [customer(1), customer(2, phone=None, email="x@example.org")])
        fill(dsn, "shop", "products", [product(10), product(11, category="toys")])
        fill(dsn, "shop", "orders", [order(100, dt.date(2025, 12, 31)), order(101, dt.date(2026, 1, 5))])
        fill(
            dsn,
            "shop",
            "order_lines",
            [line(100, 1, dt.date(2025, 12, 31)), line(101, 1, dt.date(2026, 1, 5), 11)],
        )
        fill(
            dsn,
            "support",
            "tickets",
            [
                ticket(1, dt.datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),
                ticket(2, dt.datetime(2026, 1, 1, tzinfo=UTC)),
            ],
        )
        result = run_dbt(dsn, tmp_path_factory.mktemp("dbt"), "build")
        assert result.returncode == 0, result.stdout[-6000:]
        yield dsn
    finally:
        pg_server.drop_database(name)


def versions(dsn: str, customer_id: int) -> list[tuple]:
    """(email, street, valid_from, valid_to, is_current, change_hash) of a customer, oldest first."""
    return query(
        dsn,
        "SELECT email, street, valid_from, valid_to, is_current, change_hash FROM navigate.dim_customer "
        "WHERE customer_id = %s ORDER BY valid_from",
        [customer_id],
    )


def hostile_customers() -> list[dict[str, object]]:
    """Customers 100.. whose unruled text attributes (no pattern or allowed values) are hostile text."""
    texts = list(HOSTILE_TEXTS)
    return [
        customer(
            100 + i,
            first_name=text,
            last_name=texts[-1 - i],
            street=text or None,
            city=text[:3],
            postal_code=text,
        )
        for i, text in enumerate(texts)
    ]


def unequal_change_hashes(dsn: str) -> list[tuple]:
    """dim_customer versions whose (dbt-built) change_hash is not pipeline.change_hash of chart's attributes,
    or not the keyed hash of the row of them (the expression before V030, so stored hashes stay valid)."""
    attributes = ", ".join(f"c.{name}::text" for name in hashed_columns(SOURCES["crm"].entity("customers")))
    return query(
        dsn,
        "SELECT d.customer_id FROM navigate.dim_customer AS d JOIN chart.crm__customers AS c USING (customer_id)"
        f" WHERE d.is_current AND (d.change_hash IS DISTINCT FROM pipeline.change_hash(row({attributes}))"
        f" OR d.change_hash IS DISTINCT FROM pipeline.keyed_hash(row({attributes})::text))",
    )


def test_changed_attribute_creates_a_version_and_closes_the_old_one(chart_dsn, tmp_path):
    """A change, even one the mask hides, adds a version; unchanged re-runs and backfills add none.
    The change hash dbt builds is pipeline.change_hash's, for hostile attribute values too."""
    fill(chart_dsn, "crm", "customers", [customer(1), customer(2), *hostile_customers()], DAY1)
    build(chart_dsn, tmp_path, "crm", DAY1)
    assert len(versions(chart_dsn, 1)) == 1
    assert query(chart_dsn, "SELECT count(*) FROM navigate.dim_customer")[0][0] == 2 + len(HOSTILE_TEXTS)
    assert unequal_change_hashes(chart_dsn) == []

    # the street is masked to *** either way: only the hash of the unmasked value sees the change
    fill(chart_dsn, "crm", "customers", [customer(1, street="2 Other Road")], DAY2)
    build(chart_dsn, tmp_path, "crm", DAY2)
    old, new = versions(chart_dsn, 1)
    assert old[1] == new[1] == "***"
    assert old[5] != new[5]
    assert old[3] is not None
    assert old[4] is False
    assert new[3] is None
    assert new[4] is True
    assert old[3] == new[2], "the old version ends where the new one starts"

    build(chart_dsn, tmp_path, "crm", DAY2)  # re-run of the same interval
    build(chart_dsn, tmp_path, "crm", DAY1)  # backfill of the earlier interval
    assert [v[2] for v in versions(chart_dsn, 1)] == [old[2], new[2]]
    assert len(versions(chart_dsn, 2)) == 1
    assert query(chart_dsn, "SELECT count(*) FROM navigate.dim_customer")[0][0] == 3 + len(HOSTILE_TEXTS)


def test_facts_land_in_yearly_partitions_and_reruns_never_duplicate(chart_dsn, tmp_path):
    """Orders of two years sit in two partitions; re-runs replace rows by key, also across years."""
    fill(chart_dsn, "shop", "products", [product(10)])
    fill(chart_dsn, "shop", "orders", [order(100, dt.date(2025, 12, 31)), order(101, dt.date(2026, 1, 5))])
    fill(
        chart_dsn,
        "shop",
        "order_lines",
        [line(100, 1, dt.date(2025, 12, 31)), line(100, 2, dt.date(2025, 12, 31))],
    )
    build(chart_dsn, tmp_path, "shop", DAY1)
    build(chart_dsn, tmp_path, "shop", DAY1)

    placed = "SELECT order_id, tableoid::regclass::text, status FROM navigate.fact_orders ORDER BY order_id"
    assert query(chart_dsn, placed) == [
        (100, "navigate.fact_orders_p2025", "paid"),
        (101, "navigate.fact_orders_p2026", "paid"),
    ]
    assert query(chart_dsn, "SELECT count(*) FROM navigate.fact_order_lines") == [(2,)]
    assert query(
        chart_dsn,
        "SELECT count(*) FROM navigate.fact_order_lines AS l JOIN navigate.dim_product AS p "
        "ON p.product_key = l.product_key AND p.is_current",
    ) == [(2,)]

    # the order changes in the same interval and moves to another year: replaced, not duplicated
    fill(chart_dsn, "shop", "orders", [order(101, dt.date(2025, 6, 1), status="shipped")])
    build(chart_dsn, tmp_path, "shop", DAY1)
    assert query(chart_dsn, placed) == [
        (100, "navigate.fact_orders_p2025", "paid"),
        (101, "navigate.fact_orders_p2025", "shipped"),
    ]
    assert query(chart_dsn, "SELECT count(*) FROM navigate.fact_order_lines") == [(2,)]


def test_a_run_processes_only_its_interval(chart_dsn, tmp_path):
    """With interval vars only chart rows of that interval are loaded; without, all of them."""
    fill(chart_dsn, "support", "tickets", [ticket(1, dt.datetime(2026, 1, 5, 8, tzinfo=UTC))], DAY1)
    fill(chart_dsn, "support", "tickets", [ticket(2, dt.datetime(2026, 1, 6, 8, tzinfo=UTC))], DAY2)
    build(chart_dsn, tmp_path, "support", DAY1)
    loaded = "SELECT ticket_id FROM navigate.fact_support_tickets ORDER BY ticket_id"
    assert query(chart_dsn, loaded) == [(1,)]
    build(chart_dsn, tmp_path, "support")
    assert query(chart_dsn, loaded) == [(1,), (2,)]


@pytest.mark.parametrize(
    ("source", "entity", "relation", "key"),
    [
        pytest.param("crm", "customers", "navigate.dim_customer", "customer_id", id="dim_customer"),
        pytest.param("crm", "customers", "navigate.crm__customers", "customer_id", id="crm__customers"),
        pytest.param(
            "support", "tickets", "navigate.fact_support_tickets", "ticket_id", id="fact_support_tickets"
        ),
        pytest.param("support", "tickets", "navigate.support__tickets", "ticket_id", id="support__tickets"),
    ],
)
def test_personal_data_is_masked_in_navigate(built_dsn, source, entity, relation, key):
    """Every column whose classification asks for it holds compliance.mask(chart value, entity, classification)."""
    masked_columns = [c for c in SOURCES[source].entity(entity).columns if is_masked(c)]
    assert masked_columns
    for column in masked_columns:
        rows = query(
            built_dsn,
            f"SELECT n.{column.name}, compliance.mask(c.{column.name}::text, %s, %s), c.{column.name}::text "
            f"FROM {relation} AS n JOIN chart.{source}__{entity} AS c USING ({key})",
            [mask_entity(column), str(column.classification)],
        )
        assert rows
        for navigate_value, masked, raw in rows:
            assert navigate_value == masked, column.name
            assert raw is None or navigate_value != raw, f"{relation}.{column.name} is not masked"


@pytest.mark.parametrize(
    ("source", "entity"),
    [pytest.param(s, e.name, id=f"{s}__{e.name}") for s in SOURCES for e in SOURCES[s].entities],
)
def test_current_states_show_chart_with_personal_data_masked(built_dsn, source, entity):
    """Each entity's current state has every chart row once; an unmasked column equals chart exactly."""
    config = SOURCES[source].entity(entity)
    plain = [c.name for c in config.columns if not is_masked(c)] + ["_batch_id", "_interval_start"]
    columns = ", ".join(plain)
    chart_rows = query(built_dsn, f"SELECT {columns} FROM chart.{source}__{entity} ORDER BY 1, 2")
    assert chart_rows
    assert query(built_dsn, f"SELECT {columns} FROM navigate.{source}__{entity} ORDER BY 1, 2") == chart_rows
    shown = {
        r[0]
        for r in query(
            built_dsn,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'navigate' AND table_name = %s",
            [f"{source}__{entity}"],
        )
    }
    assert not shown & {"_record_key", "_payload_checksum", "_change_hash"}, "unmasked data in a digest"


def test_change_hash_is_the_keyed_hash_of_the_unmasked_attributes(built_dsn):
    """dim_customer's change_hash is pipeline.keyed_hash of the row of chart attributes (key and updated_at left out)."""
    attributes = hashed_columns(SOURCES["crm"].entity("customers"))
    assert attributes == [
        "first_name", "last_name", "email", "phone", "street", "city", "postal_code", "country", "birth_date"
    ]  # fmt: skip
    row = ", ".join(f"c.{name}::text" for name in attributes)
    mismatched = query(
        built_dsn,
        f"SELECT d.customer_id FROM navigate.dim_customer AS d JOIN chart.crm__customers AS c USING (customer_id) "
        f"WHERE d.change_hash IS DISTINCT FROM pipeline.keyed_hash(row({row})::text)",
    )
    assert mismatched == []
    assert query(built_dsn, "SELECT count(*) FROM navigate.dim_customer") == [(2,)]


def test_timestamps_partition_by_utc_year(built_dsn):
    """A ticket opened at 23:30 UTC on 31 December lands in that year's partition."""
    assert query(
        built_dsn, "SELECT ticket_id, tableoid::regclass::text FROM navigate.fact_support_tickets ORDER BY 1"
    ) == [(1, "navigate.fact_support_tickets_p2025"), (2, "navigate.fact_support_tickets_p2026")]


def test_is_current_is_generated_from_valid_to(built_dsn):
    """dim tables carry is_current as a stored generated column next to valid_from / valid_to."""
    rows = query(
        built_dsn,
        "SELECT table_name, is_generated, generation_expression FROM information_schema.columns "
        "WHERE table_schema = 'navigate' AND column_name = 'is_current' ORDER BY table_name",
    )
    assert [(r[0], r[1]) for r in rows] == [("dim_customer", "ALWAYS"), ("dim_product", "ALWAYS")]
    assert all("valid_to IS NULL" in r[2] for r in rows)


def test_a_failing_dbt_test_fails_the_build(chart_dsn, tmp_path):
    """An order status outside the accepted values fails dbt build with a non-zero exit."""
    fill(chart_dsn, "shop", "products", [product(10)])
    fill(chart_dsn, "shop", "orders", [order(100, dt.date(2026, 1, 5), status="lost")])
    result = run_dbt(
        chart_dsn, tmp_path, "build", "--select", "tag:source_shop", dbt_vars=interval_vars(DAY1)
    )
    assert result.returncode != 0
    assert "FAIL 1 accepted_values_shop__orders__status" in result.stdout
    assert "SKIP relation navigate.fact_orders" in result.stdout, (
        "the fact waits for the current state's tests"
    )


def test_the_dags_interval_comes_from_the_environment_and_keeps_the_partial_parse(chart_dsn, tmp_path):
    """ATLAS_INTERVAL_START/END select the interval like the vars; a second interval parses partially."""
    fill(chart_dsn, "support", "tickets", [ticket(1, dt.datetime(2026, 1, 5, 8, tzinfo=UTC))], DAY1)
    fill(chart_dsn, "support", "tickets", [ticket(2, dt.datetime(2026, 1, 6, 8, tzinfo=UTC))], DAY2)
    loaded = "SELECT ticket_id FROM navigate.fact_support_tickets ORDER BY ticket_id"
    outputs = []
    for interval, expected in ((DAY1, [(1,)]), (DAY2, [(1,), (2,)])):
        result = run_dbt(
            chart_dsn, tmp_path, "build", "--select", "tag:source_support", env=interval_env(interval)
        )
        assert result.returncode == 0, result.stdout[-6000:]
        assert query(chart_dsn, loaded) == expected
        outputs.append(result.stdout)
    assert "Unable to do partial parsing" not in outputs[1], outputs[1][-3000:]
    # a manual run's vars win over the environment (which Cosmos leaves set in its process)
    result = run_dbt(
        chart_dsn,
        tmp_path,
        "compile",
        "--select",
        "fact_support_tickets",
        dbt_vars=interval_vars(DAY2),
        env=interval_env(DAY1),
    )
    assert result.returncode == 0, result.stdout[-6000:]
    compiled = next((tmp_path / "target" / "compiled").rglob("fact_support_tickets.sql")).read_text()
    assert "2026-01-06T00:00:00+00:00" in compiled
    assert "2026-01-05T00:00:00+00:00" not in compiled


@pytest.mark.parametrize(
    "dbt_vars",
    [
        pytest.param(
            {"interval_start": "2026-01-05'; drop table x; --", "interval_end": "2026-01-06T00:00:00+00:00"},
            id="not-a-timestamp",
        ),
        pytest.param(
            {"interval_start": "2026-01-05T00:00:00", "interval_end": "2026-01-06T00:00:00"}, id="no-offset"
        ),
        pytest.param({"interval_start": "2026-01-05T00:00:00+00:00"}, id="one-bound"),
    ],
)
def test_bad_interval_vars_are_refused(chart_dsn, tmp_path, dbt_vars):
    """Interval vars that are not two offset-aware ISO timestamps stop dbt before any SQL runs."""
    result = run_dbt(chart_dsn, tmp_path, "compile", "--select", "fact_orders", dbt_vars=dbt_vars)
    assert result.returncode != 0
    assert "interval_filter" in result.stdout
