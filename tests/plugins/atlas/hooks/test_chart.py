"""ChartHook.promote against a real migrated warehouse: rules, quarantine, upserts, reconciliation."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atlas.batches import Interval, batch_id
from atlas.config import Column, ColumnType, SourceConfig, load_source
from atlas.connectors.base import Chunk
from atlas.constants import SOURCES_DIR
from atlas.dsr.targets import ERASED_TEXT
from atlas.exceptions import PromotionError
from atlas.hooks.chart import ChartHook
from atlas.hooks.warehouse import WarehouseHook
from tests.fixtures.sources import files_source

pytestmark = [pytest.mark.postgres]

CRM = load_source(SOURCES_DIR / "crm.yaml")
SHOP = load_source(SOURCES_DIR / "shop.yaml")
DAY1 = Interval(dt.datetime(2026, 1, 5, tzinfo=dt.UTC), dt.datetime(2026, 1, 6, tzinfo=dt.UTC))
DAY2 = Interval(dt.datetime(2026, 1, 6, tzinfo=dt.UTC), dt.datetime(2026, 1, 7, tzinfo=dt.UTC))


def customer(ident: Any = 1, **overrides: Any) -> dict[str, Any]:
    """A valid crm customer payload, with overrides (None removes the key)."""
    row = {
        "customer_id": str(ident),
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": f"ada{ident}@example.com",
        "phone": "+44 20 7946 0958",
        "street": "1 Main St",
        "city": "London",
        "postal_code": "N1",
        "country": "GB",
        "birth_date": "1985-12-10",
        "updated_at": "2026-01-05T10:00:00Z",
    }
    row.update(overrides)
    return {k: v for k, v in row.items() if v is not None}


def land(dsn: str, source: str, entity: str, interval: Interval, payloads: list[dict[str, Any]]) -> uuid.UUID:
    """Land payloads as the batch of (source, entity, interval), replacing it, as landing would."""
    batch = batch_id(source, entity, interval)
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (interval.start,))
        conn.execute("DELETE FROM explore.raw_data WHERE batch_id = %s", (batch,))
        for payload in payloads:
            text = json.dumps(payload)
            conn.execute(
                "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, "
                "record_key, payload, payload_checksum) "
                "VALUES (%s, %s, %s, %s, NULL, %s::jsonb, md5(%s::jsonb::text))",
                (source, entity, batch, interval.start, text, text),
            )
        conn.execute(
            "INSERT INTO pipeline.batches AS b (batch_id, source_name, entity_name, interval_start, "
            "interval_end, rows_read, rows_landed, rows_quarantined, landed_at, status) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 0, now(), 'landed') "
            "ON CONFLICT (batch_id) DO UPDATE SET rows_read = EXCLUDED.rows_read, "
            "rows_landed = EXCLUDED.rows_landed, rows_promoted = NULL, rows_rejected = NULL, "
            "promoted_at = NULL, status = 'landed'",
            (batch, source, entity, interval.start, interval.end, len(payloads), len(payloads)),
        )
    return batch


def fetch(dsn: str, query: str, *params: Any) -> list[tuple]:
    """All rows of a query."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def quarantined_rules(dsn: str, batch: uuid.UUID) -> list[list[str]]:
    """failed_rules of the batch's chart quarantine rows, in raw order."""
    return [
        r[0]
        for r in fetch(
            dsn, "SELECT failed_rules FROM chart.quarantine WHERE batch_id = %s ORDER BY raw_id", batch
        )
    ]


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        pytest.param({"last_name": ""}, "required:last_name", id="required-empty"),
        pytest.param({"first_name": None}, "required:first_name", id="required-missing"),
        pytest.param({"country": "   "}, "required:country", id="required-blank"),
        pytest.param({"birth_date": "1990-02-30"}, "type:birth_date(date)", id="type-date"),
        pytest.param({"updated_at": "yesterday"}, "type:updated_at(timestamp)", id="type-timestamp"),
        pytest.param({"customer_id": "12a"}, "type:customer_id(bigint)", id="type-bigint"),
        pytest.param({"email": "not-an-email"}, "pattern:email", id="pattern"),
        pytest.param({"birth_date": "1850-01-01"}, "range:birth_date", id="range-min"),
        pytest.param({"birth_date": "2020-01-01"}, "range:birth_date", id="range-max"),
        pytest.param({"country": "XX"}, "allowed_values:country", id="allowed-values"),
        pytest.param({"customer_id": None}, "key:customer_id", id="key-missing"),
    ],
)
def test_row_violating_a_rule_is_quarantined_with_that_rule(
    fresh_warehouse_dsn: str, overrides: dict[str, Any], rule: str
) -> None:
    """A row breaking one rule lands in chart.quarantine naming the rule; the valid row is promoted."""
    batch = land(fresh_warehouse_dsn, "crm", "customers", DAY1, [customer(1), customer(2, **overrides)])
    result = ChartHook().promote(CRM, "customers", DAY1)

    assert (result.rows_promoted, result.rows_rejected) == (1, 1)
    [rules] = quarantined_rules(fresh_warehouse_dsn, batch)
    assert rule in rules
    assert fetch(fresh_warehouse_dsn, "SELECT customer_id FROM chart.crm__customers") == [(1,)]
    [(payload, raw_id)] = fetch(fresh_warehouse_dsn, "SELECT payload, raw_id FROM chart.quarantine")
    assert payload == customer(2, **overrides)
    assert raw_id is not None


