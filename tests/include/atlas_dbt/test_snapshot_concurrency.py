"""SCD2 snapshots under concurrency: two dbt processes at once, and an analyst reading meanwhile.

Two runs of one interval must both succeed and leave what one run leaves, also when both start
before the snapshot table exists; a normal run must take no lock that an analyst's open
transaction on the dimension would make it wait for (nor make the analyst wait). The test holds
the snapshot's advisory lock itself until both dbt processes wait for it, so they overlap for
certain, whatever the start-up time of each.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from atlas.dbt.rules import hashed_columns
from tests.fixtures.roles import login_as
from tests.include.atlas_dbt.chart_tables import (
    day,
    dbt_command,
    dbt_env,
    interval_vars,
    promote,
    query,
    run_dbt,
    sample_sources,
)

pytestmark = [pytest.mark.postgres, pytest.mark.dbt, pytest.mark.slow(seconds=25)]

SOURCES = sample_sources()
DAY1, DAY2 = day(2026, 1, 5), day(2026, 1, 6)
LOCK = "navigate.dim_customer"
"""The advisory lock the snapshot's pre-hook takes (macro navigate_lock)."""
WAIT_S = 240
"""How long both dbt processes may take to start and reach the lock (15-45 s each on 2 cores)."""


def customers(ids: range, interval, street: str = "1 Main Street") -> list[dict[str, Any]]:
    """Valid crm customer rows updated within ``interval``."""
    return [
        {
            "customer_id": i,
            "first_name": f"Name{i}",
            "last_name": "Doe",
            "email": f"c{i}@example.com",
            "phone": None,
            "street": street,
            "city": "Berlin",
            "postal_code": "10115",
            "country": "DE",
            "birth_date": dt.date(1980, 1, 1) + dt.timedelta(days=i),
            "updated_at": interval.start + dt.timedelta(hours=1),
        }
        for i in ids
    ]


@pytest.fixture
def customers_dsn(chart_dsn: str) -> str:
    """The test's warehouse with 50 customers in chart, promoted by DAY1."""
    with psycopg.connect(chart_dsn) as conn:
        promote(conn, SOURCES["crm"], "customers", customers(range(1, 51), DAY1), DAY1)
    return chart_dsn


def start_snapshot(dsn: str, work: Path, interval, **env: str) -> tuple[subprocess.Popen[str], Path]:
    """``dbt snapshot --select dim_customer`` for ``interval`` in the background; its output file."""
    work.mkdir(parents=True, exist_ok=True)
    output = work / "stdout.txt"
    command = dbt_command(work, "snapshot", "--select", "dim_customer", dbt_vars=interval_vars(interval))
    with output.open("w") as handle:
        process = subprocess.Popen(
            command, env={**dbt_env(dsn), **env}, stdout=handle, stderr=subprocess.STDOUT, text=True
        )
    return process, output


def lock_waiters(dsn: str) -> int:
    """Sessions waiting for the snapshot's advisory lock."""
    return query(
        dsn,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objsubid = 1 "
        "AND classid::bigint = ((hashtext(%s)::bigint >> 32) & 4294967295) "
        "AND objid::bigint = (hashtext(%s)::bigint & 4294967295)",
        [LOCK, LOCK],
    )[0][0]


