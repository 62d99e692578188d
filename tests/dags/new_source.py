"""Test helper: a source that only adds its YAML, run for real with ``dag.test()``.

``new_source()`` copies the repository's sources folder (the hand-written facts read their models)
beside the new YAML, generates, parses and splits a private copy of the dbt project for it as
``make setup`` does, and clones a fresh warehouse; ``NewSource.run(day)`` runs the DAG
``build_dag`` makes of the YAML for that day. ``NewSource.write(source)`` replaces the YAML and
regenerates the project (a changed classification, say) for the next run.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from atlas.constants import SOURCES_DIR
from atlas.dbt.project import DBT_PROJECT_DIR_ENV
from tests.fixtures.airflow_db import write_and_load_dag
from tests.fixtures.environment import SessionDirs
from tests.fixtures.postgres import PgServer
from tests.fixtures.warehouse import WAREHOUSE_CONN_ENV, WarehouseTemplate, clone_warehouse
from tests.include.atlas_dbt.project import generated_project


def files_source(name: str, data_dir: Path, entities: list[dict[str, Any]]) -> dict[str, Any]:
    """The YAML (as a mapping) of a daily CSV source ``name`` reading ``data_dir``, with ``entities``."""
    return {
        "name": name,
        "owner": f"{name}-team",
        "schedule": "@daily",
        "start_date": "2026-01-01",
        "connector": {"type": "files", "format": "csv", "location": str(data_dir), "select": "path"},
        "entities": entities,
    }


def rows(dsn: str, statement: str) -> list[tuple[Any, ...]]:
    """What ``statement`` returns in the warehouse ``dsn`` (as its owner)."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(statement).fetchall()


@dataclass
class NewSource:
    """The new source's folder, warehouse and dbt project; ``run()`` runs its DAG for a day."""

    root: Path
    name: str
    dsn: str
    session_dirs: SessionDirs
    patch: pytest.MonkeyPatch
    project: Path = field(init=False)
    _projects: int = field(default=0, init=False)

    @property
    def source_path(self) -> Path:
        return self.root / "sources" / f"{self.name}.yaml"

    @property
    def dag_id(self) -> str:
        return f"atlas_{self.name}"

    def write(self, source: Mapping[str, Any]) -> None:
        """The source's YAML is ``source``; its dbt files are generated into a new project copy."""
        self.source_path.write_text(yaml.safe_dump(dict(source), sort_keys=False))
        self._projects += 1
        manifest = generated_project(self.root / f"atlas_dbt_{self._projects}", self.root / "sources")
        self.project = manifest.parents[1]
        self.patch.setenv(DBT_PROJECT_DIR_ENV, str(self.project))

    def run(self, day: dt.date) -> dict[str, Any]:
        """The DAG run for ``day`` (logical date ``day + 1``): its ids, its state and each task's."""
        dag = write_and_load_dag(
            self.session_dirs.test_dags,
            self.dag_id,
            f"""
            from pathlib import Path

            from atlas.config import load_source
            from atlas.factory.builder import build_dag

            path = Path({str(self.source_path)!r})
            dag = build_dag(load_source(path), path)
            """,
        )
        run = dag.test(logical_date=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC))
        return {
            "dsn": self.dsn,
            "dag_id": self.dag_id,
            "run_id": run.run_id,
            "state": str(run.state),
            "states": {ti.task_id: str(ti.state) for ti in run.get_task_instances()},
        }


@contextmanager
def new_source(
    root: Path,
    source: Mapping[str, Any],
    files: Mapping[str, str],
    *,
    pg_server: PgServer,
    warehouse_template: WarehouseTemplate,
    session_dirs: SessionDirs,
) -> Iterator[NewSource]:
    """The source ``source`` (its YAML as a mapping) with its data ``files`` (path under
    ``root/data`` -> text) beside the repository's sources, a fresh warehouse, its dbt project."""
    for path, text in files.items():
        (root / "data" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "data" / path).write_text(text)
    shutil.copytree(SOURCES_DIR, root / "sources")
    warehouse_name, dsn = clone_warehouse(pg_server, warehouse_template)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(WAREHOUSE_CONN_ENV, pg_server.airflow_uri(warehouse_name))
            patch.setenv("ATLAS_SOURCES_DIR", str(root / "sources"))
            made = NewSource(root, str(source["name"]), dsn, session_dirs, patch)
            made.write(source)
            try:
                yield made
            finally:
                (session_dirs.test_dags / f"{made.dag_id}.py").unlink(missing_ok=True)
    finally:
        pg_server.drop_database(warehouse_name)
