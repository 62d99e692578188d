"""End-to-end benchmark: the real generated ``crm`` DAG, explore → chart → navigate, for one day.

    .venv/bin/python bench/bench_e2e.py [--rows 1000000] [--warm-up-rows 1000] [--dsn postgresql://…] [--keep]

Writes one day of the CRM customers sample source (``include/sources/crm.yaml``: a files
connector, one CSV of 11 columns per day under ``customers/YYYY/MM/customers_YYYYMMDD.csv``) with
N rows: the 10 customer columns of ``atlas_dev.sample.bench.write_bench_csv`` plus a
``birth_date``, every value valid for the crm.yaml rules except ~0.1 % of the rows, which break
one rule each (bad e-mail, unknown country, future birth date, missing last name: rejected by
chart validation), and one line per 100,000 (at least one) one field wider than the header,
which the connector quarantines. A sources folder holds a copy of ``crm.yaml`` whose
``location:`` names the generated folder, nothing else changed: the bench checks that it renders
the very dbt files the project holds (``atlas.dbt.render``: the YAML's contents make the models,
its location does not enter them), so the project's manifest and models built by ``make setup``
serve the run. Creates and migrates a database on 127.0.0.1:5432 (or uses ``--dsn``), an Airflow
metadata database (SQLite) in a scratch ``AIRFLOW_HOME``, then runs the generated DAG for the
day with ``dag.test()`` exactly as ``python -m atlas.cli run crm --date D`` does
(``atlas.run.run_day``; task logs go to a file, ``atlas.run.output_to``).

Before it, the day before is run with ``--warm-up-rows`` rows (default 1,000; 0 skips it), in the
same process and Cosmos cache: the measured run is then what a worker that has run an interval
before does (dbt imported, Cosmos's cached profile and dbt's partial parse of the project), not
its first run, which pays a full dbt parse once; the warm-up's navigate overhead is printed too.

Printed, from one run:

- every task instance's duration (``task_instance`` start/end of the run in Airflow's metadata DB);
- the end-to-end wall time (``run_day``: DAG built, bundles parsed, every task run) and rows/s,
  and the span of the DAG run (first task start to last task end);
- the peak RSS of this process (``RUSAGE_SELF``: the tasks and dbt run in it) and of its
  children (``RUSAGE_CHILDREN``), and the load average before and after;
- the counts of ``pipeline.batches`` (read, landed, quarantined, promoted, rejected) and the rows
  of ``navigate.dim_customer`` and ``navigate.crm__customers``;
- the physical baseline: a plain ``COPY … (FORMAT csv)`` of the same file into a table of 11 text
  columns (the connector-broken lines left out, which COPY refuses), and the ratio of the rows/s;
- the navigate overhead: the navigate stage (first start to last end of the ``navigate`` task
  group's tasks) minus the time dbt reports for its nodes' SQL.

dbt's time: Cosmos (``ExecutionMode.WATCHER``) runs one ``dbt build`` in the task
``navigate.dbt_producer_watcher``, in this process through ``dbtRunner``, in a temporary copy of
the project that is deleted afterwards (with its ``run_results.json``). The bench wraps
``dbtRunner.invoke`` for the run and keeps the result dbt returns, which is what
``run_results.json`` would hold: each node's ``execution_time`` and ``timing``. The SQL time is the
wall time those nodes cover (their intervals merged, so dbt threads are not counted twice).
Should no result be caught (dbt run in a subprocess), the per-node times dbt logs
(``[… in 0.42s]``) are summed from the task log; when neither is found the overhead is reported
as unknown, never estimated.

Targets (printed, not asserted): navigate overhead ≤ 5 s per source interval; 1,000,000 rows
end to end < 60 s (≥ 16,000 rows/s); a quiet day (``--rows 1000``) end to end < 15 s.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import resource
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "dags")]

import psycopg  # noqa: E402

from atlas_dev.sample.bench import load_average  # noqa: E402

DAY = dt.date(2026, 1, 1)
"""The day run (inside crm.yaml's schedule, which starts on 2025-12-01)."""
SOURCE_YAML = ROOT / "include" / "sources" / "crm.yaml"
INVALID_EVERY = 1_000
"""Every 1,000th row breaks one chart rule (~0.1 %)."""
BROKEN_EVERY = 100_000
"""One line per 100,000 (at least one) is one field wider than the header."""
INVALID_KINDS = ("bad_email", "unknown_country", "future_birth_date", "missing_last_name")
NAVIGATE_PREFIX = "navigate."
PRODUCER_TASK = "navigate.dbt_producer_watcher"
DBT_NODE_TIME = re.compile(r"\d+ of \d+ (?:OK|PASS|WARN|ERROR|FAIL|SKIP)\b.*\bin (\d+(?:\.\d+)?)s\]")
"""A node's result line as dbt logs it: ``3 of 9 OK created sql table model … [SELECT 20000 in 0.42s]``."""
TARGET_OVERHEAD_S = 5.0
TARGET_ROWS_PER_S = 16_000
TARGET_QUIET_S = 15.0


# -- environment and data ---------------------------------------------------------------------


def set_environment(scratch: Path) -> None:
    """A private Airflow (home, SQLite metadata DB, Cosmos cache) and the sources folder; before Airflow is imported."""
    airflow_home = scratch / "airflow"
    for folder in (airflow_home, scratch / "home", scratch / "sources"):
        folder.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "HOME": str(scratch / "home"),
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            # dag.test() runs only DAGs a bundle holds: dags/atlas_sources.py builds atlas_crm
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            "AIRFLOW__COSMOS__CACHE_DIR": str(scratch / "cosmos"),
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(scratch / "openlineage.jsonl"), "append": True}
            ),
            "ATLAS_SOURCES_DIR": str(scratch / "sources"),
            # the files connector reads the generated CSV below scratch; the sample crm.yaml,
            # loaded for comparison, names a folder below include/ (the default root)
            "ATLAS_SOURCE_ROOT": os.pathsep.join((str(scratch), str(ROOT / "include"))),
            "ATLAS_STRICT_SOURCES": "1",  # a YAML that does not load fails loudly
        }
    )


