"""Two processes run the same source DAG for the same interval at once: both succeed, one run's rows.

The source is ``shop`` (PostgreSQL, incremental): its navigate has every kind of dbt node Atlas
builds (current-state tables, the ``dim_product`` snapshot, the yearly-partitioned facts); the
crm snapshot's forced overlap is in tests/include/atlas_dbt/test_snapshot_concurrency.py.
Each process is what an operator starts with ``python -m atlas.cli run shop --date D``: its own
Airflow metadata database (as two schedulers or a scheduler and a manual ``airflow dags test``
would not share a run id) and one warehouse for both. The warehouse they leave must equal, table
by table and value by value, the warehouse one run of the interval leaves in a second copy.

The two builds are made to collide: the test holds the navigate lock of every shop node (the
advisory lock each dbt node takes, macros/navigate_lock.sql) until both producers wait for it,
then lets them go, so both reach every node at once, including the first runs of every table.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from atlas.constants import SOURCES_DIR
from atlas_dev.sample import generate
from tests.fixtures.digests import table_digests
from tests.fixtures.postgres import PgServer, new_database_name
from tests.fixtures.warehouse import WAREHOUSE_CONN_ENV, WarehouseTemplate, clone_warehouse

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.airflow,
    pytest.mark.dbt,
    pytest.mark.slow(seconds=75),
    pytest.mark.timeout(1800),  # the module fixture runs three DAG runs, two of them at once
]

REPO = Path(__file__).parents[2]
DAY = dt.date(2026, 1, 5)
RUN_TIMEOUT_S = 600
WAIT_S = 400
"""How long both producers may take to reach navigate and wait at its locks."""
WAITERS = (
    "SELECT count(*) FROM pg_locks AS l JOIN unnest(%s::text[]) AS k(name) "
    "ON l.classid::bigint = ((hashtext(k.name)::bigint >> 32) & 4294967295) "
    "AND l.objid::bigint = (hashtext(k.name)::bigint & 4294967295) "
    "WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objsubid = 1"
)
"""Sessions waiting for one of the navigate locks ``k.name`` (``pg_advisory_lock(hashtext(name))``)."""


def navigate_locks() -> list[str]:
    """``navigate.<table>`` of every shop model and snapshot dbt builds: the keys of their locks."""
    from atlas.dbt.manifest import built_relations, resolve_slices

    manifest = json.loads(resolve_slices().path("source_shop").read_text())
    return [f"{schema}.{table}" for schema, table in built_relations(manifest, "source_shop")]


def start_pair_at_the_locks(dsn: str, start: Any) -> list[tuple[subprocess.Popen[str], Path]]:
    """Hold every navigate lock, start both runs, release once both producers wait at a lock."""
    locks = navigate_locks()
    with psycopg.connect(dsn, autocommit=True) as holder:
        for name in locks:
            holder.execute("SELECT pg_advisory_lock(hashtext(%s))", [name])
        pair = [start(n) for n in (1, 2)]
        deadline = time.monotonic() + WAIT_S
        try:
            while holder.execute(WAITERS, [locks]).fetchone()[0] < 2:
                for process, output in pair:
                    assert process.poll() is None, output.read_text()[-4000:]
                assert time.monotonic() < deadline, "the two builds never both waited at navigate"
                time.sleep(0.5)
        except BaseException:
            stop(pair)
            raise
        holder.execute("SELECT pg_advisory_unlock_all()")
    return pair


def stop(runs: list[tuple[subprocess.Popen[str], Path]]) -> None:
    """Kill runs still going (a failed test leaves no process on a dropped database)."""
    for process, _ in runs:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def query(dsn: str, statement: str) -> tuple[Any, ...]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(statement).fetchone()


def start_run(work: Path, airflow_db: Path, warehouse_uri: str) -> tuple[subprocess.Popen[str], Path]:
    """``python -m atlas.cli run shop --date DAY`` with its own AIRFLOW_HOME and metadata database."""
    work.mkdir(parents=True)
    shutil.copyfile(airflow_db, work / "airflow.db")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO / "dags"), str(REPO)]),
        "AIRFLOW_HOME": str(work),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{work / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(work / "logs"),
        "AIRFLOW__COSMOS__CACHE_DIR": str(work / "cosmos"),
        WAREHOUSE_CONN_ENV: warehouse_uri,
    }
    output = work / "stdout.txt"
    with output.open("w") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "atlas.cli", "run", "shop", "--date", DAY.isoformat()],
            cwd=REPO,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            text=True,
        )
    return process, output


def finish(process: subprocess.Popen[str], output: Path) -> tuple[dt.datetime, dt.datetime]:
    """Wait for a run; assert it succeeded; its DAG run's start and end from its metadata database."""
    process.wait(timeout=RUN_TIMEOUT_S)
    logs = "".join(p.read_text(errors="replace")[-4000:] for p in output.parent.rglob("*.log"))
    assert process.returncode == 0, output.read_text()[-4000:] + logs
    with sqlite3.connect(output.parent / "airflow.db") as db:
        ((start, end),) = db.execute("SELECT start_date, end_date FROM dag_run").fetchall()
    return dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)


