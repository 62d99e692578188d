"""Bench: the quality gate (Soda scan + SQL reconciliation) on a 1M-row chart table (target < 30 s).

Creates a migrated database (or uses ``--dsn``), lands the rows of ``bench_promote``'s 10-column
entity server-side and promotes them (setup, not timed), then times
``QualityHook.check_interval`` on the interval (every generated check, results recorded) and
prints seconds, rows/s, the Soda scan's share, and the Soda process start-up cost per scan (a
scan of one trivial check on an empty filter, median of three).

    .venv/bin/python bench/bench_quality.py [--rows 1000000|5000000] [--dsn postgresql://...] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "dags"), str(ROOT / "bench")]

from bench_promote import SOURCE, _land, bench_warehouse  # noqa: E402

from atlas_dev.sample.bench import load_average  # noqa: E402

TRIVIAL = (
    "checks for bench__events [interval]:\n  - row_count >= 0:\n      attributes: {dimension: completeness}\n"
)
TRIVIAL_FILTER = "filter bench__events [interval]:\n  where: \"_interval_start < '1970-01-02'\"\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dsn", help="an already migrated warehouse (default: create and migrate one)")
    parser.add_argument("--admin-dsn", default="host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database it created")
    args = parser.parse_args()

    with bench_warehouse(args.dsn, args.admin_dsn, args.keep, "atlas_bench_quality") as dsn:
        import psycopg

        from atlas.batches import Interval, batch_id
        from atlas.config.loader import parse_source
        from atlas.hooks.chart import ChartHook
        from atlas.hooks.quality import QualityHook
        from atlas.hooks.soda import SodaHook

        source = parse_source(SOURCE, "<bench>")
        interval = Interval(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
        _land(dsn, batch_id(source.name, "events", interval), interval.start, args.rows)
        promoted = ChartHook().promote(source, "events", interval)
        with psycopg.connect(dsn) as conn:
            conn.execute("ANALYZE chart.bench__events")
        print(f"setup: {args.rows:,} rows landed, {promoted.rows_promoted:,} promoted (not timed)")
        print(f"load average before: {load_average()}")

        soda = SodaHook()
        startups = []
        for _ in range(3):
            report = soda.scan(TRIVIAL_FILTER + TRIVIAL, {"interval_start": "x", "interval_end": "y"})
            startups.append(report.seconds)
        print(
            f"Soda start-up per scan (one trivial check, no rows): {statistics.median(startups):.2f}s (median of 3)"
        )

        started = time.perf_counter()
        found = QualityHook().check_interval(source, interval, dag_id="bench", run_id="bench")
        seconds = time.perf_counter() - started
        bad = [f"{r.name}={r.outcome}" for r in found.results if r.outcome != "pass"]
        print(
            f"quality gate: {len(found.results)} checks on {promoted.rows_promoted:,} chart rows in {seconds:.2f}s "
            f"= {promoted.rows_promoted / seconds:,.0f} rows/s (Soda scan {found.scan_seconds:.2f}s, "
            f"SQL reconciliation + recording {seconds - found.scan_seconds:.2f}s); not passed: {bad or 'none'}"
        )
        print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
