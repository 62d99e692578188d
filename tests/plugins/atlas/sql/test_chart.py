"""The chart statement renderer: quoted identifiers, bound rule constants, statements that run.

The tests marked ``postgres`` execute the rendered statements in a fresh warehouse, the way
``ChartHook`` chains them, to prove what the SQL does rather than how it reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql

from atlas.sql import chart
from tests.fixtures.sources import files_source

SOURCE = files_source(
    "shop",
    {
        "name": "customers",
        "path": "customers.csv",
        "key": ["customer_id"],
        "columns": [
            {"name": "customer_id", "type": "integer", "required": True},
            {"name": "select", "type": "integer", "min": 1, "max": 10},
            {"name": "order", "allowed_values": ["a", "b"]},
            {"name": "code", "pattern": "^[A-Z]{3}$"},
            {"name": "born", "type": "date", "min": "1900-01-01", "max": "2025-12-31"},
            {"name": "seen", "type": "timestamp"},
            {"name": "score", "type": "numeric", "min": -1.5},
            {"name": "active", "type": "boolean"},
            {"name": "extra", "type": "json"},
        ],
    },
    {
        "name": "orders",
        "path": "orders.csv",
        "key": ["order_id", "line"],
        "columns": [
            {"name": "order_id", "type": "integer"},
            {"name": "line", "type": "integer"},
            {"name": "customer_id", "type": "integer"},
            {"name": "parent_order_id", "type": "integer"},
            {"name": "parent_line", "type": "integer"},
        ],
        "references": [
            {"columns": ["customer_id"], "entity": "customers"},
            {"columns": ["parent_order_id", "parent_line"], "entity": "orders"},
        ],
    },
    {"name": "tags", "path": "tags.csv", "key": ["tag"], "columns": [{"name": "tag"}]},
)
CUSTOMERS, ORDERS, TAGS = (SOURCE.entity(name) for name in ("customers", "orders", "tags"))
BATCH = uuid.UUID("00000000-0000-0000-0000-00000000abcd")
STAGE = chart.stage_table(BATCH)
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


_RULE_PREFIXES = ("required:", "type:", "pattern:", "range:", "allowed_values:", "key:", "reference:")
"""How every rule name starts (the module docstring of ``atlas.sql.chart`` lists them)."""


def text(statement: sql.Composable) -> str:
    """The statement as PostgreSQL receives it (identifiers quoted, placeholders left)."""
    return statement.as_string()


def test_chart_tables_are_quoted_source_entity_names_in_schema_chart() -> None:
    """An entity's table is ``chart."<source>__<entity>"``, always as a quoted identifier."""
    assert chart.chart_table_name("shop", "orders") == "shop__orders"
    assert text(chart.chart_table("shop", "orders")) == '"chart"."shop__orders"'


def test_the_stage_table_is_named_after_the_batch() -> None:
    """A batch's staging table is ``chart._stage_<batch hex>``."""
    assert text(STAGE) == '"chart"."_stage_0000000000000000000000000000abcd"'


@pytest.mark.parametrize(
    ("table_name", "expected"),
    [
        pytest.param("shop__orders", "shop__orders_batch_idx", id="short"),
        pytest.param("t" * 53, "t" * 53 + "_batch_idx", id="exactly-63-bytes"),
        pytest.param("t" * 54, None, id="64-bytes-hashed"),
        pytest.param("s" * 48 + "__" + "e" * 48, None, id="longest-source-and-entity"),
    ],
)
def test_batch_index_names_stay_within_63_bytes(table_name: str, expected: str | None) -> None:
    """The ``_batch_id`` index name is ``<table>_batch_idx``, or shortened with a hash to 63 bytes."""
    name = chart.batch_index_name(table_name)
    assert len(name.encode()) <= 63
    assert name.endswith("_batch_idx")
    if expected is not None:
        assert name == expected
    else:
        digest = hashlib.md5(table_name.encode()).hexdigest()[:12]
        assert name == f"{table_name[:40]}_{digest}_batch_idx"


def test_long_index_names_sharing_a_prefix_stay_distinct() -> None:
    """Two long table names with the same first 40 characters get different index names."""
    common = "s" * 48 + "__" + "e" * 30
    assert chart.batch_index_name(common + "_one") != chart.batch_index_name(common + "_two")


def test_reference_rules_name_the_entity_and_the_referencing_columns() -> None:
    """A reference rule reads ``reference:<entity>(<columns>)``."""
    assert [chart.reference_rule(ref) for ref in ORDERS.references] == [
        "reference:customers(customer_id)",
        "reference:orders(parent_order_id,parent_line)",
    ]