def write_crm_day(data_dir: Path, rows: int, baseline: Path, day: dt.date = DAY) -> tuple[Path, int, int]:
    """The day's customers CSV under ``data_dir`` and, for the COPY baseline, the same file without
    its broken lines; returns the CSV, the invalid rows and the broken lines it holds."""
    from atlas_dev.sample.bench import write_bench_csv
    from atlas_dev.sample.crm import COLUMNS, customer_file

    path = customer_file(data_dir, day)
    path.parent.mkdir(parents=True, exist_ok=True)
    ten_columns = data_dir / "ten_columns.csv"
    write_bench_csv(ten_columns, rows, day=day)
    invalid = broken = 0
    step = max(1, min(rows, BROKEN_EVERY))
    with (
        ten_columns.open(encoding="utf-8") as source,
        path.open("w", encoding="utf-8", newline="") as out,
        baseline.open("w", encoding="utf-8", newline="") as plain,
    ):
        next(source)
        header = ",".join(COLUMNS) + "\n"
        out.write(header)
        plain.write(header)
        for i, line in enumerate(source, start=1):
            line = _crm_line(line, i)
            if i % step == step // 2:  # mid-way through each 100,000 rows
                out.write(line.rstrip("\n") + ",unexpected\n")
                broken += 1
                continue
            invalid += i % INVALID_EVERY == 0
            out.write(line)
            plain.write(line)
    ten_columns.unlink()
    return path, invalid, broken


