"""Fixtures of the migrations tests: one database migrated for them all, scratch ones, a copy of sql/.

The tests migrate databases of their own on the session's ``pg_server`` rather than using the
shared ``warehouse_dsn``: that one is a clone of an already-migrated template, and these tests
must watch the first migrate happen.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from atlas.constants import MIGRATIONS_DIR
from atlas.migrations import migrate
from tests.fixtures.postgres import PgServer, new_database_name


@pytest.fixture(scope="session")
def warehouse(pg_server: PgServer) -> Iterator[tuple[str, list[str]]]:
    """A fresh database with every migration of sql/ applied, and the versions applied.

    Made once, on first use, for all the tests of this folder (as one module they shared it).
    """
    name = new_database_name("atlas_migrations")
    dsn = pg_server.create_database(name)
    try:
        yield dsn, migrate(dsn)
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="session")
def dsn(warehouse: tuple[str, list[str]]) -> str:
    return warehouse[0]


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


@pytest.fixture
def scratch_dsn(empty_db_dsn: str) -> str:
    """An empty database of its own, for tests that migrate a copy of sql/."""
    return empty_db_dsn


@pytest.fixture
def sql_copy(tmp_path: Path) -> Path:
    """A copy of sql/ that a test may edit."""
    return Path(shutil.copytree(MIGRATIONS_DIR, tmp_path / "sql"))
