"""``make up`` / ``make down`` and Airflow's REST API against the stack it starts.

One stack for the module (``python -m atlas_dev up``: embedded PostgreSQL, S3, the sample sources,
api-server, scheduler, dag-processor, triggerer); the ``support`` source is driven through the
REST API only, as an external system would: a JWT from ``/auth/token``, triggers over plain HTTP
and through ``apache-airflow-client``, a backfill, an asset event.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest

from tests.fixtures.digests import table_digests
from tests.fixtures.stack import REPO, ApiClient, Stack, stack_env, stack_folder, start_stack

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.airflow,
    pytest.mark.slow(seconds=240),
    pytest.mark.timeout(2400),
]

DAG_ID = "atlas_support"
ASSET_URI = "helpdesk://support/tickets-exported"
DAY1 = dt.datetime(2025, 12, 31, tzinfo=dt.UTC)
DAY2 = DAY1 + dt.timedelta(days=1)
DAY3 = DAY2 + dt.timedelta(days=1)


BATCHES = frozenset({"pipeline.batches"})
"""Left out of the warehouse digests: the scheduler's own daily run (at 00:00 UTC, should a test
span it) adds a batch row there; the batches of the test's intervals are compared on their own."""


def iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    yield from start_stack(stack_folder("stack"))


@pytest.fixture(scope="module")
def api(stack: Stack) -> ApiClient:
    client = ApiClient(stack.url, "admin", stack.password)
    client.wait_for_dag(DAG_ID)
    client.patch(f"/api/v2/dags/{DAG_ID}", {"is_paused": False})
    return client


def batches(dsn: str) -> dict[dt.datetime, str]:
    """The run id that last wrote each support interval."""
    return {start: run_id for start, (run_id, _) in batch_runs(dsn).items()}


def batch_runs(dsn: str) -> dict[dt.datetime, tuple[str, dt.datetime]]:
    """Per support interval with rows: the run id that last wrote it, and when it started."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT interval_start, run_id, started_at FROM pipeline.batches "
            "WHERE source_name = 'support' AND rows_read > 0"
        ).fetchall()
    return {start: (run_id, started) for start, run_id, started in rows}


def batch_counts(dsn: str) -> list[tuple[Any, ...]]:
    """What the batches of the test's intervals counted (their run ids and times left out)."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT batch_id, interval_start, interval_end, rows_read, rows_landed, rows_quarantined, "
            "rows_promoted, rows_rejected, checksum, status FROM pipeline.batches "
            "WHERE source_name = 'support' AND interval_start >= %s AND interval_start < %s ORDER BY 1",
            (DAY1, DAY3),
        ).fetchall()


@pytest.fixture(scope="module")
def triggered(stack: Stack, api: ApiClient) -> dict[str, Any]:
    """Day 1 triggered over HTTP, day 2 through apache-airflow-client; both polled to the end."""
    import airflow_client.client as client

    by_http = api.post(
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        {
            "dag_run_id": "rest_http",
            "logical_date": iso(DAY1),  # a cron interval's logical date is its start
            "data_interval_start": iso(DAY1),
            "data_interval_end": iso(DAY2),
        },
    )
    configuration = client.Configuration(host=stack.url, access_token=api.token)
    with client.ApiClient(configuration) as session:
        runs = client.DagRunApi(session)
        runs.trigger_dag_run(
            DAG_ID,
            client.TriggerDAGRunPostBody(
                dag_run_id="rest_client",
                logical_date=DAY2,
                data_interval_start=DAY2,
                data_interval_end=DAY3,
            ),
        )
        http_run = api.wait_for_run(DAG_ID, by_http["dag_run_id"])
        deadline = time.monotonic() + 900
        while (client_run := runs.get_dag_run(DAG_ID, "rest_client")).state not in ("success", "failed"):
            assert time.monotonic() < deadline, "rest_client did not finish"
            time.sleep(3)
    return {"http": http_run, "client_state": str(client_run.state), "batches": batches(stack.warehouse)}


def test_up_prints_the_url_and_the_login_and_the_api_checks_it(stack: Stack, api: ApiClient) -> None:
    assert "Atlas is up in" in stack.output
    assert stack.url in stack.output
    assert f"login admin / {stack.password}" in stack.output
    assert api.get("/api/v2/monitor/health")["scheduler"]["status"] == "healthy"
    with pytest.raises(AssertionError, match="401"):
        ApiClient(stack.url, "admin", stack.password + "x")
    with pytest.raises(AssertionError, match=r"401|403"):
        api._send("GET", f"/api/v2/dags/{DAG_ID}", token="not-a-jwt")


def test_a_source_dag_triggered_over_http_and_through_the_client_lands_its_interval(
    triggered: dict[str, Any], stack: Stack
) -> None:
    assert triggered["http"]["state"] == "success", stack.logs()
    assert triggered["client_state"] in ("success", "DagRunState.SUCCESS"), stack.logs()
    assert triggered["batches"][DAY1] == "rest_http"
    assert triggered["batches"][DAY2] == "rest_client"