@pytest.fixture(scope="module")
def runs(
    pg_server: PgServer,
    warehouse_template: WarehouseTemplate,
    empty_airflow_db: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """Two concurrent runs into one warehouse, then one run into another; both warehouses' digests."""
    monkeypatch = pytest.MonkeyPatch()
    twice_name, twice = clone_warehouse(pg_server, warehouse_template)
    once_name, once = clone_warehouse(pg_server, warehouse_template)
    shop_name = new_database_name("atlas_shop")
    shop = pg_server.create_database(shop_name)
    work = tmp_path_factory.mktemp("concurrent")
    started: list[tuple[subprocess.Popen[str], Path]] = []
    try:
        generate("shop", shop, DAY, DAY + dt.timedelta(days=1))
        (work / "sources").mkdir()
        shutil.copyfile(SOURCES_DIR / "shop.yaml", work / "sources" / "shop.yaml")
        monkeypatch.setenv("ATLAS_SOURCES_DIR", str(work / "sources"))
        monkeypatch.setenv("ATLAS_STRICT_SOURCES", "1")
        monkeypatch.setenv("AIRFLOW_CONN_SHOP_SOURCE", pg_server.airflow_uri(shop_name))
        pair = start_pair_at_the_locks(
            twice, lambda n: start_run(work / f"run{n}", empty_airflow_db, pg_server.airflow_uri(twice_name))
        )
        started.extend(pair)
        spans = [finish(process, output) for process, output in pair]
        started.append(start_run(work / "single", empty_airflow_db, pg_server.airflow_uri(once_name)))
        single = finish(*started[-1])
        orphans = query(
            twice,
            "SELECT (SELECT count(*) FROM chart.shop__orders AS c WHERE NOT EXISTS "
            "(SELECT FROM explore.raw_data AS r WHERE r.raw_id = c._raw_id AND r.record_key = c._record_key)), "
            "(SELECT count(*) FROM chart.quarantine AS q WHERE NOT EXISTS "
            "(SELECT FROM explore.raw_data AS r WHERE r.raw_id = q.raw_id))",
        )
        built_on = [
            sum(
                log.read_text(errors="replace").count("was created by a concurrent run")
                for log in run.glob("*/*.log")
            )
            for run in (work / "run1", work / "run2")
        ]
        yield {
            "built_on": built_on,
            "spans": spans,
            "single": single,
            "twice": table_digests(twice),
            "once": table_digests(once),
            "orphans": orphans,
        }
    finally:
        stop(started)
        monkeypatch.undo()
        pg_server.drop_database(twice_name)
        pg_server.drop_database(once_name)
        pg_server.drop_database(shop_name)


def test_the_two_runs_overlapped(runs: dict[str, Any]) -> None:
    """Both runs were in flight at the same time (their builds were held at navigate's locks)."""
    (start1, end1), (start2, end2) = runs["spans"]
    assert max(start1, start2) < min(end1, end2), runs["spans"]
    # the first-run race was met: a run found tables the other created after its dbt started (how
    # many depends on which build reaches each node first; both runs succeeding is the test below)
    assert sum(runs["built_on"]) >= 1, runs["built_on"]


def test_two_concurrent_runs_leave_what_one_run_leaves(runs: dict[str, Any]) -> None:
    """Every table of explore, chart, navigate and pipeline: same rows, same values, as one run."""
    twice, once = runs["twice"], runs["once"]
    for table in ("navigate.dim_product", "navigate.fact_orders", "navigate.fact_order_lines"):
        assert once[table][""][0] > 0, f"the single run built {table}"
    assert once["chart.quarantine"][""][0] > 0, "the sample's bad rows were rejected"
    assert twice.keys() == once.keys()
    differing = {
        (table, column): (digest, once[table].get(column))
        for table, columns in twice.items()
        for column, digest in columns.items()
        if digest != once[table].get(column)
    }
    assert not differing, " ".join(f"{t}.{c}" for t, c in sorted(differing))


def test_raw_ids_stay_consistent(runs: dict[str, Any]) -> None:
    """Every chart order and chart reject still points at the explore row it came from."""
    assert runs["orphans"] == (0, 0)