def test_an_erased_personal_value_passes_the_text_rules_but_not_elsewhere(fresh_warehouse_dsn: str) -> None:
    """[erased] in personal columns with a pattern (email, phone) is promoted as erasure leaves it;
    in a column that is not personal (country, allowed_values) it is still quarantined."""
    erased = customer(2, email=ERASED_TEXT, phone=ERASED_TEXT, first_name=ERASED_TEXT)
    batch = land(fresh_warehouse_dsn, "crm", "customers", DAY1, [erased, customer(3, country=ERASED_TEXT)])
    result = ChartHook().promote(CRM, "customers", DAY1)

    assert (result.rows_promoted, result.rows_rejected) == (1, 1)
    assert quarantined_rules(fresh_warehouse_dsn, batch) == [["allowed_values:country"]]
    assert fetch(fresh_warehouse_dsn, "SELECT customer_id, email, phone FROM chart.crm__customers") == [
        (2, ERASED_TEXT, ERASED_TEXT)
    ]


def test_every_failed_rule_of_a_row_is_listed(fresh_warehouse_dsn: str) -> None:
    """A row breaking several rules lists all of them, in column order."""
    bad = customer(7, last_name="", email="nope", country="ZZ", birth_date="1800-13-01", updated_at="soon")
    batch = land(fresh_warehouse_dsn, "crm", "customers", DAY1, [bad])
    ChartHook().promote(CRM, "customers", DAY1)

    assert quarantined_rules(fresh_warehouse_dsn, batch) == [
        [
            "required:last_name",
            "pattern:email",
            "allowed_values:country",
            "type:birth_date(date)",
            "type:updated_at(timestamp)",
        ]
    ]


def test_valid_rows_reach_chart_typed_with_metadata(fresh_warehouse_dsn: str) -> None:
    """Promoted values carry their declared types, trimmed; metadata columns name the batch and raw row."""
    batch = land(
        fresh_warehouse_dsn, "crm", "customers", DAY1, [customer(42, city="  Paris ", phone="", street=None)]
    )
    ChartHook().promote(CRM, "customers", DAY1)

    [row] = fetch(
        fresh_warehouse_dsn,
        "SELECT customer_id, city, phone, street, birth_date, updated_at, _record_key, _batch_id, "
        "_interval_start, _raw_id IS NOT NULL, _payload_checksum ~ '^[0-9a-f]{32}$' FROM chart.crm__customers",
    )
    assert row == (
        42,
        "Paris",
        None,
        None,
        dt.date(1985, 12, 10),
        dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC),
        "42",
        batch,
        DAY1.start,
        True,
        True,
    )
    types = dict(
        fetch(
            fresh_warehouse_dsn,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'chart' AND table_name = 'crm__customers'",
        )
    )
    assert types["customer_id"] == "bigint"
    assert types["birth_date"] == "date"
    assert types["updated_at"] == "timestamp with time zone"
    assert types["_batch_id"] == "uuid"


def test_counts_reconcile_in_pipeline_batches(fresh_warehouse_dsn: str) -> None:
    """rows_landed = rows_promoted + rows_rejected, counting rows (a duplicate key counts as promoted)."""
    rows = [customer(1), customer(2), customer(2, city="Leeds"), customer(3, country="XX"), customer("x")]
    batch = land(fresh_warehouse_dsn, "crm", "customers", DAY1, rows)
    result = ChartHook().promote(CRM, "customers", DAY1)

    [(landed, promoted, rejected, status, promoted_at)] = fetch(
        fresh_warehouse_dsn,
        "SELECT rows_landed, rows_promoted, rows_rejected, status, promoted_at FROM pipeline.batches "
        "WHERE batch_id = %s",
        batch,
    )
    assert (landed, promoted, rejected, status) == (5, 3, 2, "promoted")
    assert promoted_at is not None
    assert (result.rows_landed, result.rows_promoted, result.rows_rejected, result.rows_written) == (
        5,
        3,
        2,
        2,
    )
    assert fetch(fresh_warehouse_dsn, "SELECT count(*) FROM chart.quarantine") == [(2,)]
    # within the batch the last record of a key (by raw_id) wins
    assert fetch(fresh_warehouse_dsn, "SELECT city FROM chart.crm__customers WHERE customer_id = 2") == [
        ("Leeds",)
    ]


def test_rerunning_the_batch_changes_nothing(fresh_warehouse_dsn: str) -> None:
    """A second promotion of the same batch leaves chart, quarantine and counts exactly as they were."""
    land(fresh_warehouse_dsn, "crm", "customers", DAY1, [customer(1), customer(2, email="bad"), customer(3)])
    hook = ChartHook()
    hook.promote(CRM, "customers", DAY1)
    chart_before = fetch(fresh_warehouse_dsn, "SELECT * FROM chart.crm__customers ORDER BY customer_id")
    quarantine_before = fetch(fresh_warehouse_dsn, "SELECT raw_id, failed_rules FROM chart.quarantine")

    again = hook.promote(CRM, "customers", DAY1)

    assert (
        fetch(fresh_warehouse_dsn, "SELECT * FROM chart.crm__customers ORDER BY customer_id") == chart_before
    )
    assert (
        fetch(fresh_warehouse_dsn, "SELECT raw_id, failed_rules FROM chart.quarantine") == quarantine_before
    )
    assert (again.rows_promoted, again.rows_rejected, again.rows_written) == (2, 1, 0)