def test_reserved_words_as_column_names_are_quoted() -> None:
    """Columns named ``select`` and ``order`` are quoted identifiers in every statement."""
    create = text(chart.create_table("shop", CUSTOMERS))
    assert '"select" integer' in create
    assert '"order" text' in create
    assert 'PRIMARY KEY ("customer_id")' in create
    statement, params = chart.stage(SOURCE, CUSTOMERS, STAGE)
    staged = text(statement)
    assert params["f1"] == "select"
    assert "r.payload ->> %(f1)s::text" in staged
    assert 'AS "select"' in staged
    assert '"order" = s."order"' in text(chart.update("shop", CUSTOMERS, STAGE))
    assert 'ALTER TABLE "chart"."shop__customers" ADD COLUMN IF NOT EXISTS "order" text' in text(
        chart.add_column("shop", "customers", CUSTOMERS.column("order"))
    )


def test_stage_binds_every_rule_constant_as_a_parameter() -> None:
    """Patterns, bounds, allowed values and rule names are bound parameters, never SQL text."""
    statement, bound = chart.stage(SOURCE, CUSTOMERS, STAGE)
    rendered = text(statement)
    params = {name: value for name, value in bound.items() if name.startswith("p")}  # not fields
    constants = [value for value in params.values() if not str(value).startswith(_RULE_PREFIXES)]
    assert constants == ["1.0", "10.0", ["a", "b"], "^[A-Z]{3}$", "1900-01-01", "2025-12-31", "-1.5"]
    for name, value in params.items():
        assert f"%({name})s" in rendered
        if isinstance(value, str):
            assert value not in rendered.replace(f"%({name})s", "")
    casts = {name: rendered.split(f"%({name})s", 1)[1].split()[0].rstrip(",)") for name in params}
    by_value = {json.dumps(value): casts[name] for name, value in params.items()}
    assert by_value['"1.0"'] == by_value['"-1.5"'] == "::numeric"
    assert by_value['"1900-01-01"'] == "::date"
    assert by_value['["a", "b"]'] == "::text[]"
    assert by_value['"^[A-Z]{3}$"'] == "::text"


ODD_FIELD = "a'b\"c%s{x}"
"""A source field name that would break SQL text, a psycopg placeholder or ``str.format``."""

FIELDS = files_source(
    "hr",
    {
        "name": "users",
        "path": "users.csv",
        "key": ["user_id"],
        "trim": False,
        "columns": [
            {"name": "user_id", "source_field": "User ID", "type": "integer"},
            {"name": "odd", "source_field": ODD_FIELD, "required": True},
            {"name": "meta", "source_field": "%(f0)s {0}", "type": "json"},
            {"name": "as_is", "empty_as_null": False},
            {"name": "trimmed", "trim": True, "empty_as_null": False},
            {"name": "nulled"},
            {"name": "both", "trim": True},
        ],
    },
)
USERS = FIELDS.entity("users")


def test_stage_binds_source_field_names_as_parameters() -> None:
    """Each column reads its source field through a bound ``text`` parameter, never SQL text."""
    statement, params = chart.stage(FIELDS, USERS, STAGE)
    rendered = text(statement)
    fields = {name: value for name, value in params.items() if name.startswith("f")}
    assert fields == {f"f{i}": column.field for i, column in enumerate(USERS.columns)}
    assert fields["f0"] == "User ID"
    assert fields["f1"] == ODD_FIELD
    assert ODD_FIELD not in rendered
    assert "User ID" not in rendered
    assert "nullif(r.payload ->> %(f0)s::text, '') AS \"_v_user_id\"" in rendered
    # a json column reads the same bound field twice: as text for its rules, as jsonb to store
    assert "r.payload ->> %(f2)s::text" in rendered
    assert "nullif(r.payload -> %(f2)s::text, 'null'::jsonb) AS \"_j_meta\"" in rendered


@pytest.mark.parametrize(
    ("column", "expression"),
    [
        pytest.param("as_is", "r.payload ->> %(f3)s::text", id="both-off"),
        pytest.param("trimmed", "btrim(r.payload ->> %(f4)s::text)", id="trim"),
        pytest.param("nulled", "nullif(r.payload ->> %(f5)s::text, '')", id="empty-as-null"),
        pytest.param("both", "nullif(btrim(r.payload ->> %(f6)s::text), '')", id="both-on"),
    ],
)
def test_stage_normalises_each_columns_text_as_it_says(column: str, expression: str) -> None:
    """trim adds btrim, empty_as_null adds nullif(…, ''); a column inherits what it leaves unset."""
    rendered = text(chart.stage(FIELDS, USERS, STAGE)[0])
    assert f'{expression} AS "_v_{column}"' in rendered