def run_two_at_once(dsn: str, work: Path, interval) -> list[str]:
    """Two snapshot processes held at the lock until both wait, then released; their outputs."""
    with psycopg.connect(dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(hashtext(%s))", [LOCK])
        runs = [start_snapshot(dsn, work / f"run{n}", interval) for n in (1, 2)]
        deadline = time.monotonic() + WAIT_S
        while lock_waiters(dsn) < 2:
            assert all(p.poll() is None for p, _ in runs), [o.read_text()[-3000:] for _, o in runs]
            assert time.monotonic() < deadline, "the two snapshot runs never both waited for the lock"
            time.sleep(0.5)
        holder.execute("SELECT pg_advisory_unlock(hashtext(%s))", [LOCK])
    outputs = []
    for process, output in runs:
        process.wait(timeout=300)
        text = output.read_text()
        assert process.returncode == 0, text[-4000:]
        outputs.append(text)
    return outputs


def versions(dsn: str) -> list[tuple[Any, ...]]:
    """(customer_id, street, current?, change_hash is the keyed hash of chart's attributes) per version."""
    attributes = ", ".join(f"c.{name}::text" for name in hashed_columns(SOURCES["crm"].entity("customers")))
    return query(
        dsn,
        "SELECT d.customer_id, d.street, d.is_current, "
        f"d.change_hash = pipeline.keyed_hash(row({attributes})::text) "
        "FROM navigate.dim_customer AS d JOIN chart.crm__customers AS c USING (customer_id) "
        "ORDER BY d.customer_id, d.valid_from",
    )


def dbt_logs(work: Path) -> str:
    return "".join(p.read_text() for p in work.rglob("dbt.log"))


def test_two_runs_of_one_interval_at_once_leave_what_one_run_leaves(customers_dsn, tmp_path):
    """First runs (no table yet) and later runs of one interval, two at once: both succeed, one run's versions."""
    assert query(customers_dsn, "SELECT to_regclass('navigate.dim_customer')") == [(None,)]
    outputs = run_two_at_once(customers_dsn, tmp_path / "first", DAY1)
    assert sum("was created by a concurrent run: building on it" in o for o in outputs) == 1
    first = versions(customers_dsn)
    assert first == [(i, "***", True, True) for i in range(1, 51)], "one current version per customer"

    with psycopg.connect(customers_dsn) as conn:  # five customers move on the second day
        promote(conn, SOURCES["crm"], "customers", customers(range(1, 6), DAY2, "2 Other Road"), DAY2)
    run_two_at_once(customers_dsn, tmp_path / "later", DAY2)
    later = versions(customers_dsn)
    assert len(later) == 55, "one new version per changed customer, not two"
    assert [v for v in later if v[0] <= 5] == [(i, "***", c, c) for i in range(1, 6) for c in (False, True)]
    assert query(customers_dsn, "SELECT count(*) FROM navigate.dim_customer WHERE is_current") == [(50,)]
    assert "add column if not exists is_current" not in dbt_logs(tmp_path / "later"), (
        "no ALTER on a normal run"
    )


def test_an_analysts_open_transaction_does_not_block_a_normal_snapshot_run(
    customers_dsn, tmp_path, pg_server
):
    """A normal run takes no lock that conflicts with an analyst's ACCESS SHARE; neither side waits."""
    result = run_dbt(
        customers_dsn,
        tmp_path / "create",
        "snapshot",
        "--select",
        "dim_customer",
        dbt_vars=interval_vars(DAY1),
    )
    assert result.returncode == 0, result.stdout[-4000:]
    with psycopg.connect(customers_dsn) as conn:
        promote(conn, SOURCES["crm"], "customers", customers(range(1, 6), DAY2, "2 Other Road"), DAY2)

    with login_as(pg_server, customers_dsn, "atlas_read") as analyst, psycopg.connect(analyst) as reader:
        reader.execute("SET lock_timeout = '1s'")
        assert reader.execute("SELECT count(*) FROM navigate.dim_customer").fetchone() == (
            50,
        )  # transaction open
        with psycopg.connect(customers_dsn) as probe:  # the test sees what an ALTER would do
            probe.execute("SET LOCAL lock_timeout = '200ms'")
            with pytest.raises(psycopg.errors.LockNotAvailable):
                probe.execute("LOCK TABLE navigate.dim_customer IN ACCESS EXCLUSIVE MODE")

        waits: list[int] = []
        done = threading.Event()

        def watch() -> None:
            with psycopg.connect(customers_dsn, autocommit=True) as monitor:
                while not done.is_set():
                    (waiting,) = monitor.execute(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted "
                        "AND relation = to_regclass('navigate.dim_customer')"
                    ).fetchone()
                    waits.append(waiting)
                    time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        started = time.monotonic()
        try:
            process, output = start_snapshot(
                customers_dsn,
                tmp_path / "normal",
                DAY2,
                ATLAS_LOCK_TIMEOUT="15s",
                PGOPTIONS="-c lock_timeout=15s",
            )
            process.wait(timeout=300)
        finally:
            done.set()
            watcher.join()
        elapsed = time.monotonic() - started
        assert process.returncode == 0, output.read_text()[-4000:]
        print(
            f"normal snapshot run beside an open analyst transaction: {elapsed:.1f}s, "
            f"{len(waits)} samples of pg_locks, max waiting locks on dim_customer {max(waits)}"
        )
        assert max(waits) == 0, "a session waited for a lock on navigate.dim_customer"
        assert reader.execute("SELECT count(*) FROM navigate.dim_customer").fetchone() == (55,)
    assert "add column if not exists is_current" not in dbt_logs(tmp_path / "normal")
