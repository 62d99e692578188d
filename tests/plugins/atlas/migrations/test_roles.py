"""The three group roles and what each may read and write."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql


@pytest.mark.postgres
def test_roles_exist_without_login(conn: psycopg.Connection) -> None:
    """atlas_read, atlas_write and atlas_admin exist as NOLOGIN group roles."""
    rows = conn.execute(
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('atlas_read', 'atlas_write', 'atlas_admin')"
    ).fetchall()
    assert sorted(rows) == [("atlas_admin", False), ("atlas_read", False), ("atlas_write", False)]


@contextmanager
def _as_role(dsn: str, role: str) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction running as ``role``, rolled back at the end."""
    with psycopg.connect(dsn) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        try:
            yield conn
        finally:
            conn.rollback()


@pytest.mark.postgres
def test_atlas_read_can_select_navigate(dsn: str) -> None:
    """atlas_read reads navigate, including tables created after the migrations (default privileges)."""
    with psycopg.connect(dsn, autocommit=True) as owner:
        owner.execute("CREATE TABLE navigate.h1_probe_fact (id int)")
        owner.execute("INSERT INTO navigate.h1_probe_fact VALUES (1)")
    try:
        with _as_role(dsn, "atlas_read") as conn:
            assert conn.execute("SELECT count(*) FROM navigate.data_dictionary").fetchone() == (0,)
            assert conn.execute("SELECT id FROM navigate.h1_probe_fact").fetchall() == [(1,)]
    finally:
        with psycopg.connect(dsn, autocommit=True) as owner:
            owner.execute("DROP TABLE navigate.h1_probe_fact")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "table",
    [
        pytest.param("explore.raw_data", id="explore"),
        pytest.param("chart.quarantine", id="chart"),
        pytest.param("pipeline.batches", id="pipeline"),
        pytest.param("quality.scorecards", id="quality"),
        pytest.param("compliance.data_assets", id="compliance"),
        pytest.param("archive.snapshots", id="archive"),
    ],
)
def test_atlas_read_is_denied_outside_navigate(dsn: str, table: str) -> None:
    """atlas_read gets permission denied on every table outside navigate."""
    with _as_role(dsn, "atlas_read") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f"SELECT 1 FROM {table} LIMIT 1")


@pytest.mark.postgres
def test_atlas_write_can_only_append_to_the_audit_log(dsn: str) -> None:
    """atlas_write inserts audit events but cannot update them, through the parent or a partition."""
    with _as_role(dsn, "atlas_write") as conn:
        conn.execute("INSERT INTO compliance.audit_log (action) VALUES ('test.append')")
        partition = conn.execute(
            "SELECT tableoid::regclass::text FROM compliance.audit_log WHERE action = 'test.append'"
        ).fetchone()[0]
        for target in ("compliance.audit_log", partition):
            conn.execute("SAVEPOINT attempt")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"UPDATE {target} SET action = 'test.tampered'")
            conn.execute("ROLLBACK TO SAVEPOINT attempt")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("table", "row"),
    [
        pytest.param(
            "explore.source_systems",
            "(source_name, owner, connector_type, config, config_checksum) "
            "VALUES ('h1', 'team', 'files', '{}', 'x')",
            id="explore",
        ),
        pytest.param(
            "pipeline.batches",
            "(batch_id, source_name, entity_name, interval_start, interval_end, status) "
            "VALUES (gen_random_uuid(), 'h1', 'e', now(), now(), 'landed')",
            id="pipeline",
        ),
        pytest.param(
            "quality.scorecards",
            "(scorecard_date, table_name, score, grade) VALUES (current_date, 'h1', 95, 'A')",
            id="quality",
        ),
        pytest.param(
            "archive.snapshots",
            "(bucket, object_key, source_table, partition_name, row_count, checksum, retain_until) "
            "VALUES ('b', 'k', 'explore.raw_data', 'explore.raw_data_p200001', 0, 'c', "
            "now() + interval '1 day')",
            id="archive",
        ),
    ],
)
def test_atlas_write_writes_the_pipeline_schemas(dsn: str, table: str, row: str) -> None:
    """atlas_write inserts, reads and deletes rows of the pipeline-managed schemas."""
    with _as_role(dsn, "atlas_write") as conn:
        conn.execute(f"INSERT INTO {table} {row}")
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 1
        conn.execute(f"DELETE FROM {table}")


@pytest.mark.postgres
def test_atlas_write_can_maintain_partitions(dsn: str) -> None:
    """atlas_write may call ensure_partition although it does not own the parent table."""
    with _as_role(dsn, "atlas_write") as conn:
        name = conn.execute(
            "SELECT pipeline.ensure_partition('explore.raw_data', 'month', '2039-03-03T00:00:00Z')"
        ).fetchone()[0]
        assert name == "explore.raw_data_p203903"
