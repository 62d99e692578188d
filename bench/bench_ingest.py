"""Ingest benchmark: Atlas's CSV → explore.raw_data landing against the physical COPY baseline.

    python bench/bench_ingest.py [--rows 1000000] [--repeat 3] [--dsn postgresql://…] [--keep]

Creates its own database on 127.0.0.1:5432 (or uses ``--dsn`` / ``AIRFLOW_CONN_ATLAS_WAREHOUSE``),
migrates it, writes a CSV of N rows x 10 columns, then measures in the same run:

a) the physical baseline: plain ``COPY explore.raw_data … FROM STDIN`` of a pre-rendered file of
   the same rows in raw_data's format (same table, same indexes; the client only streams bytes),
   and a plain ``COPY … (FORMAT csv)`` of the CSV into a 10-text-column table;
b) Atlas: the files connector (the header checked against the declared columns, BOM sniffing,
   the CSV reader) streaming chunks into ``WarehouseHook.batch_writer``, in a child process whose
   peak RSS is reported.

With ``--repeat N`` the baseline/Atlas pair runs N times (each after a TRUNCATE + CHECKPOINT, the
load average printed per run) and the median and best ratios are reported: the machine is shared.

Targets: Atlas / physical baseline ≥ 0.5, peak RSS < 500 MB at 10M rows.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "dags")]
_TMP = Path(os.environ.get("ATLAS_BENCH_TMP") or tempfile.mkdtemp(prefix="atlas-bench-"))
os.environ["ATLAS_BENCH_TMP"] = str(_TMP)  # the measured child process shares it
os.environ["ATLAS_SOURCE_ROOT"] = str(_TMP)  # the files connector reads the generated CSV there
os.environ.setdefault("AIRFLOW_HOME", str(_TMP / "airflow"))
os.environ.setdefault("HOME", str(_TMP / "home"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")

import psycopg  # noqa: E402

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
END = START + dt.timedelta(days=1)
COLUMNS = [
    "id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "city",
    "country",
    "amount",
    "created_at",
    "note",
]
CITIES = ["Berlin", "Paris", "Amsterdam", "London", "New York", "Madrid", "Rome", "Zürich"]
COUNTRIES = ["DE", "FR", "NL", "GB", "US", "ES", "IT", "CH"]


def write_csv(path: Path, rows: int) -> None:
    """A deterministic CSV of ``rows`` customer-like rows, streamed to disk."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        block = []
        for i in range(rows):
            block.append(
                (
                    i,
                    f"First{i % 9973}",
                    f"Last{i % 7919}",
                    f"user{i}@example.com",
                    f"+49 30 {i % 10_000_000:07d}",
                    CITIES[i % 8],
                    COUNTRIES[i % 8],
                    f"{(i * 37) % 100_000 / 100:.2f}",
                    f"2025-01-01T{i % 24:02d}:{i % 60:02d}:{(i // 60) % 60:02d}Z",
                    'note, with "quotes"' if i % 97 == 0 else "",
                )
            )
            if len(block) == 50_000:
                writer.writerows(block)
                block.clear()
        writer.writerows(block)


def csv_chunks(path: Path, size: int = 10_000) -> Iterator:
    """Chunks of a CSV as a files connector yields them (used when atlas.connectors has none)."""
    from atlas.connectors.base import Chunk, Reject

    location = str(path)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        width = len(header)
        chunk = Chunk()
        records = chunk.records
        for line, row in enumerate(reader, start=2):
            if len(row) == width:
                records.append((dict(zip(header, row, strict=True)), location))
            else:
                chunk.rejects.append(Reject(location, line, ",".join(row), f"row has {len(row)} fields"))
            if len(records) >= size:
                yield chunk
                chunk = Chunk()
                records = chunk.records
        if len(chunk):
            yield chunk


def atlas_chunks(path: Path) -> tuple[Iterator, str]:
    """The files connector's chunks for ``path``, as a source DAG's land task reads them."""
    from atlas.batches import Interval
    from atlas.config import parse_source
    from atlas.connectors import open_connector

    config = parse_source(
        {
            "name": "bench",
            "start_date": "2025-01-01",
            "connector": {"type": "files", "format": "csv", "location": str(path.parent)},
            "entities": [
                {"name": "rows", "path": path.name, "key": ["id"], "columns": [{"name": c} for c in COLUMNS]}
            ],
        },
        "<bench>",
    )
    connector = open_connector(config)
    return connector.extract(config.entity("rows"), Interval(START, END)), "atlas files connector"


def child(csv_path: Path) -> None:
    """Run Atlas's ingest (this process is the measured child) and print its figures as JSON."""
    from atlas.batches import Interval
    from atlas.hooks.warehouse import WarehouseHook

    hook = WarehouseHook()
    chunks, reader = atlas_chunks(csv_path)
    started, cpu = time.perf_counter(), time.process_time()
    with hook.batch_writer(
        source="bench", entity="rows", interval=Interval(START, END), key_columns=["id"], log_every=10**12
    ) as writer:
        for chunk in chunks:
            writer.write(chunk)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": writer.rows_landed, "reader": reader}))


