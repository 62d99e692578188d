"""The read role, logged in as itself: navigate only, no temporary tables, large objects or advisory locks."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tests.fixtures.postgres import PgServer


@pytest.fixture
def analyst_dsn(fresh_warehouse_dsn: str, pg_server: PgServer) -> Iterator[str]:
    """A LOGIN role that is a member of atlas_read, and the DSN of the warehouse as that role."""
    name = f"atlas_analyst_{secrets.token_hex(4)}"
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE atlas_read").format(sql.Identifier(name)))
    try:
        yield make_conninfo(fresh_warehouse_dsn, user=name)
    finally:
        with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


def test_the_analyst_reads_navigate(analyst_dsn: str) -> None:
    """The read role still reads what it is for: navigate's views."""
    with psycopg.connect(analyst_dsn) as conn:
        assert conn.execute("SELECT count(*) >= 0 FROM navigate.data_dictionary").fetchone() == (True,)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("CREATE TEMPORARY TABLE scratch (x int)", id="temp-table"),
        pytest.param("SELECT lo_create(0)", id="lo-create"),
        pytest.param("SELECT lo_from_bytea(0, 'x'::bytea)", id="lo-from-bytea"),
        pytest.param("SELECT pg_advisory_lock(hashtext('atlas.batch:x'))", id="advisory-session-lock"),
        pytest.param(
            "SELECT pg_advisory_xact_lock(hashtext('chart.crm__customers'))", id="advisory-xact-lock"
        ),
        pytest.param("SELECT pg_try_advisory_lock(1, 2)", id="advisory-try-lock"),
        pytest.param("SELECT pg_advisory_lock_shared(1)", id="advisory-shared-lock"),
        pytest.param("SELECT count(*) FROM explore.raw_data", id="explore"),
    ],
)
def test_the_analyst_cannot_stall_or_fill_the_warehouse(analyst_dsn: str, statement: str) -> None:
    """Temporary tables, large objects, advisory locks and other schemas are refused to the read role."""
    with psycopg.connect(analyst_dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_pipeline_keeps_what_it_needs(fresh_warehouse_dsn: str, pg_server: PgServer) -> None:
    """A LOGIN member of atlas_write may create temporary tables and take advisory locks."""
    name = f"atlas_pipeline_{secrets.token_hex(4)}"
    with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE atlas_write").format(sql.Identifier(name)))
    try:
        with psycopg.connect(make_conninfo(fresh_warehouse_dsn, user=name)) as conn:
            conn.execute("CREATE TEMPORARY TABLE scratch (x int)")
            assert conn.execute("SELECT pg_try_advisory_xact_lock(hashtext('atlas.batch:x'))").fetchone() == (
                True,
            )
            conn.execute("DROP TABLE scratch")  # before the role is dropped: a backend ends asynchronously
    finally:
        with psycopg.connect(pg_server.admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))
