"""Change-hash benchmark: ``pipeline.change_hash`` (sql/V030) against the inline expression it replaced.

    python bench/bench_change_hash.py [--rows 1000000] [--repeat 3] [--dsn postgresql://…] [--keep]

Creates its own migrated database on 127.0.0.1:5432 (or uses ``--dsn``) and a table of N rows with
the nine text attributes ``dim_customer`` hashes (first_name … birth_date as text, some NULL, some
with quotes, commas and spaces). Then, in the same run, best of ``--repeat``, it hashes every row
three ways inside PostgreSQL: the inline expression the dbt macro and erasure wrote before V030
(``pipeline.keyed_hash(row(...)::text)``, the baseline), ``pipeline.change_hash(row(...))``, and the
text form alone (``row(...)::text``, what hashing adds to). It prints values/s of each, the ratio
of ``change_hash`` to the baseline, the peak RSS of this process and the backend's, and checks
that both give the same hash for every row.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "dags")]
_TMP = Path(tempfile.mkdtemp(prefix="atlas-bench-hash-"))
os.environ.setdefault("AIRFLOW_HOME", str(_TMP / "airflow"))
os.environ.setdefault("HOME", str(_TMP / "home"))

import psycopg  # noqa: E402

ATTRIBUTES = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "postal_code",
    "country",
    "birth_date",
]
FILL = """
CREATE TABLE bench_customers AS
SELECT i AS customer_id,
       'First' || (i %% 997) AS first_name,
       CASE WHEN i %% 13 = 0 THEN 'O''Brien, "Jr"' ELSE 'Last' || (i %% 991) END AS last_name,
       'user' || i || '@example.com' AS email,
       CASE WHEN i %% 7 = 0 THEN NULL ELSE '+49 30 ' || lpad((i %% 1000000)::text, 7, '0') END AS phone,
       'Street ' || (i %% 500) AS street,
       'Berlin' AS city,
       lpad((i %% 99999)::text, 5, '0') AS postal_code,
       'DE' AS country,
       (date '1950-01-01' + (i %% 20000))::text AS birth_date
  FROM generate_series(1, %(n)s) AS i
"""
CAST = ", ".join(f"({a})::text" for a in ATTRIBUTES)
QUERIES = {
    "baseline keyed_hash(row(...)::text)": f"SELECT count(pipeline.keyed_hash(row({CAST})::text)) FROM bench_customers",
    "pipeline.change_hash(row(...))": f"SELECT count(pipeline.change_hash(row({CAST}))) FROM bench_customers",
    "text form only row(...)::text": f"SELECT count(row({CAST})::text) FROM bench_customers",
}


def backend_peak_kb(conn: psycopg.Connection) -> int:
    """VmHWM of this connection's backend (the server runs on this machine), 0 where unreadable."""
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    from atlas.migrations import migrate
    from atlas_dev.embedded_pg import scratch_database

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with scratch_database(admin, "atlas_bench_hash", given=args.dsn, keep=args.keep) as dsn:
        migrate(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS bench_customers")
            conn.execute(FILL, {"n": args.rows})
            conn.execute("VACUUM ANALYZE bench_customers")
            conn.execute("SET max_parallel_workers_per_gather = 0")  # one core each, comparable
            best: dict[str, float] = {}
            for _ in range(args.repeat):
                for name, query in QUERIES.items():
                    started = time.perf_counter()
                    conn.execute(query).fetchone()
                    best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
            differ = conn.execute(
                f"SELECT count(*) FROM bench_customers WHERE pipeline.change_hash(row({CAST}))"
                f" IS DISTINCT FROM pipeline.keyed_hash(row({CAST})::text)"
            ).fetchone()[0]  # type: ignore[index]
            backend_kb = backend_peak_kb(conn)
        for name, seconds in best.items():
            print(f"{name:40s} {seconds:7.2f} s  {args.rows / seconds:12,.0f} values/s")
        base, new = best["baseline keyed_hash(row(...)::text)"], best["pipeline.change_hash(row(...))"]
        own_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            f"RESULT rows={args.rows} change_hash_values_per_s={args.rows / new:.0f}"
            f" baseline_values_per_s={args.rows / base:.0f} ratio_to_baseline={new / base:.2f}"
            f" hashes_differing={differ} peak_rss_mb={own_kb / 1024:.0f} backend_peak_rss_mb={backend_kb / 1024:.0f}"
        )
        if differ:
            raise SystemExit(
                f"{differ} row(s) hash differently: pipeline.change_hash is not the inline expression"
            )


if __name__ == "__main__":
    main()