def _crm_line(line: str, i: int) -> str:
    """A line of ``write_bench_csv`` (10 columns) with crm's ``birth_date`` before ``updated_at``;
    every ``INVALID_EVERY``-th row breaks one rule of crm.yaml."""
    head, updated_at = line.rsplit(",", 1)
    birth_date = f"{1940 + i % 66}-{1 + i % 12:02d}-{1 + i % 28:02d}"
    if i % INVALID_EVERY:
        return f"{head},{birth_date},{updated_at}"
    fields = head.split(",")
    assert len(fields) == 9, line  # write_bench_csv never quotes: its values hold no comma
    kind = INVALID_KINDS[(i // INVALID_EVERY) % len(INVALID_KINDS)]
    if kind == "bad_email":
        fields[3] = fields[3].replace("@", " at ")
    elif kind == "unknown_country":
        fields[8] = "XX"
    elif kind == "future_birth_date":
        birth_date = "2090-05-01"
    else:
        fields[2] = ""
    return f"{','.join(fields)},{birth_date},{updated_at}"


def write_sources(folder: Path, data_dir: Path) -> Path:
    """``folder/crm.yaml``: the sample crm.yaml with only ``location:`` changed; checks that it
    loads to the same source and renders byte for byte the dbt files the project holds."""
    from atlas.config import load_source
    from atlas.dbt.project import dbt_project_dir
    from atlas.dbt.render import render_source

    text, count = re.subn(
        r"(?m)^(\s*location:).*$", rf"\g<1> {data_dir}", SOURCE_YAML.read_text(encoding="utf-8"), count=1
    )
    assert count == 1, f"no location: line in {SOURCE_YAML}"
    copy = folder / SOURCE_YAML.name
    copy.write_text(text, encoding="utf-8")
    sample, ours = load_source(SOURCE_YAML), load_source(copy)
    sample_doc, ours_doc = sample.model_dump(), ours.model_dump()
    ours_doc["connector"]["location"] = sample_doc["connector"]["location"]
    assert ours_doc == sample_doc, "the copy of crm.yaml differs from the sample beyond its location"
    origin = str(SOURCE_YAML.relative_to(ROOT))  # the generated files' header names the YAML
    rendered = render_source(ours, origin=origin)
    project = dbt_project_dir()
    stale = [rel for rel, body in rendered.items() if _read(project / rel) != body]
    if rendered != render_source(sample, origin=origin) or stale:
        raise SystemExit(
            f"the dbt files of crm in {project} are not those of crm.yaml ({', '.join(stale)}): run `make setup`"
        )
    print(f"dbt: the copy of crm.yaml renders the project's {len(rendered)} generated crm files unchanged")
    return copy


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


# -- measurements -----------------------------------------------------------------------------


def copy_baseline(dsn: str, path: Path) -> tuple[float, int]:
    """A plain ``COPY … (FORMAT csv)`` of ``path`` into a fresh table of 11 text columns: (seconds, rows)."""
    from atlas_dev.sample.crm import COLUMNS

    with psycopg.connect(dsn) as conn:
        conn.execute("DROP TABLE IF EXISTS public.bench_e2e_copy")
        conn.execute(f"CREATE TABLE public.bench_e2e_copy ({', '.join(f'{c} text' for c in COLUMNS)})")
        conn.commit()
        with conn.cursor() as cur:
            started = time.perf_counter()
            statement = "COPY public.bench_e2e_copy FROM STDIN (FORMAT csv, HEADER true)"
            with cur.copy(statement) as copy, path.open("rb") as handle:
                while block := handle.read(4 * 1024 * 1024):
                    copy.write(block)
            conn.commit()
            seconds = time.perf_counter() - started
        rows = conn.execute("SELECT count(*) FROM public.bench_e2e_copy").fetchone()[0]
        conn.execute("DROP TABLE public.bench_e2e_copy")
    return seconds, rows


@contextlib.contextmanager
def dbt_results() -> Iterator[list[Any]]:
    """Keep what every in-process ``dbtRunner.invoke`` returns (``RunExecutionResult`` for a build)."""
    from dbt.cli.main import dbtRunner

    caught: list[Any] = []
    original = dbtRunner.invoke

    def invoke(self: Any, args: list[str], **kwargs: Any) -> Any:
        outcome = original(self, args, **kwargs)
        if hasattr(outcome.result, "results"):
            caught.append(outcome.result)
        return outcome

    dbtRunner.invoke = invoke  # type: ignore[method-assign]
    try:
        yield caught
    finally:
        dbtRunner.invoke = original  # type: ignore[method-assign]


@dataclass(frozen=True)
class TaskTiming:
    """One task instance of the run, as Airflow's metadata database recorded it."""

    task_id: str
    state: str
    start: dt.datetime | None
    end: dt.datetime | None

    @property
    def seconds(self) -> float | None:
        return (self.end - self.start).total_seconds() if self.start and self.end else None


def task_timings(dag_id: str, run_id: str) -> list[TaskTiming]:
    """Every task instance of the run, in the order they started."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = select(TaskInstance.task_id, TaskInstance.state, TaskInstance.start_date, TaskInstance.end_date)
    query = query.where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
    with create_session() as session:
        rows = session.execute(query).all()
    timings = [TaskTiming(task_id, str(state), start, end) for task_id, state, start, end in rows]
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(timings, key=lambda t: (t.start or never, t.task_id))


def span(timings: list[TaskTiming]) -> float | None:
    """Seconds from the first start to the last end of ``timings``."""
    starts = [t.start for t in timings if t.start]
    ends = [t.end for t in timings if t.end]
    return (max(ends) - min(starts)).total_seconds() if starts and ends else None


def dbt_sql_seconds(caught: list[Any], log: Path) -> tuple[float | None, str]:
    """The time dbt reports for its nodes and where it comes from (``None``: not found)."""
    results = [result for execution in caught for result in execution.results]
    if results:
        intervals = sorted(_node_interval(result) for result in results)
        covered, end = 0.0, None
        for start, stop in intervals:  # merge overlapping nodes (dbt threads)
            if end is None or start > end:
                covered, end = covered + (stop - start), stop
            elif stop > end:
                covered, end = covered + (stop - end), stop
        total = sum(result.execution_time for result in results)
        elapsed = sum(execution.elapsed_time for execution in caught)
        return covered, (
            f"dbtRunner result: {len(results)} nodes, execution_time sum {total:.2f}s, "
            f"wall covered {covered:.2f}s; dbt build elapsed {elapsed:.2f}s"
        )
    found = [float(m.group(1)) for m in DBT_NODE_TIME.finditer(_read(log) or "")]
    if found:
        return sum(found), f"task log: {len(found)} node results summed"
    return None, "no dbt result caught and no node result in the task log"


def _node_interval(result: Any) -> tuple[float, float]:
    """A node's run as epoch seconds: its timing entries (compile, execute), else its execution_time."""
    stamps = [(t.started_at, t.completed_at) for t in result.timing if t.started_at and t.completed_at]
    if not stamps:
        return 0.0, result.execution_time
    return min(s for s, _ in stamps).timestamp(), max(c for _, c in stamps).timestamp()


# -- report -----------------------------------------------------------------------------------


def _mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def print_tasks(timings: list[TaskTiming]) -> None:
    print(f"\ntask instances ({len(timings)}), from Airflow's metadata database (start offset, duration):")
    first = min((t.start for t in timings if t.start), default=None)
    for t in timings:
        offset = f"+{(t.start - first).total_seconds():6.2f}s" if t.start and first else "      -"
        took = f"{t.seconds:7.2f}s" if t.seconds is not None else "      -"
        print(f"  {offset} {took}  {t.state:<8}  {t.task_id}")


def print_counts(dsn: str, config: Any, interval: Any) -> None:
    from atlas.run import batch_counts

    print("\npipeline.batches:")
    for entity, batch in batch_counts(dsn, config, interval).items():
        if batch is None:
            print(f"  {entity}: no batch")
            continue
        print(
            f"  {entity}: read {batch.read:,}, landed {batch.landed:,}, quarantined {batch.quarantined:,}, "
            f"promoted {batch.promoted:,}, rejected {batch.rejected:,}, status {batch.status}, "
            f"{'balanced' if batch.balanced else 'MISMATCH'}"
        )
    with psycopg.connect(dsn) as conn:
        dim, current = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_current) FROM navigate.dim_customer"
        ).fetchone()
        customers = conn.execute("SELECT count(*) FROM navigate.crm__customers").fetchone()[0]
    print(
        f"  navigate.dim_customer: {dim:,} rows ({current:,} current); navigate.crm__customers: {customers:,} rows"
    )