def test_later_batch_overwrites_a_key(fresh_warehouse_dsn: str) -> None:
    """A newer interval's record of a key replaces the older one."""
    land(fresh_warehouse_dsn, "crm", "customers", DAY1, [customer(1, city="Old")])
    ChartHook().promote(CRM, "customers", DAY1)
    batch2 = land(fresh_warehouse_dsn, "crm", "customers", DAY2, [customer(1, city="New")])
    ChartHook().promote(CRM, "customers", DAY2)

    assert fetch(fresh_warehouse_dsn, "SELECT city, _batch_id FROM chart.crm__customers") == [("New", batch2)]


def test_late_older_batch_does_not_overwrite_but_inserts_new_keys(fresh_warehouse_dsn: str) -> None:
    """Promoting an older interval after a newer one keeps the newer value and adds only new keys."""
    land(fresh_warehouse_dsn, "crm", "customers", DAY2, [customer(1, city="Newer")])
    ChartHook().promote(CRM, "customers", DAY2)
    land(fresh_warehouse_dsn, "crm", "customers", DAY1, [customer(1, city="Older"), customer(9, city="Late")])
    late = ChartHook().promote(CRM, "customers", DAY1)

    assert fetch(fresh_warehouse_dsn, "SELECT customer_id, city FROM chart.crm__customers ORDER BY 1") == [
        (1, "Newer"),
        (9, "Late"),
    ]
    assert (late.rows_promoted, late.rows_written) == (2, 1)


def test_keys_no_longer_in_a_rerun_batch_are_removed(fresh_warehouse_dsn: str) -> None:
    """Re-landing an interval with fewer valid rows removes the keys that batch promoted before."""
    land(fresh_warehouse_dsn, "crm", "customers", DAY1, [customer(1), customer(2), customer(3)])
    ChartHook().promote(CRM, "customers", DAY1)
    land(fresh_warehouse_dsn, "crm", "customers", DAY1, [customer(1), customer(2, country="XX")])
    result = ChartHook().promote(CRM, "customers", DAY1)

    assert fetch(fresh_warehouse_dsn, "SELECT customer_id FROM chart.crm__customers") == [(1,)]
    assert result.rows_removed == 2
    assert fetch(fresh_warehouse_dsn, "SELECT count(*) FROM chart.quarantine") == [(1,)]


def order(order_id: int) -> dict[str, Any]:
    """A valid shop order payload."""
    return {
        "order_id": order_id,
        "customer_id": 1,
        "order_date": "2026-01-05",
        "status": "paid",
        "currency": "EUR",
        "updated_at": "2026-01-05T09:00:00+01:00",
    }


def order_line(order_id: int, line: int, product_id: int = 5, quantity: Any = 2) -> dict[str, Any]:
    """A shop order line payload (JSON numbers, as the postgres connector lands them)."""
    return {
        "order_id": order_id,
        "line_number": line,
        "product_id": product_id,
        "quantity": quantity,
        "unit_price": 9.99,
        "order_date": "2026-01-05",
        "updated_at": "2026-01-05T09:00:00Z",
    }


def product(product_id: int) -> dict[str, Any]:
    """A valid shop product payload."""
    return {
        "product_id": product_id,
        "sku": f"SKU-{product_id:06d}",
        "name": "Kettle",
        "category": "kitchen",
        "unit_price": "19.90",
        "updated_at": "2026-01-05T08:00:00Z",
    }


def test_references_must_exist_in_the_referenced_chart_table(fresh_warehouse_dsn: str) -> None:
    """An order line whose order is not in chart is quarantined with reference:orders(order_id)."""
    land(fresh_warehouse_dsn, "shop", "products", DAY1, [product(5)])
    land(fresh_warehouse_dsn, "shop", "orders", DAY1, [order(100)])
    lines = land(
        fresh_warehouse_dsn,
        "shop",
        "order_lines",
        DAY1,
        [order_line(100, 1), order_line(404, 1), order_line(100, 2, product_id=77, quantity=0)],
    )
    hook = ChartHook()
    for entity in ("products", "orders", "order_lines"):  # reference order
        hook.promote(SHOP, entity, DAY1)

    assert quarantined_rules(fresh_warehouse_dsn, lines) == [
        ["reference:orders(order_id)"],
        ["range:quantity", "reference:products(product_id)"],
    ]
    assert fetch(
        fresh_warehouse_dsn, "SELECT order_id, line_number, quantity FROM chart.shop__order_lines"
    ) == [(100, 1, 2)]


def test_references_to_an_unpromoted_entity_are_quarantined(fresh_warehouse_dsn: str) -> None:
    """Promoting order lines before any order exists quarantines them (the orders table is created empty)."""
    lines = land(fresh_warehouse_dsn, "shop", "order_lines", DAY1, [order_line(100, 1)])
    ChartHook().promote(SHOP, "order_lines", DAY1)

    assert quarantined_rules(fresh_warehouse_dsn, lines) == [
        ["reference:orders(order_id)", "reference:products(product_id)"]
    ]
    assert fetch(fresh_warehouse_dsn, "SELECT count(*) FROM chart.shop__orders") == [(0,)]


def with_extra_column(source: SourceConfig, entity_name: str, column: Column) -> SourceConfig:
    """The source with one more column declared on ``entity_name``."""
    entities = [
        e.model_copy(update={"columns": [*e.columns, column]}) if e.name == entity_name else e
        for e in source.entities
    ]
    return source.model_copy(update={"entities": entities})


