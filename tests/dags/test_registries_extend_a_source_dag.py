"""A connector and a stage from outside Atlas, added through the registries, run in a real source DAG.

The toy connector and the toy stage are written to a temporary folder as plain Python (no file
of the repository changes); registering them is all it takes for a source YAML to use them.
"""

from __future__ import annotations

import datetime as dt
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from atlas.connectors import CONNECTORS
from atlas.stages import STAGES
from tests.fixtures.airflow_db import write_and_load_dag

pytestmark = [pytest.mark.slow]

TOY_CONNECTOR = '''
"""A connector that makes up its records: rows `<prefix>-<n>` for n in 1..rows."""
from typing import Literal

from atlas.config.connectors import ConnectorConfig
from atlas.config.source import Entity
from atlas.connectors.base import Chunk, ConnectorSpec


class ToyConnector(ConnectorConfig):
    type: Literal["toy"] = "toy"
    rows: int = 3


class ToyEntity(Entity):
    prefix: str


class ToyReader:
    def __init__(self, config):
        self.config = config

    def extract(self, entity, interval):
        records = [
            ({"id": str(n), "label": f"{entity.prefix}-{n}", "day": interval.start.date().isoformat()}, f"toy#{n}")
            for n in range(1, self.config.rows + 1)
        ]
        yield Chunk(records=records)


SPEC = ConnectorSpec(name="toy", config_model=ToyConnector, entity_model=ToyEntity, reader=ToyReader)
'''

TOY_STAGE = '''
"""A stage between promote and navigate that reads its own YAML section and checks chart."""
from pydantic import BaseModel

from atlas.stages import Stage, StageTasks


class ToyCheck(BaseModel):
    expect: int = 0
    report: str = ""


def add_tasks(context):
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.sdk import task

    settings = context.config.toy_check

    @task(task_id="toy_check")
    def check():
        found = PostgresHook(postgres_conn_id="atlas_warehouse").get_first(
            "SELECT count(*) FROM chart.toy__things"
        )[0]
        with open(settings.report, "w") as handle:
            handle.write(str(found))
        if found != settings.expect:
            raise ValueError(f"chart.toy__things holds {found} rows, expected {settings.expect}")

    checked = check()
    return StageTasks(first=[checked], last=[checked])


STAGE = Stage(
    name="toy_check",
    add_tasks=add_tasks,
    describe=lambda config: "`toy_check`: counts the chart rows",
    after=("promote",),
    before=("navigate",),
    sections={"toy_check": ToyCheck},
)
'''

SOURCE_YAML = """
name: toy
owner: toy-team
schedule: "@daily"
start_date: 2026-01-01
connector: {{type: toy, rows: 4}}
toy_check: {{expect: 4, report: "{report}"}}
entities:
  - name: things
    prefix: thing
    key: [id]
    columns:
      - {{name: id, type: integer, required: true}}
      - {{name: label, type: text, required: true}}
      - {{name: day, type: date}}
"""

DAG_FILE = """
# An Airflow DAG file (Airflow's safe-mode parse skips files that do not say so).
import sys
from pathlib import Path

sys.path.insert(0, {packages!r})
import toy_connector
import toy_stage

from atlas.config import load_source
from atlas.connectors import CONNECTORS
from atlas.factory import build_dag
from atlas.stages import STAGES

CONNECTORS.register(toy_connector.SPEC)
STAGES.register(toy_stage.STAGE)
dag = build_dag(load_source(Path({yaml!r})), Path({yaml!r}))
"""


def test_toy_connector_and_stage_run_in_a_generated_dag(
    fresh_warehouse_dsn: str, airflow_db: Path, session_dirs, tmp_path: Path
) -> None:
    """The toy connector's records reach chart, and the toy stage runs between promote and publish."""
    packages = tmp_path / "packages"
    (packages / "toy_connector").mkdir(parents=True)
    (packages / "toy_connector" / "__init__.py").write_text(textwrap.dedent(TOY_CONNECTOR))
    (packages / "toy_stage.py").write_text(textwrap.dedent(TOY_STAGE))
    report = tmp_path / "report.txt"
    source = tmp_path / "toy.yaml"
    source.write_text(SOURCE_YAML.format(report=report))
    try:
        dag = write_and_load_dag(
            session_dirs.test_dags, "atlas_toy", DAG_FILE.format(packages=str(packages), yaml=str(source))
        )
        # the toy source has no dbt models: navigate adds no task, quality_navigate follows toy_check
        assert "toy_check" in dag.get_task("quality_navigate").upstream_task_ids
        assert "quality_navigate" in dag.get_task("publish").upstream_task_ids
        # between promote and navigate, after the built-in quality gate (ties keep registration order)
        assert "quality_gate" in dag.get_task("toy_check").upstream_task_ids
        assert "promote_things" in dag.get_task("quality_gate").upstream_task_ids
        assert "`toy_check`: counts the chart rows" in dag.doc_md
        run = dag.test(logical_date=dt.datetime(2026, 1, 3, tzinfo=dt.UTC))
        assert run.state == "success"
    finally:
        CONNECTORS.unregister("toy")
        STAGES.unregister("toy_check")
        sys.path.remove(str(packages))
        for module in ("toy_connector", "toy_stage"):
            sys.modules.pop(module, None)
        (session_dirs.test_dags / "atlas_toy.py").unlink(missing_ok=True)
    assert report.read_text() == "4"
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        rows = conn.execute("SELECT id, label, day FROM chart.toy__things ORDER BY id").fetchall()
        registered = conn.execute("SELECT connector_type FROM explore.source_systems").fetchall()
    assert rows == [(n, f"thing-{n}", dt.date(2026, 1, 2)) for n in range(1, 5)]
    assert registered == [("toy",)]
    assert "toy" not in CONNECTORS.all()
    assert "toy_check" not in STAGES.all()