def navigate_overhead(timings: list[TaskTiming], caught: list[Any], log: Path) -> float | None:
    """The navigate stage's span minus dbt's own node time (``None``: either unknown)."""
    stage = span([t for t in timings if t.task_id.startswith(NAVIGATE_PREFIX)])
    sql, _ = dbt_sql_seconds(caught, log)
    return None if stage is None or sql is None else stage - sql


def print_navigate(timings: list[TaskTiming], caught: list[Any], log: Path) -> None:
    stage = span([t for t in timings if t.task_id.startswith(NAVIGATE_PREFIX)])
    producer = next((t.seconds for t in timings if t.task_id == PRODUCER_TASK), None)
    sql, how = dbt_sql_seconds(caught, log)
    print(f"\nnavigate stage (first to last task of the group): {_s(stage)}; {PRODUCER_TASK}: {_s(producer)}")
    print(f"dbt's own time for its nodes: {_s(sql)} ({how})")
    target = f"(target <= {TARGET_OVERHEAD_S:.0f} s per source interval)"
    if stage is None or sql is None:
        print(f"navigate overhead: unknown, dbt's own time was not found   {target}")
    else:
        print(f"navigate overhead (stage - dbt's node time): {stage - sql:.2f}s   {target}")


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}s"


def print_speed(rows: int, wall: float, run_span: float | None, baseline: tuple[float, int]) -> None:
    copy_seconds, copy_rows = baseline
    print(
        f"\nend to end (run_day: DAG built, bundles parsed, tasks run): {wall:.2f}s = {rows / wall:,.0f} rows/s"
    )
    print(f"  DAG run span (first task start to last task end): {_s(run_span)}")
    print(
        f"  targets: 1,000,000 rows < 60 s (>= {TARGET_ROWS_PER_S:,} rows/s); "
        f"a quiet day (1,000 rows) < {TARGET_QUIET_S:.0f} s"
    )
    print(
        f"physical baseline, COPY csv -> 11 text columns: {copy_seconds:.2f}s for {copy_rows:,} rows "
        f"= {copy_rows / copy_seconds:,.0f} rows/s"
    )
    ratio = (rows / wall) / (copy_rows / copy_seconds)
    print(f"ratio atlas end to end / baseline (rows/s): {ratio:.3f} (baseline {1 / ratio:,.0f}x faster)")