def test_a_new_yaml_column_is_added_to_the_existing_table(fresh_warehouse_dsn: str) -> None:
    """A column declared after the table exists is added and filled when the batch is promoted again."""
    land(fresh_warehouse_dsn, "crm", "customers", DAY1, [customer(1, loyalty_points="120")])
    ChartHook().promote(CRM, "customers", DAY1)
    extended = with_extra_column(CRM, "customers", Column(name="loyalty_points", type=ColumnType.INTEGER))

    result = ChartHook().promote(extended, "customers", DAY1)

    assert result.columns_added == ("loyalty_points",)
    assert fetch(fresh_warehouse_dsn, "SELECT loyalty_points FROM chart.crm__customers") == [(120,)]


def test_a_changed_column_type_fails_loudly(fresh_warehouse_dsn: str) -> None:
    """A YAML type that no longer matches the table raises instead of writing wrong types."""
    land(fresh_warehouse_dsn, "crm", "customers", DAY1, [customer(1)])
    ChartHook().promote(CRM, "customers", DAY1)
    entities = [
        e.model_copy(
            update={
                "columns": [
                    c.model_copy(update={"type": ColumnType.TEXT}) if c.name == "birth_date" else c
                    for c in e.columns
                ]
            }
        )
        for e in CRM.entities
    ]
    changed = CRM.model_copy(update={"entities": entities})

    with pytest.raises(PromotionError, match="birth_date is date"):
        ChartHook().promote(changed, "customers", DAY1)


def test_a_batch_that_changed_since_landing_is_refused(fresh_warehouse_dsn: str) -> None:
    """Rows in explore that disagree with pipeline.batches.rows_landed fail the promotion, writing nothing."""
    batch = land(fresh_warehouse_dsn, "crm", "customers", DAY1, [customer(1), customer(2)])
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        conn.execute(
            "UPDATE pipeline.batches SET rows_read = 5, rows_landed = 5 WHERE batch_id = %s", (batch,)
        )

    with pytest.raises(PromotionError, match=r"says 5 rows landed but explore\.raw_data holds 2"):
        ChartHook().promote(CRM, "customers", DAY1)
    assert fetch(fresh_warehouse_dsn, "SELECT to_regclass('chart.crm__customers')") == [(None,)]
    assert fetch(fresh_warehouse_dsn, "SELECT count(*) FROM chart.quarantine") == [(0,)]
    assert fetch(fresh_warehouse_dsn, "SELECT status FROM pipeline.batches") == [("landed",)]


@pytest.mark.parametrize(
    ("function", "value", "expected"),
    [
        pytest.param("try_bigint", "-42", -42, id="bigint"),
        pytest.param("try_bigint", "42.0", 42, id="bigint-point-zero"),
        pytest.param("try_bigint", "99999999999999999999", None, id="bigint-overflow"),
        pytest.param("try_bigint", "4 2", None, id="bigint-space"),
        pytest.param("try_integer", "2147483648", None, id="integer-overflow"),
        pytest.param("try_integer", "+7", 7, id="integer-plus"),
        pytest.param("try_integer", "-", None, id="integer-sign-only"),
        pytest.param("try_numeric", "-.5", -0.5, id="numeric-leading-dot"),
        pytest.param("try_numeric", "1e3", 1000, id="numeric-exponent"),
        pytest.param("try_numeric", "1.2.3", None, id="numeric-two-dots"),
        pytest.param("try_numeric", "NaN", None, id="numeric-nan"),
        pytest.param("try_boolean", "Yes", True, id="boolean-yes"),
        pytest.param("try_boolean", "0", False, id="boolean-zero"),
        pytest.param("try_boolean", "maybe", None, id="boolean-bad"),
        pytest.param("try_date", "2024-02-29", dt.date(2024, 2, 29), id="date-leap"),
        pytest.param("try_date", "2100-02-29", None, id="date-not-leap"),
        pytest.param("try_date", "2026-04-31", None, id="date-day-31"),
        pytest.param("try_date", "2026-13-01", None, id="date-month-13"),
        pytest.param("try_date", "0000-01-01", None, id="date-year-zero"),
        pytest.param("try_date", "05/01/2026", None, id="date-not-iso"),
        pytest.param(
            "try_timestamptz",
            "2026-01-05T10:00:00.5+01:00",
            dt.datetime(2026, 1, 5, 9, 0, 0, 500000, tzinfo=dt.UTC),
            id="ts-offset",
        ),
        pytest.param(
            "try_timestamptz",
            "2026-01-05 10:00",
            dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC),
            id="ts-no-seconds",
        ),
        pytest.param(
            "try_timestamptz", "2026-01-05", dt.datetime(2026, 1, 5, tzinfo=dt.UTC), id="ts-date-only"
        ),
        pytest.param("try_timestamptz", "2026-01-05T24:00:00Z", None, id="ts-hour-24"),
        pytest.param("try_timestamptz", "2026-01-05T10:00:00+16:00", None, id="ts-offset-range"),
        pytest.param("try_timestamptz", "2026-01-05T10:00:00 UTC", None, id="ts-zone-name"),
    ],
)
def test_safe_casts_return_null_instead_of_failing(
    warehouse_dsn: str, function: str, value: str, expected: object
) -> None:
    """pipeline.try_* cast what PostgreSQL would accept and give NULL (never an error) otherwise."""
    with psycopg.connect(warehouse_dsn) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        query = psycopg.sql.SQL("SELECT pipeline.{}(%s)").format(psycopg.sql.Identifier(function))
        [(result,)] = conn.execute(query, (value,)).fetchall()
    assert result == expected


