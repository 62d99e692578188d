"""Bench: promotion explore -> chart of 1,000,000 rows of a 10-column entity (target >= 100k rows/s).

Creates a migrated database (or uses ``--dsn``), lands the rows server-side with one
INSERT ... SELECT generate_series (about 1 % of them invalid, so the quarantine path is timed
too), then times ``ChartHook.promote`` and prints rows/s and the peak RSS of this process.
A second run of the same batch (the idempotent re-run) is timed as well.

    .venv/bin/python bench/bench_promote.py [--rows 1000000] [--dsn postgresql://...] [--keep]

Then the navigate step, on a real sample entity: as many CRM customers (11 columns, the rules of
``include/sources/crm.yaml``) are landed server-side, promoted to ``chart.crm__customers`` and
snapshotted by the real dbt project into ``navigate.dim_customer`` (SCD2, masked PII) with dbt
as a subprocess; both steps print rows/s, and the dbt subprocess its peak RSS.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import logging
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "dags")]

from atlas_dev.sample.bench import load_average  # noqa: E402

SOURCE = {
    "name": "bench",
    "start_date": "2026-01-01",
    "connector": {"type": "postgres", "conn_id": "bench_source"},
    "entities": [
        {
            "name": "events",
            "table": "bench.events",
            "watermark_column": "updated_at",
            "key": ["event_id"],
            "columns": [
                {"name": "event_id", "type": "bigint", "required": True},
                {"name": "account", "type": "text", "required": True, "pattern": "^ACC-[0-9]{6}$"},
                {"name": "email", "type": "text", "pattern": "^[^@[:space:]]+@[^@[:space:]]+$"},
                {
                    "name": "country",
                    "type": "text",
                    "required": True,
                    "allowed_values": ["DE", "FR", "NL", "GB", "US"],
                },
                {"name": "amount", "type": "numeric", "required": True, "min": 0, "max": 100000},
                {"name": "quantity", "type": "integer", "min": 1, "max": 1000},
                {"name": "active", "type": "boolean"},
                {"name": "event_date", "type": "date", "required": True, "min": "2000-01-01"},
                {"name": "note", "type": "text"},
                {"name": "updated_at", "type": "timestamp", "required": True},
            ],
        }
    ],
}

LAND_SQL = """
INSERT INTO explore.raw_data
    (source_name, entity_name, batch_id, interval_start, record_key, payload, payload_checksum, source_location)
SELECT 'bench', 'events', %(batch_id)s, %(interval_start)s, p ->> 'event_id', p, md5(p::text), 'bench'
  FROM (
        SELECT jsonb_build_object(
                   'event_id', g::text,
                   'account', CASE WHEN g %% 211 = 0 THEN 'bad' ELSE 'ACC-' || lpad((g %% 999999)::text, 6, '0') END,
                   'email', 'user' || g || '@example.com',
                   'country', (ARRAY['DE', 'FR', 'NL', 'GB', 'US'])[1 + g %% 5],
                   'amount', CASE WHEN g %% 307 = 0 THEN 'n/a' ELSE ((g %% 100000) / 100.0)::text END,
                   'quantity', (1 + g %% 999)::text,
                   'active', CASE WHEN g %% 2 = 0 THEN 'true' ELSE 'false' END,
                   'event_date', to_char(date '2020-01-01' + (g %% 2000), 'YYYY-MM-DD'),
                   'note', 'note ' || g,
                   'updated_at', to_char(timestamp '2026-01-01' + make_interval(secs => g %% 86400),
                                         'YYYY-MM-DD"T"HH24:MI:SS"Z"')
               ) AS p
          FROM generate_series(1, %(rows)s) AS g
       ) AS s
"""


BASELINE_SQL = """
CREATE TEMPORARY TABLE bench_baseline (LIKE chart.bench__events INCLUDING ALL) ON COMMIT DROP;
INSERT INTO bench_baseline
SELECT (payload ->> 'event_id')::bigint, payload ->> 'account', payload ->> 'email', payload ->> 'country',
       nullif(payload ->> 'amount', 'n/a')::numeric, (payload ->> 'quantity')::integer,
       (payload ->> 'active')::boolean, (payload ->> 'event_date')::date, payload ->> 'note',
       (payload ->> 'updated_at')::timestamptz, record_key, raw_id, batch_id, interval_start,
       payload_checksum, now()
  FROM explore.raw_data
 WHERE batch_id = %(batch_id)s AND interval_start = %(interval_start)s