# -- main -------------------------------------------------------------------------------------


def run_crm(scratch: Path, dsn: str, day: dt.date = DAY) -> tuple[Any, list[Any], Path]:
    """Migrate ``dsn``, prepare Airflow's metadata DB and run crm for ``day``: (DayRun, dbt results, log)."""
    from atlas.migrations import migrate
    from atlas.run import log_file, output_to, prepare_airflow_db, run_day

    log = log_file(f"bench_e2e_atlas_crm_{day:%Y%m%d}")
    with output_to(log):
        migrate(dsn)
        prepare_airflow_db()
    print(f"running atlas_crm for {day} with dag.test() (task logs in {log}) ...", flush=True)
    with output_to(log), dbt_results() as caught:
        result = run_day(scratch / "sources" / SOURCE_YAML.name, day, retries=0)
    return result, caught, log


def warm_up(scratch: Path, dsn: str, rows: int) -> bool:
    """Run the day before ``DAY`` with ``rows`` rows first, as the worker's previous interval.

    A worker that has run an interval before keeps Cosmos's cache (the dbt profile and dbt's
    partial parse, ``AIRFLOW__COSMOS__CACHE_DIR``) and has dbt imported; the measured run is then
    a worker's usual run, not its first. The warm-up's own navigate overhead is printed: what the
    first run of a worker pays once (a full dbt parse).
    """
    day = DAY - dt.timedelta(days=1)
    write_crm_day(scratch / "data", rows, scratch / "warm_up_baseline.csv", day=day)
    result, caught, log = run_crm(scratch, dsn, day)
    overhead = navigate_overhead(task_timings(result.dag_id, result.run_id), caught, log)
    print(
        f"warm-up (the worker's first interval): {day}, {rows:,} rows, {result.state} in "
        f"{result.seconds:.2f}s; navigate overhead {_s(overhead)}\n"
    )
    return result.succeeded