def promote_shop(interval: Interval, *entities: str) -> dict[str, Any]:
    """Promote shop entities of one interval in reference order; results by entity."""
    hook = ChartHook()
    return {entity: hook.promote(SHOP, entity, interval) for entity in entities}


def batch_counts(dsn: str, batch: uuid.UUID) -> tuple[int, int, int]:
    """(rows_landed, rows_promoted, rows_rejected) of a batch."""
    [row] = fetch(
        dsn,
        "SELECT rows_landed, rows_promoted, rows_rejected FROM pipeline.batches WHERE batch_id = %s",
        batch,
    )
    return row


def chart_lines(dsn: str) -> list[tuple]:
    """Every column of chart.shop__order_lines, in key order."""
    return fetch(dsn, "SELECT * FROM chart.shop__order_lines ORDER BY order_id, line_number")


def quarantine_rows(dsn: str) -> list[tuple]:
    """(batch_id, raw_id, failed_rules) of every chart.quarantine row."""
    return fetch(dsn, "SELECT batch_id, raw_id, failed_rules FROM chart.quarantine ORDER BY batch_id, raw_id")


def test_lines_quarantined_for_a_late_parent_are_promoted_when_it_arrives(fresh_warehouse_dsn: str) -> None:
    """Lines whose order lands a batch later leave quarantine with the next batch's promotion; counts move."""
    dsn = fresh_warehouse_dsn
    land(dsn, "shop", "products", DAY1, [product(5)])
    land(dsn, "shop", "orders", DAY1, [order(100)])
    lines1 = land(
        dsn,
        "shop",
        "order_lines",
        DAY1,
        [order_line(100, 1), order_line(200, 1), order_line(200, 2, quantity=0)],
    )
    first = promote_shop(DAY1, "products", "orders", "order_lines")["order_lines"]
    assert (first.rows_promoted, first.rows_rejected) == (1, 2)
    assert batch_counts(dsn, lines1) == (3, 1, 2)

    land(dsn, "shop", "orders", DAY2, [order(200)])
    lines2 = land(dsn, "shop", "order_lines", DAY2, [order_line(100, 2)])
    second = promote_shop(DAY2, "orders", "order_lines")["order_lines"]

    # both rows failing the reference are retried: one passes now, the one also out of range stays
    assert (second.rows_retried, second.rows_recovered) == (2, 1)
    assert fetch(
        dsn,
        "SELECT order_id, line_number, _batch_id, _interval_start FROM chart.shop__order_lines ORDER BY 1, 2",
    ) == [(100, 1, lines1, DAY1.start), (100, 2, lines2, DAY2.start), (200, 1, lines1, DAY1.start)]
    # its parent is there now: only the rule it still fails is left, as a clean re-run would record
    assert quarantined_rules(dsn, lines1) == [["range:quantity"]]
    assert batch_counts(dsn, lines1) == (3, 2, 1)
    assert batch_counts(dsn, lines2) == (1, 1, 0)

    chart_before, quarantine_before = chart_lines(dsn), quarantine_rows(dsn)
    again = promote_shop(DAY2, "order_lines")["order_lines"]
    assert (again.rows_retried, again.rows_recovered, again.rows_written) == (0, 0, 0)
    assert chart_lines(dsn) == chart_before
    assert quarantine_rows(dsn) == quarantine_before
    assert (batch_counts(dsn, lines1), batch_counts(dsn, lines2)) == ((3, 2, 1), (1, 1, 0))

    day1_again = promote_shop(DAY1, "order_lines")["order_lines"]  # the backfill run again
    assert (day1_again.rows_promoted, day1_again.rows_rejected, day1_again.rows_written) == (2, 1, 0)
    assert chart_lines(dsn) == chart_before
    # the same raw row stays quarantined with the same rules: a re-run equals the clean run
    assert quarantine_rows(dsn) == quarantine_before
    assert (batch_counts(dsn, lines1), batch_counts(dsn, lines2)) == ((3, 2, 1), (1, 1, 0))


def test_a_retried_older_row_does_not_overwrite_a_newer_version(fresh_warehouse_dsn: str) -> None:
    """A quarantined line recovered after a newer version of its key was promoted counts but is not written."""
    dsn = fresh_warehouse_dsn
    land(dsn, "shop", "products", DAY1, [product(5)])
    lines1 = land(dsn, "shop", "order_lines", DAY1, [order_line(200, 1, quantity=1)])
    promote_shop(DAY1, "products", "orders", "order_lines")
    assert batch_counts(dsn, lines1) == (1, 0, 1)

    land(dsn, "shop", "orders", DAY2, [order(200)])
    lines2 = land(dsn, "shop", "order_lines", DAY2, [order_line(200, 1, quantity=5)])
    result = promote_shop(DAY2, "orders", "order_lines")["order_lines"]

    assert (result.rows_retried, result.rows_recovered) == (1, 1)
    assert fetch(dsn, "SELECT quantity, _batch_id FROM chart.shop__order_lines") == [(5, lines2)]
    assert fetch(dsn, "SELECT count(*) FROM chart.quarantine") == [(0,)]
    assert batch_counts(dsn, lines1) == (1, 1, 0)


