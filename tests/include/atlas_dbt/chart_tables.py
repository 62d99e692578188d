"""Test helpers for the dbt project: chart tables shaped like the promotion's, and dbt runs.

The chart tables are created here from the source YAML (typed columns, the lineage columns, a
primary key on the entity key), the shape ``chart.<source>__<entity>`` has in the warehouse, so
the dbt tests do not depend on the promotion code. dbt runs as a subprocess (the ``dbt`` of ``.venv``)
against the test's database, with its target and log paths in a temporary folder, on the project
``atlas.dbt.project.dbt_project_dir()`` names (tests point it at a generated copy, ``project.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging
import os
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from atlas.batches import Interval, batch_id
from atlas.config import SourceConfig
from atlas.config.loader import load_source
from atlas.constants import SOURCES_DIR
from atlas.dbt.project import dbt_executable, dbt_project_dir

log = logging.getLogger(__name__)

LINEAGE_COLUMNS = (
    ("_record_key", "text NOT NULL"),
    ("_raw_id", "bigint NOT NULL"),
    ("_batch_id", "uuid NOT NULL"),
    ("_interval_start", "timestamptz NOT NULL"),
    ("_payload_checksum", "text NOT NULL"),
    ("_promoted_at", "timestamptz NOT NULL DEFAULT now()"),
)
_raw_ids = itertools.count(1)


def sample_sources() -> dict[str, SourceConfig]:
    """The three sample sources (crm, shop, support) by name."""
    return {name: load_source(SOURCES_DIR / f"{name}.yaml") for name in ("crm", "shop", "support")}


def create_chart_tables(conn: psycopg.Connection, configs: Iterable[SourceConfig]) -> None:
    """Create ``chart.<source>__<entity>`` for every entity of ``configs``."""
    for config in configs:
        for entity in config.entities:
            columns = [
                sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type.pg_type))
                for c in entity.columns
            ]
            columns += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in LINEAGE_COLUMNS]
            conn.execute(
                sql.SQL("CREATE TABLE {}.{} ({}, PRIMARY KEY ({}))").format(
                    sql.Identifier("chart"),
                    sql.Identifier(f"{config.name}__{entity.name}"),
                    sql.SQL(", ").join(columns),
                    sql.SQL(", ").join(map(sql.Identifier, entity.key)),
                )
            )


def promote(
    conn: psycopg.Connection,
    config: SourceConfig,
    entity_name: str,
    rows: Iterable[Mapping[str, Any]],
    interval: Interval,
) -> None:
    """Upsert typed rows into the entity's chart table as the promotion of ``interval`` would."""
    entity = config.entity(entity_name)
    names = [c.name for c in entity.columns] + [n for n, _ in LINEAGE_COLUMNS[:-1]]
    statement = sql.SQL(
        "INSERT INTO {table} ({columns}) VALUES ({values}) "
        "ON CONFLICT ({key}) DO UPDATE SET {updates}, _promoted_at = now()"
    ).format(
        table=sql.Identifier("chart", f"{config.name}__{entity.name}"),
        columns=sql.SQL(", ").join(map(sql.Identifier, names)),
        values=sql.SQL(", ").join(sql.Placeholder() * len(names)),
        key=sql.SQL(", ").join(map(sql.Identifier, entity.key)),
        updates=sql.SQL(", ").join(
            sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n)) for n in names if n not in entity.key
        ),
    )
    batch = batch_id(config.name, entity.name, interval)
    for row in rows:
        payload = json.dumps({c.name: row.get(c.name) for c in entity.columns}, default=str, sort_keys=True)
        values = [row.get(c.name) for c in entity.columns] + [
            "|".join(str(row[k]) for k in entity.key),
            next(_raw_ids),
            batch,
            interval.start,
            hashlib.md5(payload.encode()).hexdigest(),
        ]
        conn.execute(statement, values)


def day(year: int, month: int, dom: int) -> Interval:
    """The daily data interval starting at midnight UTC of the given day."""
    start = dt.datetime(year, month, dom, tzinfo=dt.UTC)
    return Interval(start, start + dt.timedelta(days=1))


NAVIGATE_TASK_ENV = (
    "ATLAS_INTERVAL_START",
    "ATLAS_INTERVAL_END",
    "ATLAS_DAG_ID",
    "ATLAS_RUN_ID",
    "ATLAS_TASK_ID",
)
"""The names of atlas.dbt.task_group.DBT_ENV (not imported: that would import Cosmos and Airflow here)."""


def dbt_env(dsn: str) -> dict[str, str]:
    """Environment of a dbt subprocess whose profile (``profiles.yml``) points at ``dsn``."""
    params = conninfo_to_dict(dsn)
    # the navigate tasks' interval and DAG run (atlas.dbt.task_group.DBT_ENV): Cosmos leaves them in
    # the environment of a process that ran a DAG, and a dbt run here takes its interval from vars
    env = {k: v for k, v in os.environ.items() if k not in NAVIGATE_TASK_ENV}
    env.update(
        ATLAS_DBT_HOST=str(params.get("host") or "127.0.0.1"),
        ATLAS_DBT_PORT=str(params.get("port") or 5432),
        ATLAS_DBT_USER=str(params.get("user") or "postgres"),
        ATLAS_DBT_PASSWORD=str(params.get("password") or ""),
        ATLAS_DBT_DBNAME=str(params["dbname"]),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DO_NOT_TRACK="1",
    )
    return env


def dbt_command(work_dir: Path, *args: str, dbt_vars: Mapping[str, str] | None = None) -> list[str]:
    """The command line of ``dbt <args>`` on the project; target and logs go under ``work_dir``."""
    project = dbt_project_dir()
    command = [
        str(dbt_executable()),
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    if dbt_vars:
        command += ["--vars", json.dumps(dict(dbt_vars))]
    return command


def run_dbt(
    dsn: str,
    work_dir: Path,
    *args: str,
    dbt_vars: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``dbt <args>`` on the project against ``dsn``; target and logs go under ``work_dir``."""
    command = dbt_command(work_dir, *args, dbt_vars=dbt_vars)
    result = subprocess.run(
        command, env={**dbt_env(dsn), **(env or {})}, capture_output=True, text=True, timeout=300, check=False
    )
    log.info("dbt %s exited %s\n%s", " ".join(args), result.returncode, result.stdout[-4000:])
    return result


def interval_vars(interval: Interval) -> dict[str, str]:
    """The dbt vars of a manual run of ``interval`` (``dbt build --vars …``)."""
    return {"interval_start": interval.start.isoformat(), "interval_end": interval.end.isoformat()}


def interval_env(interval: Interval) -> dict[str, str]:
    """The environment the navigate tasks give dbt for a DAG run of ``interval`` (INTERVAL_ENV)."""
    return {
        "ATLAS_INTERVAL_START": interval.start.isoformat(),
        "ATLAS_INTERVAL_END": interval.end.isoformat(),
    }


def query(dsn: str, statement: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    """All rows of one query (tests only; statements are literals of the test)."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(statement, list(params)).fetchall()  # type: ignore[arg-type]