def test_a_backfill_of_two_intervals_succeeds_and_leaves_the_warehouse_as_it_was(
    triggered: dict[str, Any], stack: Stack, api: ApiClient
) -> None:
    before, counted = table_digests(stack.warehouse, skip=BATCHES), batch_counts(stack.warehouse)
    written = batch_runs(stack.warehouse)
    backfill = api.post(
        "/api/v2/backfills",
        {
            "dag_id": DAG_ID,
            "from_date": iso(DAY1),
            "to_date": iso(DAY2),
            "reprocess_behavior": "completed",  # both intervals ran already: run them again
            "max_active_runs": 1,
        },
    )
    deadline = time.monotonic() + 1200
    while api.get(f"/api/v2/backfills/{backfill['id']}")["completed_at"] is None:
        assert time.monotonic() < deadline, "the backfill did not complete"
        time.sleep(3)
    # the two runs of those intervals were cleared and run again as the backfill's
    runs = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns?run_type=backfill")["dag_runs"]
    assert sorted((r["data_interval_start"], r["state"]) for r in runs) == [
        (iso(DAY1), "success"),
        (iso(DAY2), "success"),
    ], stack.logs()
    again = batch_runs(stack.warehouse)
    assert again[DAY1][1] > written[DAY1][1]  # both intervals were landed again
    assert again[DAY2][1] > written[DAY2][1]
    assert table_digests(stack.warehouse, skip=BATCHES) == before  # and no value changed
    assert batch_counts(stack.warehouse) == counted


def test_an_asset_event_runs_the_dependent_source_for_the_interval_it_names(
    triggered: dict[str, Any], stack: Stack, api: ApiClient
) -> None:
    (asset,) = [a for a in api.get("/api/v2/assets?limit=100")["assets"] if a["uri"] == ASSET_URI]
    assert {d["dag_id"] for d in asset["scheduled_dags"]} == {DAG_ID}
    before, counted = table_digests(stack.warehouse, skip=BATCHES), batch_counts(stack.warehouse)
    api.post(
        "/api/v2/assets/events",
        {"asset_id": asset["id"], "extra": {"interval_start": iso(DAY2), "interval_end": iso(DAY3)}},
    )
    deadline = time.monotonic() + 300
    while not (runs := api.get(f"/api/v2/dags/{DAG_ID}/dagRuns?run_type=asset_triggered")["dag_runs"]):
        assert time.monotonic() < deadline, "no asset-triggered run was created"
        time.sleep(2)
    (run,) = runs
    assert api.wait_for_run(DAG_ID, run["dag_run_id"])["state"] == "success", stack.logs()
    assert batches(stack.warehouse)[DAY2] == run["dag_run_id"]  # it processed the event's interval
    assert table_digests(stack.warehouse, skip=BATCHES) == before
    assert batch_counts(stack.warehouse) == counted


def test_up_killed_while_starting_leaves_nothing_running() -> None:
    """SIGTERM to `make up` half-way (its services started, Airflow not yet): it stops all it
    started, the embedded PostgreSQL included, and exits non-zero."""
    folder = stack_folder("killed")
    env = stack_env(folder)
    up = subprocess.Popen(
        [sys.executable, "-m", "atlas_dev", "up"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    state_file = folder / "state.json"
    deadline = time.monotonic() + 180
    while not (state_file.exists() and '"s3"' in state_file.read_text()):
        assert up.poll() is None, up.communicate()[0]
        assert time.monotonic() < deadline, "up did not reach its S3 endpoint"
        time.sleep(0.2)
    state = json.loads(state_file.read_text())
    pid_file = Path(state["pgdata"]) / "postmaster.pid"
    postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
    started = [psutil.Process(p["pid"]) for p in state["processes"]]
    up.send_signal(signal.SIGTERM)
    output, _ = up.communicate(timeout=180)
    assert up.returncode != 0, output
    assert "make up failed; stopping what it started" in output
    survivors = [p for p in [postmaster, *started] if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == [], output
    assert not state_file.exists()
    shutil.rmtree(folder, ignore_errors=True)


def stack_processes(stack: Stack) -> list[psutil.Process]:
    """Every process the stack runs: its components, their children, and the PostgreSQL server."""
    found: list[psutil.Process] = []
    for started in stack.state["processes"]:
        try:
            root = psutil.Process(started["pid"])
        except psutil.NoSuchProcess:
            continue
        found += [root, *root.children(recursive=True)]
    postmaster = Path(stack.state["pgdata"]) / "postmaster.pid"
    if postmaster.exists():
        root = psutil.Process(int(postmaster.read_text().split()[0]))
        found += [root, *root.children(recursive=True)]
    return found


def test_down_stops_every_process_of_up_and_nothing_else(stack: Stack) -> None:
    processes = stack_processes(stack)
    assert len(processes) >= 8  # api-server, scheduler, dag-processor, triggerer, S3, API, postgres…
    bystander = subprocess.Popen(["sleep", "600"], start_new_session=True)
    try:
        done = stack.down()
        assert done.returncode == 0, done.stdout + done.stderr
        survivors = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        assert survivors == [], [p.cmdline() for p in survivors]
        assert bystander.poll() is None  # a process up did not start is left alone
        assert not (stack.folder / "state.json").exists()
        again = stack.down()
        assert again.returncode == 0
        assert "nothing to stop" in again.stdout
    finally:
        os.kill(bystander.pid, signal.SIGKILL)
        bystander.wait()