def test_a_relanded_batch_awaiting_promotion_is_not_retried(fresh_warehouse_dsn: str) -> None:
    """Quarantine rows of a batch re-landed since its promotion wait for that batch's own promotion."""
    dsn = fresh_warehouse_dsn
    land(dsn, "shop", "products", DAY1, [product(5)])
    land(dsn, "shop", "order_lines", DAY1, [order_line(200, 1)])
    promote_shop(DAY1, "products", "orders", "order_lines")
    lines1 = land(dsn, "shop", "order_lines", DAY1, [order_line(200, 1)])  # re-landed: counts reset

    land(dsn, "shop", "orders", DAY2, [order(200)])
    land(dsn, "shop", "order_lines", DAY2, [])
    result = promote_shop(DAY2, "orders", "order_lines")["order_lines"]

    assert result.rows_retried == 0
    assert quarantined_rules(dsn, lines1) == [["reference:orders(order_id)"]]
    promote_shop(DAY1, "order_lines")
    assert batch_counts(dsn, lines1) == (1, 1, 0)
    assert fetch(dsn, "SELECT count(*) FROM chart.quarantine") == [(0,)]


def test_retried_versions_of_a_key_from_two_batches_keep_the_later_interval(fresh_warehouse_dsn: str) -> None:
    """Two quarantined versions of one line recovered together: the later interval's is written, both count."""
    dsn = fresh_warehouse_dsn
    day3 = Interval(DAY2.end, DAY2.end + dt.timedelta(days=1))
    land(dsn, "shop", "products", DAY1, [product(5)])
    lines1 = land(dsn, "shop", "order_lines", DAY1, [order_line(200, 1, quantity=1)])
    promote_shop(DAY1, "products", "orders", "order_lines")
    lines2 = land(dsn, "shop", "order_lines", DAY2, [order_line(200, 1, quantity=2)])
    promote_shop(DAY2, "order_lines")
    land(dsn, "shop", "orders", day3, [order(200)])
    land(dsn, "shop", "order_lines", day3, [])

    result = promote_shop(day3, "orders", "order_lines")["order_lines"]

    assert (result.rows_retried, result.rows_recovered) == (2, 2)
    assert fetch(dsn, "SELECT quantity, _batch_id FROM chart.shop__order_lines") == [(2, lines2)]
    assert (batch_counts(dsn, lines1), batch_counts(dsn, lines2)) == ((1, 1, 0), (1, 1, 0))
    assert fetch(dsn, "SELECT count(*) FROM chart.quarantine") == [(0,)]


# --- source fields and text normalisation -----------------------------------------------------

ODD_FIELD = "a'b\"c%s{x}"
"""A source field name that would break SQL text, a psycopg placeholder or ``str.format``."""
PLACEHOLDER_FIELD = "%(batch_id)s {0} \\"
"""Another: a named psycopg placeholder the promotion really binds, a format field, a backslash."""


HR = files_source(
    "hr",
    {
        "name": "users",
        "path": "users.csv",
        "key": ["user_id"],
        "columns": [
            {"name": "user_id", "source_field": "User ID", "type": "integer"},
            {"name": "full_name", "source_field": "Full Name", "required": True},
            {"name": "meta", "source_field": "Meta {json}", "type": "json"},
        ],
    },
    {
        "name": "logins",
        "path": "logins.csv",
        "key": ["login_id"],
        "columns": [
            {"name": "login_id", "source_field": "Login #", "type": "integer"},
            {"name": "user_id", "source_field": "User ID", "type": "integer", "required": True},
        ],
        "references": [{"columns": ["user_id"], "entity": "users"}],
    },
    {
        "name": "odd",
        "path": "odd.csv",
        "key": ["k"],
        "columns": [
            {"name": "k", "source_field": ODD_FIELD},
            {"name": "v", "source_field": PLACEHOLDER_FIELD, "required": True, "pattern": "^[a-z]+$"},
        ],
    },
)


def land_records(
    source: SourceConfig, entity_name: str, interval: Interval, payloads: list[dict[str, Any]]
) -> uuid.UUID:
    """Land payloads through ``WarehouseHook.land_batch``, the record key built from the key fields."""
    entity = source.entity(entity_name)
    hook = WarehouseHook()
    hook.ensure_partitions("explore.raw_data", "month", interval.start, interval.start)
    chunk = Chunk(records=[(payload, f"{entity_name}.csv:{n + 2}") for n, payload in enumerate(payloads)])
    result = hook.land_batch(
        source=source.name,
        entity=entity.name,
        interval=interval,
        key_columns=entity.key_fields,
        chunks=[chunk],
    )
    assert result.rows_landed == len(payloads)
    return result.batch_id


