"""Archive benchmark: one explore.raw_data partition to verified Parquet in S3, against COPY … TO STDOUT.

    python bench/bench_archive.py [--rows 1000000] [--dsn postgresql://…] [--keep]

Creates its own database on 127.0.0.1:5432 (or uses ``--dsn`` / ``AIRFLOW_CONN_ATLAS_WAREHOUSE``),
migrates it, fills one monthly partition of ``explore.raw_data`` with N rows (a JSONB payload of
eight fields, as a CSV source lands them) and starts a ``moto_server``. Then, in the same run:

a) the baseline: ``COPY <partition> TO STDOUT`` read to the end by a client that only counts the
   bytes;
b) Atlas: ``ArchiveHook.archive_partition`` (export to Parquet, PostgreSQL hashing each row in
   the export query, streamed into a multipart upload; read back and compare with PostgreSQL's
   checksum; manifest, detach, drop, audit) in a child process whose peak RSS is reported
   (``os.wait4``: that child alone, not moto), with the time of each step (``export`` runs inside
   ``upload``: the upload is the export streamed); then the restore of the same partition in that
   child.

Targets: peak RSS < 300 MB whatever the partition's size (run 1M and 5M), archive throughput
within 2x of the COPY baseline (ratio archive time / COPY time <= 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "dags")]
_TMP = Path(os.environ.get("ATLAS_BENCH_TMP") or tempfile.mkdtemp(prefix="atlas-bench-archive-"))
os.environ["ATLAS_BENCH_TMP"] = str(_TMP)
os.environ["ATLAS_ARCHIVE_TMP"] = str(_TMP)  # the archiver's local Parquet files
os.environ.setdefault("AIRFLOW_HOME", str(_TMP / "airflow"))
os.environ.setdefault("HOME", str(_TMP / "home"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

import psycopg  # noqa: E402

START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
PARTITION = "explore.raw_data_p202001"
BUCKET = "atlas-bench"

FILL = """
INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, record_key, payload,
                              payload_checksum, source_location)
SELECT 'bench', 'customers', %(batch)s, %(start)s, i::text,
       jsonb_build_object('id', i, 'first_name', 'Firstname' || (i %% 997), 'last_name', 'Lastname' || (i %% 991),
                          'email', 'user' || i || '@example.com', 'phone', '+44 20 7946 ' || lpad((i %% 10000)::text, 4, '0'),
                          'city', (ARRAY['London', 'Zürich', 'São Paulo', 'Kraków'])[1 + i %% 4],
                          'amount', round((i %% 100000) / 7.0, 2), 'updated_at', '2020-01-15T10:00:00Z'),
       md5(i::text), 'bench/customers.csv'
  FROM generate_series(1, %(rows)s) AS i