def bench(args: argparse.Namespace, scratch: Path, dsn: str) -> bool:
    """Generate, copy, run and print; whether the DAG run succeeded with every task a success."""
    from atlas.config import load_source

    load_at_start = load_average()
    data_dir, baseline_csv = scratch / "data", scratch / "baseline.csv"
    started = time.perf_counter()
    csv_path, invalid, broken = write_crm_day(data_dir, args.rows, baseline_csv)
    print(
        f"rows: {args.rows:,} in {csv_path} ({csv_path.stat().st_size / 1e6:.1f} MB; {invalid:,} invalid "
        f"for chart, {broken:,} broken lines) written in {time.perf_counter() - started:.1f}s"
    )
    path = write_sources(scratch / "sources", data_dir)
    baseline = copy_baseline(dsn, baseline_csv)
    if args.warm_up_rows and not warm_up(scratch, dsn, args.warm_up_rows):
        print("the warm-up run failed: see its task log")
        return False
    rss_before = _mib(resource.RUSAGE_SELF), _mib(resource.RUSAGE_CHILDREN)
    result, caught, log = run_crm(scratch, dsn)
    timings = task_timings(result.dag_id, result.run_id)
    print(f"\nrun {result.run_id}: {result.state}")
    print_tasks(timings)
    print_speed(args.rows, result.seconds, span(timings), baseline)
    print_counts(dsn, load_source(path), result.interval)
    print_navigate(timings, caught, log)
    print(
        f"\npeak RSS: this process {_mib(resource.RUSAGE_SELF):,.0f} MiB ({rss_before[0]:,.0f} MiB before "
        f"the run), children {_mib(resource.RUSAGE_CHILDREN):,.0f} MiB ({rss_before[1]:,.0f} MiB before)"
    )
    print(f"load average: {load_at_start} at start, {load_average()} at end")
    ok = result.succeeded and bool(timings) and all(t.state == "success" for t in timings)
    print(f"\nDAG run {'succeeded, every task success' if ok else 'FAILED: see ' + str(log)}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="rows of the day's file (1000: a quiet day)"
    )
    parser.add_argument(
        "--dsn", help="an existing warehouse database (migrated if needed; default: a new one)"
    )
    parser.add_argument(
        "--warm-up-rows",
        type=int,
        default=1_000,
        help="rows of the day before, run first as the worker's previous interval (0: measure a cold worker)",
    )
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database and the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="atlas-bench-e2e-"))
    set_environment(scratch)
    from atlas_dev.embedded_pg import create_database, drop_database, uri

    created = None
    dsn = args.dsn
    if dsn is None:
        created = f"atlas_bench_e2e_{secrets.token_hex(4)}"
        dsn = create_database(args.admin_dsn, created)
    os.environ["AIRFLOW_CONN_ATLAS_WAREHOUSE"] = uri(
        psycopg.conninfo.conninfo_to_dict(dsn), host_in_authority=True
    )
    try:
        return 0 if bench(args, scratch, dsn) else 1
    finally:
        if args.keep:
            print(f"kept: database {dsn}, scratch folder {scratch}")
        else:
            if created:
                drop_database(args.admin_dsn, created)
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