def test_columns_are_read_from_their_source_fields(fresh_warehouse_dsn: str) -> None:
    """A ``User ID`` field fills ``user_id``: keys, upserts and quarantine work by source field."""
    dsn = fresh_warehouse_dsn
    batch1 = land_records(
        HR,
        "users",
        DAY1,
        [
            {"User ID": "7", "Full Name": " Ada ", "Meta {json}": {"team": "ops"}},
            {"User ID": "8", "Full Name": ""},
        ],
    )
    first = ChartHook().promote(HR, "users", DAY1)

    assert (first.rows_promoted, first.rows_rejected) == (1, 1)
    assert fetch(dsn, "SELECT user_id, full_name, meta, _record_key, _batch_id FROM chart.hr__users") == [
        (7, "Ada", {"team": "ops"}, "7", batch1)
    ]
    assert fetch(dsn, "SELECT record_key, payload, failed_rules FROM chart.quarantine") == [
        ("8", {"User ID": "8", "Full Name": ""}, ["required:full_name"])
    ]

    batch2 = land_records(HR, "users", DAY2, [{"User ID": "7", "Full Name": "Ada L."}])
    second = ChartHook().promote(HR, "users", DAY2)

    assert second.rows_written == 1
    assert fetch(dsn, "SELECT user_id, full_name, meta, _record_key, _batch_id FROM chart.hr__users") == [
        (7, "Ada L.", None, "7", batch2)
    ]


def test_a_reference_through_source_fields_is_retried_when_its_parent_arrives(
    fresh_warehouse_dsn: str,
) -> None:
    """A login of a user not yet promoted is quarantined, then recovered by the next promotion."""
    dsn = fresh_warehouse_dsn
    land_records(HR, "users", DAY1, [{"User ID": "1", "Full Name": "Ada"}])
    logins1 = land_records(
        HR, "logins", DAY1, [{"Login #": "10", "User ID": "1"}, {"Login #": "11", "User ID": " 2 "}]
    )
    hook = ChartHook()
    hook.promote(HR, "users", DAY1)
    hook.promote(HR, "logins", DAY1)
    assert fetch(dsn, "SELECT record_key, failed_rules FROM chart.quarantine") == [
        ("11", ["reference:users(user_id)"])
    ]

    land_records(HR, "users", DAY2, [{"User ID": "2", "Full Name": "Grace"}])
    land_records(HR, "logins", DAY2, [])
    hook.promote(HR, "users", DAY2)
    result = hook.promote(HR, "logins", DAY2)

    assert (result.rows_retried, result.rows_recovered) == (1, 1)
    assert fetch(dsn, "SELECT login_id, user_id, _record_key FROM chart.hr__logins ORDER BY 1") == [
        (10, 1, "10"),
        (11, 2, "11"),
    ]
    assert batch_counts(dsn, logins1) == (2, 2, 0)
    assert fetch(dsn, "SELECT count(*) FROM chart.quarantine") == [(0,)]


def test_field_names_that_look_like_sql_placeholders_or_format_fields_work(fresh_warehouse_dsn: str) -> None:
    """Field names with quotes, ``%s``, ``%(name)s``, braces and backslashes are bound, not SQL text."""
    dsn = fresh_warehouse_dsn
    batch = land_records(
        HR,
        "odd",
        DAY1,
        [{ODD_FIELD: "k1", PLACEHOLDER_FIELD: "ok"}, {ODD_FIELD: "k2", PLACEHOLDER_FIELD: "NOT OK"}],
    )
    result = ChartHook().promote(HR, "odd", DAY1)

    assert (result.rows_promoted, result.rows_rejected) == (1, 1)
    assert fetch(dsn, "SELECT k, v, _record_key FROM chart.hr__odd") == [("k1", "ok", "k1")]
    assert quarantined_rules(dsn, batch) == [["pattern:v"]]
    land_records(HR, "odd", DAY2, [{ODD_FIELD: "k1", PLACEHOLDER_FIELD: "changed"}])
    ChartHook().promote(HR, "odd", DAY2)
    assert fetch(dsn, "SELECT k, v FROM chart.hr__odd") == [("k1", "changed")]


MISSING = object()
"""Stands for a field absent from the payload."""


@dataclass(frozen=True)
class Failed:
    """A record quarantined with these rules."""

    rules: tuple[str, ...]


def promote_values(
    values: list[Any], column: dict[str, Any], entity: dict[str, Any] | None = None
) -> list[Any]:
    """Promote one record per value (``id`` 1, 2 …, the value in field ``Value``) into a column
    declared as ``column``; per record its chart value, or ``Failed`` with the rules it broke."""
    source = files_source(
        "t",
        {
            "name": "items",
            "path": "items.csv",
            "key": ["id"],
            "columns": [
                {"name": "id", "type": "integer"},
                {"name": "value", "source_field": "Value", **column},
            ],
            **(entity or {}),
        },
    )
    payloads = [
        {"id": n} if value is MISSING else {"id": n, "Value": value} for n, value in enumerate(values, 1)
    ]
    land_records(source, "items", DAY1, payloads)
    hook = ChartHook()
    hook.promote(source, "items", DAY1)
    promoted = dict(hook.get_records("SELECT id, value FROM chart.t__items"))
    failed = dict(hook.get_records("SELECT record_key::integer, failed_rules FROM chart.quarantine"))
    return [promoted[n] if n in promoted else Failed(tuple(failed[n])) for n in range(1, len(values) + 1)]


OFF = {"trim": False, "empty_as_null": False}
VALUES = ["  x \t", "", "   ", MISSING, None]
"""Surrounding spaces (and a tab, which btrim keeps), empty, blank, a missing field, JSON null."""


