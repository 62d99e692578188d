"""The one create-database helper: new databases, kept ones with if_missing, dropped ones."""

from __future__ import annotations

import psycopg

from atlas_dev.embedded_pg import create_database, drop_database
from tests.fixtures.postgres import PgServer, new_database_name


def test_create_if_missing_keeps_an_existing_database(pg_server: PgServer) -> None:
    """if_missing=True returns the DSN of a database that exists without recreating it."""
    name = new_database_name("atlas_helper")
    dsn = create_database(pg_server.admin_dsn, name)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (x int)")
        assert create_database(pg_server.admin_dsn, name, if_missing=True) == dsn
        with psycopg.connect(dsn) as conn:
            assert conn.execute("SELECT to_regclass('public.kept') IS NOT NULL").fetchone() == (True,)
    finally:
        drop_database(pg_server.admin_dsn, name)
    with psycopg.connect(pg_server.admin_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,)).fetchone() == (0,)