def test_a_typed_column_is_cast_from_trimmed_text_even_when_not_trimmed() -> None:
    """The safe casts get the text stripped of surrounding spaces: with trim off the cast trims."""
    rendered = text(chart.stage(FIELDS, USERS, STAGE)[0])
    assert 'pipeline."try_integer"(btrim(v."_v_user_id")) AS "user_id"' in rendered
    default = text(chart.stage(SOURCE, CUSTOMERS, STAGE)[0])
    assert 'pipeline."try_integer"(v."_v_customer_id") AS "customer_id"' in default


def test_stage_names_one_rule_per_check_declared_on_a_column() -> None:
    """Each declared rule has its name; text and json columns have no type rule."""
    _, params = chart.stage(SOURCE, CUSTOMERS, STAGE)
    rules = [value for value in params.values() if str(value).startswith(_RULE_PREFIXES)]
    assert rules == [
        "required:customer_id",
        "type:customer_id(integer)",
        "key:customer_id",
        "type:select(integer)",
        "range:select",
        "allowed_values:order",
        "pattern:code",
        "type:born(date)",
        "range:born",
        "type:seen(timestamp)",
        "type:score(numeric)",
        "range:score",
        "type:active(boolean)",
    ]


def test_a_reference_to_another_entity_is_joined_and_a_self_reference_checked_afterwards() -> None:
    """Stage joins the referenced chart table; a self-reference is left to its own UPDATE."""
    statement, params = chart.stage(SOURCE, ORDERS, STAGE)
    rendered = text(statement)
    assert (
        'LEFT JOIN "chart"."shop__customers" AS "_ref0" ON "_ref0"."customer_id" = t."customer_id"'
        in rendered
    )
    assert "shop__orders" not in rendered
    assert "reference:customers(customer_id)" in params.values()
    assert "reference:orders(parent_order_id,parent_line)" not in params.values()
    ((check, check_params),) = chart.self_reference_checks(SOURCE, ORDERS, STAGE)
    assert check_params == {"rule": "reference:orders(parent_order_id,parent_line)"}
    rendered = text(check)
    assert 's."parent_order_id" IS NOT NULL AND s."parent_line" IS NOT NULL' in rendered
    assert '"c"."order_id" = "s"."parent_order_id" AND "c"."line" = "s"."parent_line"' in rendered
    assert 'FROM "chart"."shop__orders" AS c' in rendered


def test_an_entity_without_references_has_no_self_reference_check() -> None:
    """Without a reference to itself an entity gets no extra statement."""
    assert chart.self_reference_checks(SOURCE, CUSTOMERS, STAGE) == []


@pytest.mark.parametrize(
    ("retry", "create", "rows"),
    [
        pytest.param(False, 'CREATE UNLOGGED TABLE "chart"."_stage_', "explore.raw_data AS r", id="batch"),
        pytest.param(True, 'CREATE TEMPORARY TABLE "_atlas_chart_retry" ON COMMIT DROP', '"_atlas_chart_retry_rows" AS r', id="retry"),
    ],
)  # fmt: skip
def test_stage_reads_the_batch_or_the_retried_rows(retry: bool, create: str, rows: str) -> None:
    """A promotion stages the batch's partition; a retry stages the quarantined rows it retries."""
    stage = chart.RETRY_STAGE if retry else STAGE
    rendered = text(chart.stage(SOURCE, CUSTOMERS, stage, retry=retry)[0])
    assert rendered.count(create) == 1
    assert rows in rendered


def test_an_entity_of_key_columns_only_updates_its_key() -> None:
    """An entity whose columns are all key columns still renders a valid UPDATE (of the key)."""
    assert 'SET "tag" = s."tag",' in text(chart.update("shop", TAGS, STAGE))


# --- the statements in a warehouse ----------------------------------------------------------


def batch_of(entity: str) -> uuid.UUID:
    """The entity's batch of the interval (a batch holds one entity's rows)."""
    return uuid.uuid5(BATCH, entity)


def land(conn: psycopg.Connection, entity: str, payloads: list[dict[str, Any]]) -> None:
    """Insert ``payloads`` as the raw rows of the entity's batch, in order."""
    conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (START,))
    for number, values in enumerate(payloads):
        document = json.dumps(values)
        conn.execute(
            "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, "
            "record_key, payload, payload_checksum, source_location) "
            "VALUES ('shop', %s, %s, %s, %s, %s, md5(%s), %s)",
            (entity, batch_of(entity), START, str(number), document, document, f"{entity}.csv:{number + 2}"),
        )