@pytest.mark.parametrize(
    ("entity", "column", "expected"),
    [
        pytest.param({}, {}, ["x \t", None, None, None, None], id="defaults"),
        pytest.param({}, {"trim": False}, ["  x \t", None, "   ", None, None], id="column-keeps-spaces"),
        pytest.param({}, {"empty_as_null": False}, ["x \t", "", "", None, None], id="column-keeps-empty"),
        pytest.param({}, OFF, ["  x \t", "", "   ", None, None], id="column-as-is"),
        pytest.param(OFF, {}, ["  x \t", "", "   ", None, None], id="entity-as-is"),
        pytest.param(OFF, {"trim": True}, ["x \t", "", "", None, None], id="entity-as-is-column-trims"),
        pytest.param(OFF, {"empty_as_null": True}, ["  x \t", None, "   ", None, None], id="entity-as-is-column-nulls"),
        pytest.param({"trim": False}, {"trim": True}, ["x \t", None, None, None, None], id="column-trims-entity-not"),
    ],
)  # fmt: skip
def test_trim_and_empty_as_null_per_column_override_the_entity(
    fresh_warehouse_dsn: str, entity: dict[str, Any], column: dict[str, Any], expected: list[Any]
) -> None:
    """trim strips surrounding spaces (btrim), empty_as_null stores '' as NULL; a column's own
    setting wins over the entity's, an unset one inherits it."""
    assert promote_values(VALUES, column, entity) == expected


REQUIRED = Failed(("required:value",))


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        pytest.param({}, ["x \t", REQUIRED, REQUIRED, REQUIRED, REQUIRED], id="defaults"),
        pytest.param({"empty_as_null": False}, ["x \t", "", "", REQUIRED, REQUIRED], id="empty-is-a-value"),
        pytest.param({"trim": False}, ["  x \t", REQUIRED, "   ", REQUIRED, REQUIRED], id="blank-is-a-value"),
        pytest.param(OFF, ["  x \t", "", "   ", REQUIRED, REQUIRED], id="as-is"),
    ],
)  # fmt: skip
def test_required_fails_on_empty_only_when_empty_is_null(
    fresh_warehouse_dsn: str, column: dict[str, Any], expected: list[Any]
) -> None:
    """required fails on a missing field and JSON null always, on '' only with empty_as_null."""
    assert promote_values(VALUES, {"required": True, **column}) == expected


NOT_INTEGER = Failed(("type:value(integer)",))


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        pytest.param({"type": "integer"}, [12, None, None, 12], id="defaults"),
        pytest.param({"type": "integer", "trim": False}, [12, None, NOT_INTEGER, 12], id="untrimmed"),
        pytest.param({"type": "integer", **OFF}, [12, NOT_INTEGER, NOT_INTEGER, 12], id="as-is"),
        pytest.param({"type": "integer", "empty_as_null": False}, [12, NOT_INTEGER, NOT_INTEGER, 12], id="empty-kept"),
        pytest.param({"pattern": "^[0-9]+$", "trim": False}, [Failed(("pattern:value",)), None, Failed(("pattern:value",)), "12"], id="pattern-sees-spaces"),
        pytest.param({"allowed_values": ["12"], "trim": False}, [Failed(("allowed_values:value",)), None, Failed(("allowed_values:value",)), "12"], id="allowed-sees-spaces"),
    ],
)  # fmt: skip
def test_typed_columns_cast_the_value_stripped_of_spaces(
    fresh_warehouse_dsn: str, column: dict[str, Any], expected: list[Any]
) -> None:
    """A number with surrounding spaces casts whatever trim says (PostgreSQL's casts ignore them);
    a '' or blank kept as a value is no number; text rules see the value as trim leaves it."""
    assert promote_values([" 12 ", "", "   ", "12"], column) == expected


ROUND_TRIP = files_source(
    "rt",
    {
        "name": "texts",
        "path": "texts.csv",
        "key": ["id"],
        "columns": [
            {"name": "id", "source_field": "ID", "type": "integer"},
            {"name": "exact", "source_field": ODD_FIELD, **OFF},
            {"name": "normal", "source_field": "Normal Value"},
        ],
    },
)

_TEXTS = st.text(
    alphabet=st.one_of(
        st.sampled_from(" \t\n\r\\\"'%{}\u00a0\u2028\ufeff"),
        st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    ),
    max_size=40,
)
"""Any Unicode string jsonb holds (no NUL, no lone surrogate), weighted to spaces and escapes."""


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(_TEXTS, min_size=1, max_size=8))
def test_text_round_trips_byte_for_byte_with_trim_and_empty_as_null_off(
    fresh_warehouse_dsn: str, values: list[str]
) -> None:
    """Off, chart holds the payload's string exactly; with the defaults, btrim(value) or NULL if blank."""
    with psycopg.connect(fresh_warehouse_dsn) as conn:  # one database for every example
        conn.execute("DROP TABLE IF EXISTS chart.rt__texts")
        conn.execute("DELETE FROM chart.quarantine")
    land_records(
        ROUND_TRIP,
        "texts",
        DAY1,
        [{"ID": n, ODD_FIELD: value, "Normal Value": value} for n, value in enumerate(values)],
    )
    result = ChartHook().promote(ROUND_TRIP, "texts", DAY1)

    assert (result.rows_promoted, result.rows_rejected) == (len(values), 0)
    rows = fetch(
        fresh_warehouse_dsn,
        "SELECT exact, normal, convert_to(exact, 'UTF8') FROM chart.rt__texts ORDER BY id",
    )
    assert [exact for exact, _, _ in rows] == values
    assert [bytes(encoded) for _, _, encoded in rows] == [value.encode() for value in values]
    assert [normal for _, normal, _ in rows] == [value.strip(" ") or None for value in values]