"""
"""Physical baseline: the same rows cast straight into a table shaped like the chart table (PK and
all), no validation at all (the only invalid cast of the generated data, amount 'n/a', is nulled).
A temporary table, so it writes no WAL: it is a floor for the promotion's cost, not a target."""


def _baseline(dsn: str, batch: uuid.UUID, start: dt.datetime) -> float:
    import psycopg

    with psycopg.connect(dsn) as conn:
        conn.execute("SET jit = off")
        started = time.perf_counter()
        for statement in BASELINE_SQL.split(";"):
            if statement.strip():
                conn.execute(statement, {"batch_id": batch, "interval_start": start})
        seconds = time.perf_counter() - started
        conn.rollback()
    return seconds


CRM_LAND_SQL = """
INSERT INTO explore.raw_data
    (source_name, entity_name, batch_id, interval_start, record_key, payload, payload_checksum, source_location)
SELECT 'crm', 'customers', %(batch_id)s, %(interval_start)s, p ->> 'customer_id', p, md5(p::text), 'bench'
  FROM (
        SELECT jsonb_build_object(
                   'customer_id', g::text,
                   'first_name', (ARRAY['Anna', 'Ben', 'Chloe', 'David', 'Emma'])[1 + g %% 5],
                   'last_name', (ARRAY['Meyer', 'Dubois', 'Jansen', 'Smith', 'Garcia'])[1 + g %% 5],
                   'email', 'customer' || g || '@example.com',
                   'phone', '+49 30 ' || lpad((g %% 10000000)::text, 7, '0'),
                   'street', (g %% 200 + 1)::text || ' Main Street',
                   'city', (ARRAY['Berlin', 'Paris', 'Utrecht', 'London', 'Madrid'])[1 + g %% 5],
                   'postal_code', lpad((g %% 99999)::text, 5, '0'),
                   'country', (ARRAY['DE', 'FR', 'NL', 'GB', 'ES'])[1 + g %% 5],
                   'birth_date', to_char(date '1950-01-01' + (g %% 20000), 'YYYY-MM-DD'),
                   'updated_at', '2026-01-01T12:00:00Z'
               ) AS p
          FROM generate_series(1, %(rows)s) AS g
       ) AS s
"""


def time_navigate(dsn: str, rows: int) -> None:
    """Explore -> chart -> navigate for ``rows`` CRM customers; prints rows/s of each step."""
    import subprocess

    import psycopg

    from atlas.batches import Interval, batch_id
    from atlas.config.loader import load_source
    from atlas.dbt.project import dbt_executable, dbt_project_dir
    from atlas.hooks.chart import ChartHook

    crm = load_source(ROOT / "include" / "sources" / "crm.yaml")
    interval = Interval(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    batch = batch_id("crm", "customers", interval)
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (interval.start,))
        conn.execute(CRM_LAND_SQL, {"batch_id": batch, "interval_start": interval.start, "rows": rows})
        conn.execute("ANALYZE explore.raw_data")
    result = ChartHook().promote(crm, "customers", interval)
    print(
        f"explore -> chart, crm.customers (11 columns, crm.yaml rules): {result.rows_promoted:,} promoted, "
        f"{result.rows_rejected:,} rejected in {result.seconds:.2f}s = {result.rows_per_second:,.0f} rows/s"
    )
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    env = {
        **os.environ,
        "ATLAS_DBT_HOST": info.get("host", "127.0.0.1"),
        "ATLAS_DBT_PORT": str(info.get("port", 5432)),
        "ATLAS_DBT_USER": info.get("user", "postgres"),
        "ATLAS_DBT_PASSWORD": info.get("password", ""),
        "ATLAS_DBT_DBNAME": info["dbname"],
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    work = tempfile.mkdtemp(prefix="atlas-bench-dbt-")
    command = [
        str(dbt_executable()), "snapshot", "--select", "dim_customer",
        "--project-dir", str(dbt_project_dir()), "--profiles-dir", str(dbt_project_dir()),
        "--target-path", work, "--log-path", work,
        "--vars", f"{{interval_start: '{interval.start.isoformat()}', interval_end: '{interval.end.isoformat()}'}}",
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"dbt snapshot failed:\n{done.stdout[-3000:]}")
    with psycopg.connect(dsn) as conn:
        versions = conn.execute("SELECT count(*) FROM navigate.dim_customer").fetchone()[0]
    dbt_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"chart -> navigate, dbt snapshot dim_customer (SCD2, masked PII): {versions:,} versions in "
        f"{seconds:.2f}s = {versions / seconds:,.0f} rows/s (dbt process start included; peak RSS of dbt {dbt_mib:.0f} MiB)"
    )


