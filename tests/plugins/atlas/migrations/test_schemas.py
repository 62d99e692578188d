"""What the migrations build: the seven schemas, their tables and the raw data table's design."""

from __future__ import annotations

import psycopg
import pytest

from tests.plugins.atlas.migrations.catalog import SCHEMAS, column

TABLES = {
    "explore": {"source_systems", "raw_data", "quarantine"},
    "pipeline": {"batches"},
    "chart": {"quarantine"},
    "navigate": set(),
    "quality": {"dimensions", "check_definitions", "check_results", "scorecards", "anomalies"},
    "compliance": {
        "classification_levels",
        "data_assets",
        "pii_patterns",
        "pii_detections",
        "audit_log",
        "data_subject_requests",
    },
    "archive": {"snapshots"},
}


@pytest.mark.postgres
def test_exactly_the_seven_schemas_exist(conn: psycopg.Connection) -> None:
    """Besides public, the database holds exactly the seven Atlas schemas."""
    schemas = column(
        conn,
        "SELECT nspname FROM pg_namespace "
        "WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
    )
    assert set(schemas) == SCHEMAS | {"public"}


@pytest.mark.postgres
@pytest.mark.parametrize("schema", [pytest.param(name, id=name) for name in sorted(TABLES)])
def test_schema_holds_its_tables(conn: psycopg.Connection, schema: str) -> None:
    """Each schema holds its tables (partitions aside), every one with a comment."""
    rows = conn.execute(
        "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
        (schema,),
    ).fetchall()
    tables = {name for name, _ in rows}
    assert TABLES[schema] <= tables
    assert [name for name, comment in rows if not comment] == []


@pytest.mark.postgres
def test_raw_data_has_the_designed_columns(conn: psycopg.Connection) -> None:
    """explore.raw_data has exactly the columns of docs/design.md, keyed by (raw_id, interval_start)."""
    columns = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'explore.raw_data'::regclass AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum"
    ).fetchall()
    assert columns == [
        ("raw_id", "bigint"),
        ("source_name", "text"),
        ("entity_name", "text"),
        ("batch_id", "uuid"),
        ("interval_start", "timestamp with time zone"),
        ("record_key", "text"),
        ("payload", "jsonb"),
        ("payload_checksum", "text"),
        ("source_location", "text"),
        ("ingested_at", "timestamp with time zone"),
    ]
    primary_key = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'explore.raw_data'::regclass AND contype = 'p'"
    ).fetchone()[0]
    assert primary_key == "PRIMARY KEY (raw_id, interval_start)"
