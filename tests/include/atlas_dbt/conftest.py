"""Fixtures of the dbt project tests: the generated project of the sample sources, chart tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from atlas.dbt.project import DBT_PROJECT_DIR_ENV
from tests.include.atlas_dbt.chart_tables import create_chart_tables, sample_sources
from tests.include.atlas_dbt.project import copy_project


@pytest.fixture(scope="module", autouse=True)
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The dbt project with the sample sources' generated models; every dbt run of the module uses it."""
    project = copy_project(tmp_path_factory.mktemp("project") / "atlas_dbt")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DBT_PROJECT_DIR_ENV, str(project))
        yield project


@pytest.fixture
def chart_dsn(fresh_warehouse_dsn: str) -> str:
    """A migrated warehouse of this test with empty chart tables for crm, shop and support."""
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        create_chart_tables(conn, sample_sources().values())
    return fresh_warehouse_dsn