def stage(conn: psycopg.Connection, entity_name: str, key: str) -> dict[Any, list[str]]:
    """Create the entity's table, stage the batch and run its self-reference checks: failed rules by key."""
    entity, batch = SOURCE.entity(entity_name), batch_of(entity_name)
    stage = chart.stage_table(batch)
    conn.execute(chart.create_table("shop", entity))
    conn.execute(chart.create_batch_index("shop", entity.name))
    statement, params = chart.stage(SOURCE, entity, stage)
    conn.execute(statement, {**params, "batch_id": batch, "interval_start": START})
    for check, check_params in chart.self_reference_checks(SOURCE, entity, stage):
        conn.execute(check, check_params)
    rows = conn.execute(
        sql.SQL("SELECT {}, _failed_rules, _valid FROM {}").format(sql.SQL(key), stage)
    ).fetchall()
    assert all(valid == (failed == []) for _, failed, valid in rows)
    return {key: failed for key, failed, _ in rows}


def promote(conn: psycopg.Connection, entity_name: str) -> None:
    """Write the valid staged rows to the entity's chart table."""
    entity, batch = SOURCE.entity(entity_name), batch_of(entity_name)
    stage = chart.stage_table(batch)
    params = {"batch_id": batch, "interval_start": START, "refresh": False}
    conn.execute(chart.unique_stage_keys(entity, stage))
    conn.execute(chart.update("shop", entity, stage), params)
    conn.execute(chart.insert("shop", entity, stage), params)
    conn.execute(chart.on_stage("drop_stage", stage))


@pytest.mark.postgres
def test_staged_rows_fail_exactly_the_rules_they_break(fresh_warehouse_dsn: str) -> None:
    """Each staged row lists the rules it fails, in column order; the valid ones are promoted typed."""
    valid = {
        "customer_id": " 1 ",
        "select": "5",
        "order": "a",
        "code": "ABC",
        "born": "1980-02-03",
        "seen": "2025-01-01T10:00:00Z",
        "score": "-1.5",
        "active": "yes",
        "extra": {"k": [1, 2]},
    }
    broken = {
        "customer_id": "2",
        "select": "11",
        "order": "c",
        "code": "abc",
        "born": "1800-01-01",
        "seen": "yesterday",
        "score": "-2",
        "active": "maybe",
    }
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        land(conn, "customers", [valid, broken, {"customer_id": "  ", "select": "five"}])
        failed = stage(conn, "customers", '"customer_id"')
        assert failed == {
            1: [],
            2: [
                "range:select",
                "allowed_values:order",
                "pattern:code",
                "range:born",
                "type:seen(timestamp)",
                "range:score",
                "type:active(boolean)",
            ],
            None: ["required:customer_id", "key:customer_id", "type:select(integer)"],
        }
        promote(conn, "customers")
        rows = conn.execute(
            'SELECT customer_id, "select", "order", code, born, seen, score, active, extra '
            "FROM chart.shop__customers"
        ).fetchall()
    assert rows == [(1, 5, "a", "ABC", dt.date(1980, 2, 3), dt.datetime(2025, 1, 1, 10, tzinfo=dt.UTC),
                     -1.5, True, {"k": [1, 2]})]  # fmt: skip


@pytest.mark.postgres
def test_references_are_checked_against_the_chart_table_and_the_batch_itself(
    fresh_warehouse_dsn: str,
) -> None:
    """A reference must exist in the referenced chart table; a self-reference may point into the batch."""
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        land(conn, "customers", [{"customer_id": "1"}])
        stage(conn, "customers", '"customer_id"')
        promote(conn, "customers")
        land(
            conn,
            "orders",
            [
                {"order_id": "1", "line": "1", "customer_id": "1"},
                {"order_id": "1", "line": "2", "customer_id": "99"},
                {"order_id": "2", "line": "1", "parent_order_id": "1", "parent_line": "1"},
                {"order_id": "2", "line": "2", "parent_order_id": "9", "parent_line": "9"},
                {"order_id": "3", "line": "1", "parent_order_id": "1", "parent_line": "2"},
                {"order_id": "3", "line": "2", "parent_order_id": "9"},
            ],
        )
        failed = stage(conn, "orders", "order_id::text || '.' || line")
    assert failed == {
        "1.1": [],
        "1.2": ["reference:customers(customer_id)"],
        "2.1": [],
        "2.2": ["reference:orders(parent_order_id,parent_line)"],
        "3.1": ["reference:orders(parent_order_id,parent_line)"],  # its parent row is itself invalid
        "3.2": [],  # a partly null reference is no reference
    }