"""


peaks: dict[str, float] = {}
"""Peak RSS (MB) of the process when each step last ended."""


def _timed(name: str, phases: dict[str, float], fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started
            peaks[name] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    return wrapper


def child() -> None:
    """Archive the partition, then restore it; print the timings as one JSON line."""
    from atlas import parquet_io
    from atlas.hooks.archive import ArchiveHook

    hook = ArchiveHook()
    phases: dict[str, float] = {}
    parquet_io.export_parquet = _timed("export", phases, parquet_io.export_parquet)  # type: ignore[method-assign]
    for step in ("_upload", "_verify", "_record", "_detach_and_drop"):
        setattr(hook, step, _timed(step.strip("_"), phases, getattr(hook, step)))
    partition = next(p for p in hook.partitions("explore.raw_data") if p.name == PARTITION)
    rss_airflow = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    hook.s3.check_for_bucket(BUCKET)  # the S3 client: botocore's service model, credentials
    s3_client = time.perf_counter() - started
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    result = hook.archive_partition(partition, bucket=BUCKET, keep_months=None)
    seconds = time.perf_counter() - started
    rss_archive = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    archive_phases = dict(phases)
    assert result is not None
    started = time.perf_counter()
    hook.restore(snapshot_id=result.snapshot_id)
    restore_seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": result.row_count,
                "seconds": seconds,
                "phases": archive_phases,
                "peaks": dict(peaks),
                "size_bytes": result.extra.get("size_bytes"),
                "restore_seconds": restore_seconds,
                "rss_airflow_mb": rss_airflow,
                "rss_start_mb": rss_start,
                "s3_client_seconds": s3_client,
                "rss_archive_mb": rss_archive,
            }
        )
    )


def copy_out(dsn: str) -> tuple[float, int]:
    """Seconds and bytes of ``COPY <partition> TO STDOUT`` read to the end."""
    size = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        with cur.copy(f"COPY {PARTITION} TO STDOUT") as copy:
            for data in copy:
                size += len(data)
        return time.perf_counter() - started, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return

    from atlas_dev.embedded_pg import scratch_database

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    given = args.dsn or os.environ.get("AIRFLOW_CONN_ATLAS_WAREHOUSE")
    try:
        with scratch_database(admin, "atlas_bench_archive", given=given, keep=args.keep) as dsn:
            _run(dsn, args.rows)
    finally:
        shutil.rmtree(_TMP, ignore_errors=True)


def _run(dsn: str, wanted: int) -> None:
    """Fill the partition, measure the baseline, run the archiving child, print the figures."""
    from atlas.migrations import migrate
    from atlas_dev.embedded_pg import uri
    from atlas_dev.moto_server import s3_connection

    migrate(dsn)
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (START,))
        conn.execute(FILL, {"batch": secrets.token_hex(16), "start": START, "rows": wanted})
        conn.execute(f"VACUUM ANALYZE {PARTITION}")
        size = conn.execute("SELECT pg_total_relation_size(%s)", (PARTITION,)).fetchone()
    print(
        f"rows: {wanted:,}  partition {PARTITION}: {size[0] / 1e6:.0f} MB with indexes "
        f"(filled in {time.perf_counter() - started:.1f}s)"
    )
    baseline, copied = copy_out(dsn)
    with s3_connection(_TMP / "moto_server.log"):
        env = {
            **os.environ,
            # the allocator the deployment gives pyarrow (Dockerfile, Makefile, make up)
            "ARROW_DEFAULT_MEMORY_POOL": os.environ.get("ARROW_DEFAULT_MEMORY_POOL", "jemalloc"),
            "AIRFLOW_CONN_ATLAS_WAREHOUSE": uri(
                psycopg.conninfo.conninfo_to_dict(dsn), host_in_authority=True
            ),
        }
        load = os.getloadavg()[0]
        process = subprocess.Popen(
            [sys.executable, __file__, "--child"], env=env, stdout=subprocess.PIPE, text=True
        )
        stdout = process.stdout.read() if process.stdout else ""
        _, status, usage = os.wait4(process.pid, 0)
        if status != 0:
            raise SystemExit(f"the archiving child failed ({status}); its output: {stdout}")
    result = json.loads(stdout.strip().splitlines()[-1])
    n = result["rows"]
    assert n == wanted, result
    peak = usage.ru_maxrss / 1024
    ratio = result["seconds"] / baseline
    print(f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}")
    print(
        f"baseline  COPY {PARTITION} TO STDOUT: {n / baseline:>10,.0f} rows/s  ({baseline:.1f}s, {copied / 1e6:.0f} MB)"
    )
    print(
        f"atlas     archive (export, upload, verify, drop): {n / result['seconds']:>10,.0f} rows/s  "
        f"({result['seconds']:.1f}s, Parquet {result['size_bytes'] / 1e6:.0f} MB)"
    )
    print("          steps: " + ", ".join(f"{k} {v:.1f}s" for k, v in result["phases"].items()))
    print(
        "          peak RSS when each step ended: "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in result["peaks"].items())
    )
    print(
        f"atlas     restore (download, COPY, checksum): {n / result['restore_seconds']:>10,.0f} rows/s  ({result['restore_seconds']:.1f}s)"
    )
    print(f"ratio archive time / COPY time: {ratio:.2f}   (target <= 2)")
    print(
        f"peak RSS of the archiving process: {result['rss_archive_mb']:.0f} MB after the archive, "
        f"{peak:.0f} MB with the restore ({result['rss_airflow_mb']:.0f} MB after importing Airflow, "
        f"{result['rss_start_mb']:.0f} MB with the S3 client, made in {result['s3_client_seconds']:.1f}s "
        "before the archive's clock starts; Arrow's pool: "
        f"{env['ARROW_DEFAULT_MEMORY_POOL']})   (target < 300 MB)"
    )


if __name__ == "__main__":
    main()