def _land(dsn: str, batch: uuid.UUID, start: dt.datetime, rows: int) -> float:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (start,))
        conn.execute("DELETE FROM explore.raw_data WHERE batch_id = %s", (batch,))
        conn.execute(LAND_SQL, {"batch_id": batch, "interval_start": start, "rows": rows})
        conn.execute("ANALYZE explore.raw_data")
    return time.perf_counter() - started


@contextlib.contextmanager
def bench_warehouse(dsn: str | None, admin_dsn: str, keep: bool, prefix: str) -> Iterator[str]:
    """A migrated warehouse (``dsn``, or a new database dropped afterwards unless ``keep``) that
    ``atlas_warehouse`` points at, with HOME and AIRFLOW_HOME in a scratch folder."""
    scratch = tempfile.mkdtemp(prefix="atlas-bench-")
    os.environ.setdefault("HOME", scratch)
    os.environ.setdefault("AIRFLOW_HOME", scratch)
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    logging.basicConfig(level=logging.WARNING)

    from atlas_dev.embedded_pg import create_database, drop_database

    created = None
    if dsn is None:
        from atlas.migrations import migrate

        created = f"{prefix}_{uuid.uuid4().hex[:8]}"
        dsn = create_database(admin_dsn, created)
        migrate(dsn)
    try:
        import psycopg

        info = psycopg.conninfo.conninfo_to_dict(dsn)
        os.environ["AIRFLOW_CONN_ATLAS_WAREHOUSE"] = (
            f"postgresql://{info.get('user', 'postgres')}@{info.get('host', '127.0.0.1')}:"
            f"{info.get('port', 5432)}/{info['dbname']}"
        )
        yield dsn
    finally:
        if created and not keep:
            drop_database(admin_dsn, created)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dsn", help="an already migrated warehouse (default: create and migrate one)")
    parser.add_argument("--admin-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database it created")
    args = parser.parse_args()

    with bench_warehouse(args.dsn, args.admin_dsn, args.keep, "atlas_bench_promote") as dsn:
        from atlas.batches import Interval, batch_id
        from atlas.config.loader import parse_source
        from atlas.hooks.chart import ChartHook

        source = parse_source(SOURCE, "<bench>")
        interval = Interval(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
        batch = batch_id(source.name, "events", interval)
        land_seconds = _land(dsn, batch, interval.start, args.rows)
        print(f"landed {args.rows:,} explore rows in {land_seconds:.1f}s (setup, not timed)")

        hook = ChartHook()
        print(
            f"load average before: {load_average()} (the machine may be shared: compare runs at similar load)"
        )
        for label in ("first run", "re-run"):
            result = hook.promote(source, "events", interval)
            print(
                f"promote {label}: {result.rows_landed:,} rows ({result.rows_promoted:,} promoted, "
                f"{result.rows_rejected:,} rejected, {result.rows_written:,} written) in "
                f"{result.seconds:.2f}s = {result.rows_per_second:,.0f} rows/s"
            )
            print("  phases: " + ", ".join(f"{name} {sec:.2f}s" for name, sec in result.phases.items()))
        baseline = _baseline(dsn, batch, interval.start)
        print(
            f"physical baseline (cast-only INSERT ... SELECT, no validation, temp table): {baseline:.2f}s "
            f"= {args.rows / baseline:,.0f} rows/s"
        )
        time_navigate(dsn, args.rows)
        print(f"load average after: {load_average()}")
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process: {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