def render_raw_file(csv_path: Path, out: Path) -> None:
    """The same rows pre-rendered in raw_data's COPY text format (not timed)."""
    import uuid

    from atlas.batch_writer import BatchWriter
    from atlas.connectors.base import Chunk

    class FileCopy:
        def __init__(self, handle):
            self.write = handle.write

    with out.open("wb") as handle:
        writer = BatchWriter(
            copy=FileCopy(handle),  # type: ignore[arg-type]
            source="baseline",
            entity="rows",
            batch_id=uuid.UUID(int=1),
            interval_start=START,
            key_columns=["id"],
        )
        for chunk in csv_chunks(csv_path):
            writer.write(Chunk(records=chunk.records))


def copy_file(dsn: str, statement: str, path: Path) -> float:
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        with cur.copy(statement) as copy, path.open("rb") as handle:
            while block := handle.read(4 * 1024 * 1024):
                copy.write(block)
        conn.commit()
        return time.perf_counter() - started


def _reset(dsn: str) -> None:
    """Empty explore.raw_data and checkpoint, so each measured load starts alike."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE explore.raw_data")
        conn.execute("CHECKPOINT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument(
        "--repeat", type=int, default=1, help="baseline + atlas pairs to run (median and best reported)"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    from atlas.migrations import migrate
    from atlas_dev.embedded_pg import create_database, drop_database

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    dsn = args.dsn or os.environ.get("AIRFLOW_CONN_ATLAS_WAREHOUSE")
    created = None
    if not dsn:
        created = f"atlas_bench_{secrets.token_hex(4)}"
        dsn = create_database(admin, created)
    try:
        migrate(dsn)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(
                "SELECT pipeline.ensure_partitions('explore.raw_data', 'month', %s, %s)", (START, START)
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS public.bench_csv ("
                + ", ".join(f"{c} text" for c in COLUMNS)
                + ")"
            )
        csv_path, raw_path = _TMP / "rows.csv", _TMP / "rows.raw"
        t = time.perf_counter()
        write_csv(csv_path, args.rows)
        render_raw_file(csv_path, raw_path)
        print(
            f"rows: {args.rows:,}  csv: {csv_path.stat().st_size / 1e6:.0f} MB  "
            f"raw COPY file: {raw_path.stat().st_size / 1e6:.0f} MB  (prepared in {time.perf_counter() - t:.1f}s)"
        )

        raw_copy = (ROOT / "include/sql/explore/copy_raw_data.sql").read_text()
        csv_copy = copy_file(dsn, "COPY public.bench_csv FROM STDIN (FORMAT csv, HEADER true)", csv_path)
        env = {**os.environ, "AIRFLOW_CONN_ATLAS_WAREHOUSE": dsn}
        n = args.rows
        pairs = []
        for attempt in range(1, args.repeat + 1):
            load = os.getloadavg()[0]
            _reset(dsn)
            baseline = copy_file(dsn, raw_copy, raw_path)
            _reset(dsn)
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(csv_path)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            with psycopg.connect(dsn) as conn:
                landed = conn.execute("SELECT count(*) FROM explore.raw_data").fetchone()[0]
            assert landed == args.rows == result["rows"], (landed, result)
            pairs.append((baseline / result["seconds"], baseline, result["seconds"]))
            print(
                f"run {attempt}/{args.repeat} (load {load:.1f} -> {os.getloadavg()[0]:.1f}): "
                f"baseline {n / baseline:,.0f} rows/s, atlas {n / result['seconds']:,.0f} rows/s, "
                f"ratio {pairs[-1][0]:.2f} (atlas client CPU {result['cpu']:.1f}s)"
            )
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        ratio, baseline, seconds = sorted(pairs)[len(pairs) // 2]
        print(f"median run of {len(pairs)} (by ratio):")
        print(
            f"physical baseline  COPY explore.raw_data (pre-rendered): {n / baseline:>10,.0f} rows/s  ({baseline:.1f}s)"
        )
        print(
            f"physical baseline  COPY csv -> 10 text columns:          {n / csv_copy:>10,.0f} rows/s  ({csv_copy:.1f}s)"
        )
        print(f"atlas ingest ({result['reader']}): {n / seconds:>10,.0f} rows/s  ({seconds:.1f}s)")
        print(
            f"ratio atlas / raw_data baseline: {ratio:.2f} median, {max(pairs)[0]:.2f} best   (target >= 0.5)"
        )
        print(f"peak RSS of the atlas ingest process: {rss_mb:.0f} MB   (target < 500 MB at 10M rows)")
    finally:
        if created and not args.keep:
            drop_database(admin, created)
        shutil.rmtree(_TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
