"""Scale-out: a source DAG on CeleryExecutor with two workers, against the local Redis broker and
a PostgreSQL metadata database, leaves the warehouse a ``dag.test()`` run leaves.

The stack is ``python -m atlas_dev up --executor celery`` (``make up EXECUTOR=celery``): the
scheduler, dag-processor, api-server and triggerer, and two Celery workers listening on a queue
of this test's own (so a broker shared with other runs never hands them foreign tasks). Each
worker reports its name as the task's host (``atlas_dev.stack.worker_hostname``), which is how
the test sees that both ran tasks. The source is ``shop`` (three entities, 25 tasks: enough to
spread), scheduled manually here (``schedule: null``) so the only run is the one the test triggers.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from atlas.constants import SOURCES_DIR
from atlas_dev.demo_sources import SHOP_DATABASE
from atlas_dev.embedded_pg import uri
from tests.fixtures.digests import table_digests
from tests.fixtures.postgres import PgServer
from tests.fixtures.stack import REPO, ApiClient, Stack, stack_folder, start_stack
from tests.fixtures.warehouse import WAREHOUSE_CONN_ENV, WarehouseTemplate, clone_warehouse

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.airflow,
    pytest.mark.slow(seconds=165),
    pytest.mark.timeout(2400),
]

DAG_ID = "atlas_shop"
DAY = dt.date(2026, 1, 1)
"""A day of the stack's sample shop database (``atlas_dev.demo_sources``)."""
BROKER = os.environ.get("ATLAS_TEST_BROKER", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    folder = stack_folder("celery")
    sources = folder / "sources"
    sources.mkdir()
    text = (SOURCES_DIR / "shop.yaml").read_text()
    assert 'schedule: "@daily"' in text
    (sources / "shop.yaml").write_text(text.replace('schedule: "@daily"', "schedule: null", 1))
    yield from start_stack(
        folder,
        ATLAS_UP_EXECUTOR="celery",
        ATLAS_UP_WORKERS="2",
        ATLAS_UP_BROKER=BROKER,
        ATLAS_UP_QUEUE=f"atlas-test-{uuid.uuid4().hex[:8]}",
        ATLAS_SOURCES_DIR=str(sources),
        ATLAS_STRICT_SOURCES="1",
    )


@pytest.fixture(scope="module")
def celery_run(stack: Stack) -> dict[str, Any]:
    api = ApiClient(stack.url, "admin", stack.password)
    api.wait_for_dag(DAG_ID)
    api.patch(f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    start = dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    api.post(
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        {
            "dag_run_id": "celery",
            "logical_date": start.isoformat(),  # a cron interval's logical date is its start
            "data_interval_start": start.isoformat(),
            "data_interval_end": end.isoformat(),
        },
    )
    run = api.wait_for_run(DAG_ID, "celery")
    return {"run": run, "tasks": api.task_instances(DAG_ID, "celery")}


def copy_hash_key(source: str, target: str) -> None:
    """Give ``target`` the change-hash key of ``source`` (each migrated warehouse makes its own,
    V017), so equal rows have equal keyed hashes in both."""
    with psycopg.connect(source) as conn:
        cursor = conn.execute("SELECT * FROM pipeline.hash_key")
        columns = [c.name for c in cursor.description or ()]
        rows = cursor.fetchall()
    with psycopg.connect(target) as conn:
        conn.execute("DELETE FROM pipeline.hash_key")
        insert = sql.SQL("INSERT INTO pipeline.hash_key ({}) VALUES ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        )
        conn.cursor().executemany(insert, rows)


@pytest.fixture(scope="module")
def dag_test_warehouse(
    stack: Stack,
    celery_run: dict[str, Any],
    pg_server: PgServer,
    warehouse_template: WarehouseTemplate,
    empty_airflow_db: Path,
) -> Iterator[str]:
    """The same interval run with ``dag.test()`` (``atlas.cli run``) into a fresh warehouse, reading
    the stack's shop database."""
    name, dsn = clone_warehouse(pg_server, warehouse_template)
    work = Path(stack.folder) / "dag_test"
    work.mkdir()
    try:
        copy_hash_key(stack.warehouse, dsn)
        shutil.copyfile(empty_airflow_db, work / "airflow.db")
        from psycopg.conninfo import conninfo_to_dict

        shop = uri({**conninfo_to_dict(stack.warehouse), "dbname": SHOP_DATABASE}, host_in_authority=True)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO / "dags"), str(REPO)]),
            "AIRFLOW_HOME": str(work),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{work / 'airflow.db'}",
            "AIRFLOW__COSMOS__CACHE_DIR": str(work / "cosmos"),
            "AIRFLOW_CONN_SHOP_SOURCE": shop,
            WAREHOUSE_CONN_ENV: pg_server.airflow_uri(name),
            "ATLAS_SOURCES_DIR": str(SOURCES_DIR),
        }
        done = subprocess.run(
            [sys.executable, "-m", "atlas.cli", "run", "shop", "--date", DAY.isoformat()],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        yield dsn
    finally:
        pg_server.drop_database(name)
        shutil.rmtree(work, ignore_errors=True)


def test_the_source_dag_ran_on_both_celery_workers(stack: Stack, celery_run: dict[str, Any]) -> None:
    assert celery_run["run"]["state"] == "success", stack.logs()
    hosts = {t["hostname"].split("@")[0] for t in celery_run["tasks"] if t["state"] == "success"}
    assert hosts == {"worker1", "worker2"}, celery_run["tasks"]
    assert all(t["state"] == "success" for t in celery_run["tasks"]), celery_run["tasks"]


def test_the_celery_run_leaves_what_a_dag_test_run_leaves(stack: Stack, dag_test_warehouse: str) -> None:
    celery, single = table_digests(stack.warehouse), table_digests(dag_test_warehouse)
    # The stack's shop.yaml has `schedule: null` (module docstring), the dag.test() run the bundled
    # one: explore.source_systems records each file, so it differs in the schedule and what
    # derives from the file's text; every other value must be equal.
    sources = [celery.pop("explore.source_systems"), single.pop("explore.source_systems")]
    for digest in sources:
        for column in ("", "schedule", "config", "config_checksum"):
            del digest[column]
    assert sources[0] == sources[1]
    query = "SELECT schedule FROM explore.source_systems WHERE source_name = 'shop'"
    assert [fetch_one(stack.warehouse, query), fetch_one(dag_test_warehouse, query)] == [None, "@daily"]
    assert celery.keys() == single.keys()
    differing = {
        table: [column for column in celery[table] if celery[table][column] != single[table].get(column)]
        for table in celery
        if celery[table] != single[table]
    }
    assert differing == {}
    assert celery["chart.shop__orders"][""][0] > 0  # the interval had rows


def fetch_one(dsn: str, query: str) -> Any:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    return row[0]
