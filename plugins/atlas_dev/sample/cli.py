"""The command line of the sample generators: ``python -m atlas_dev.sample <crm|shop|support|csv-bench> ...``.

Examples::

    python -m atlas_dev.sample crm --out include/sample_data/crm --start 2026-01-01 --end 2026-01-08
    python -m atlas_dev.sample shop --dsn postgresql://postgres@127.0.0.1/shop --start 2026-01-01 --end 2026-01-08
    python -m atlas_dev.sample support --out include/sample_data/support --start 2026-01-01 --end 2026-01-08 --serve
    python -m atlas_dev.sample csv-bench --out /tmp/bench.csv --rows 10000000

``--end`` is excluded (``[start, end)``, like a data interval).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from atlas_dev.sample import generate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m atlas_dev.sample", description="Generate the Atlas sample sources."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("crm", "shop", "support"):
        sub = commands.add_parser(name, help=f"generate the {name} sample source")
        if name == "shop":
            sub.add_argument("--dsn", required=True, help="PostgreSQL DSN; schema shop is replaced")
        else:
            sub.add_argument("--out", required=True, type=Path, help="output folder")
        sub.add_argument("--start", required=True, type=dt.date.fromisoformat, help="first day (YYYY-MM-DD)")
        sub.add_argument("--end", required=True, type=dt.date.fromisoformat, help="day after the last one")
        sub.add_argument("--seed", type=int, default=7)
        sub.add_argument("--scale", type=float, default=1.0, help="multiplies rows per day")
        sub.add_argument("--no-bad-rows", dest="bad_rows", action="store_false", help="only clean rows")
        if name == "support":
            sub.add_argument("--serve", action="store_true", help="then serve the API until interrupted")
            sub.add_argument("--port", type=int, default=0)
            sub.add_argument("--token", default=None, help="bearer token (default: the demo token)")
    bench = commands.add_parser("csv-bench", help="N rows x 10 columns of customer-like CSV")
    bench.add_argument("--out", required=True, type=Path)
    bench.add_argument("--rows", type=int, default=1_000_000)
    bench.add_argument("--seed", type=int, default=7)
    return parser


def _serve(path: Path, port: int, token: str | None) -> None:
    from atlas_dev.sample.api import DEFAULT_TOKEN, SupportApiServer

    with SupportApiServer.from_jsonl(path, port=port, token=token or DEFAULT_TOKEN) as server:
        print(f"serving {len(server.tickets)} tickets at {server.url}/api/v1/tickets")
        print(f"AIRFLOW_CONN_SUPPORT_API='{server.connection_uri()}'")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopped")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    if args.command == "csv-bench":
        from atlas_dev.sample.bench import write_bench_csv

        size = write_bench_csv(args.out, args.rows, seed=args.seed)
        elapsed = time.perf_counter() - started
        print(
            f"wrote {args.rows:,} rows ({size / 1e6:,.1f} MB) to {args.out} in {elapsed:.1f}s "
            f"({args.rows / max(elapsed, 1e-9):,.0f} rows/s)"
        )
        return 0
    target = args.dsn if args.command == "shop" else args.out
    result = generate(
        args.command, target, args.start, args.end, seed=args.seed, scale=args.scale, bad_rows=args.bad_rows
    )
    elapsed = time.perf_counter() - started
    if args.command == "crm":
        print(f"crm: wrote {len(result)} file(s) under {args.out} in {elapsed:.1f}s")
    elif args.command == "shop":
        print(f"shop: {result} in {elapsed:.1f}s")
    else:
        print(f"support: wrote {result} in {elapsed:.1f}s")
        if args.serve:
            _serve(result, args.port, args.token)
    return 0
