"""Command line used by the Makefile: ``python -m atlas.cli migrate|status|validate|run|quality|retention``.

- ``validate [files or folders…]``: check source YAML files (default: every file of the sources
  folder) and build their DAGs; no database. Exit 0 when all are valid, 1 otherwise.
- ``run <source> --date YYYY-MM-DD``: run the source's DAG for that day with ``dag.test()``
  against the warehouse, then print every task's state and the day's batch counts. Exit 0 when
  the run succeeded, 1 when it failed.
- ``quality show <source>``: print the quality checks generated from the source's YAML (the
  SodaCL a scan runs, the SQL reconciliations, the hand-written files); no database.
- ``retention show``: the retention policy of every partitioned table (its period and which
  setting it comes from: ``include/retention.yaml`` or a source's ``retention``); no database.
  Exit 1 when a source's ``retention.tables`` names a table that is none of its navigate facts.

The warehouse is always the Airflow connection ``atlas_warehouse``
(``AIRFLOW_CONN_ATLAS_WAREHOUSE=postgresql://…``), exactly as DAGs see it. Exit 2: a usage
error, or nothing could be done (no such file or source, no connection).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from atlas.constants import ROOT, WAREHOUSE_CONN_ID
from atlas.exceptions import AtlasError, RunError

if TYPE_CHECKING:
    from atlas.batches import Interval
    from atlas.run import BatchCounts, DayRun

log = logging.getLogger("atlas.cli")

NO_WAREHOUSE = (
    f"the Airflow connection {WAREHOUSE_CONN_ID!r} is not defined: set "
    f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}=postgresql://user:password@host:5432/database, or use "
    "`make run SOURCE=… DATE=…`, which starts an embedded PostgreSQL when it is unset"
)


def _migrate(_: argparse.Namespace) -> int:
    from atlas.migrations import migrate, warehouse_dsn

    applied = migrate(warehouse_dsn())
    print(
        f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else " (up to date)")
    )
    return 0


def _status(_: argparse.Namespace) -> int:
    from atlas.migrations import status, warehouse_dsn

    for row in status(warehouse_dsn()):
        print(row)
    return 0


# -- validate ---------------------------------------------------------------------------------


def _validate(args: argparse.Namespace) -> int:
    from atlas.run import log_file, output_to
    from atlas.validate import check_sources

    paths = _source_paths(args.files)
    logs = log_file("validate")
    logs.unlink(missing_ok=True)
    with output_to(logs):  # what building the DAGs logs (Cosmos parsing the manifest): not the report
        checks = check_sources(paths)
    for check in checks:
        if check.ok and check.config is not None:
            config = check.config
            entities = ", ".join(entity.name for entity in config.entities)
            print(
                f"OK    {check.path}: source {config.name} ({config.connector.type}; entities: {entities})"
                f" -> DAG {check.dag_id}, {check.task_count} tasks"
            )
        else:
            print(f"FAIL  {check.problem}")
    bad = sum(not check.ok for check in checks)
    print(
        f"{len(checks)} source file(s) checked: "
        + (f"{bad} invalid" if bad else "all valid, names unique, DAGs built")
    )
    if any(check.build_failed for check in checks):
        print(f"what building the DAGs logged: {logs}")
    return 1 if bad else 0


def _source_paths(given: Sequence[str]) -> list[Path]:
    """The files to check: each given file, each given folder's source files; default the sources folder."""
    from atlas.config import source_files, sources_folder

    targets = [Path(name) for name in given] or [sources_folder()]
    paths: list[Path] = []
    for target in targets:
        if target.is_dir():
            found = source_files(target)
            if not found:
                raise RunError(f"no source YAML files (*.yaml, *.yml) in {_shown(target)}")
            paths.extend(_shown(path) for path in found)
        elif target.exists():
            paths.append(_shown(target))
        else:
            raise RunError(f"no such file or folder: {target}")
    return paths


def _shown(path: Path) -> Path:
    """``path`` relative to the working directory when it lies below it (shorter messages)."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


# -- run --------------------------------------------------------------------------------------


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _retries(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a number of retries (0, 1, …): {text!r}")
    return int(text)


def _run(args: argparse.Namespace) -> int:
    # dag.test() runs only DAGs a DAG bundle holds: the repository's dags/ builds atlas_<source>.
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
    from atlas import run
    from atlas.config import load_source
    from atlas.migrations import migrate

    day: dt.date = args.date
    path = run.find_source(args.source)
    config = load_source(path)
    dsn = _warehouse_dsn()
    logs = run.log_file(f"{config.dag_id}_{day:%Y%m%d}")
    logs.unlink(missing_ok=True)
    with run.output_to(logs):
        applied = migrate(dsn)
    print(
        f"migrations: {len(applied)} applied" + (f" ({', '.join(applied)})" if applied else " (up to date)")
    )
    print(
        f"{config.dag_id}: running the day {day} (logical date {run.logical_date_for(day):%Y-%m-%d}), "
        f"retries {args.retries}; task logs in {logs}",
        flush=True,
    )
    with run.output_to(logs):
        run.prepare_airflow_db()
        result = run.run_day(path, day, retries=args.retries)
    _print_run(result)
    whole_day = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC), run.logical_date_for(day)
    if (result.interval.start, result.interval.end) != whole_day:
        print(
            f"note: the schedule {config.schedule!r} gives a run at {whole_day[1]:%Y-%m-%d} this interval, "
            f"not the whole day {day}"
        )
    _print_batches(config.name, result.interval, run.batch_counts(dsn, config, result.interval))
    if not result.succeeded:
        print(f"\nthe run failed: the task logs are in {logs}")
    return 0 if result.succeeded else 1


def _warehouse_dsn() -> str:
    from airflow.exceptions import AirflowNotFoundException

    from atlas.migrations import warehouse_dsn

    try:
        return warehouse_dsn()
    except AirflowNotFoundException:
        raise RunError(NO_WAREHOUSE) from None


def _print_run(result: DayRun) -> None:
    interval = result.interval
    print(
        f"\nrun {result.run_id}: {result.state} ({result.seconds:.0f}s), "
        f"interval {interval.start:%Y-%m-%d %H:%M} .. {interval.end:%Y-%m-%d %H:%M} UTC"
    )
    width = max(len(state) for _, state in result.task_states)
    for task_id, state in result.task_states:
        print(f"  {state:<{width}}  {task_id}")


def _print_batches(source: str, interval: Interval, counts: Mapping[str, BatchCounts | None]) -> None:
    print(
        f"\npipeline.batches of {source}, interval {interval.start:%Y-%m-%d %H:%M} .. "
        f"{interval.end:%Y-%m-%d %H:%M} UTC (read = landed + quarantined; landed = promoted + rejected):"
    )
    headers = ("entity", "read", "landed", "quarantined", "promoted", "rejected", "status", "check")
    rows: list[tuple[str, ...]] = []
    for entity, batch in counts.items():
        if batch is None:
            rows.append((entity, "-", "-", "-", "-", "-", "no batch", ""))
            continue
        numbers = (batch.read, batch.landed, batch.quarantined, batch.promoted, batch.rejected)
        check = "ok" if batch.balanced else "MISMATCH"
        rows.append((entity, *("-" if n is None else str(n) for n in numbers), batch.status, check))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``run`` (also ``python -m atlas_dev run``): source, ``--date``, ``--retries``."""
    parser.add_argument("source", help="the source's name (its YAML file's name)")
    parser.add_argument(
        "--date", required=True, type=_date, metavar="YYYY-MM-DD", help="the day to process (its interval)"
    )
    parser.add_argument(
        "--retries", type=_retries, default=0, help="retries per task (default 0: a failure shows at once)"
    )


# -- quality ----------------------------------------------------------------------------------


def _quality_show(args: argparse.Namespace) -> int:
    from atlas import run
    from atlas.config import load_source
    from atlas.quality.checks import generate_checks
    from atlas.quality.sodacl import hand_written_files, render_sodacl

    config = load_source(run.find_source(args.source))
    checks = generate_checks(config)
    print(f"# quality checks of source {config.name} (check: dimension, severity)")
    for check in checks:
        print(f"#   {check.name}: {check.dimension.value}, {check.severity.value} ({check.engine})")
    print("# row_count runs only for entities whose interval landed rows; SQL checks run in Atlas.")
    for hand in hand_written_files(config):
        print(f"# hand-written: {_shown(hand.path)} ({', '.join(hand.checks)})")
    print(render_sodacl(checks), end="")
    return 0


# -- retention --------------------------------------------------------------------------------


def _retention_show(_: argparse.Namespace) -> int:
    from atlas.config.retention import describe, project_retention
    from atlas.retention import load_policy, load_unmatched

    project = project_retention()
    rules = load_policy()
    headers = ("table", "partitions", "kept", "set by")
    rows = [
        (rule.table, f"{rule.grain.value}ly" if rule.grain else "?", rule.period, rule.origin)
        for rule in rules
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    print(
        "\na partition is archived and dropped once its whole range is older than its table's period; "
        f"archives go to s3://{project.bucket}/<schema>/<table>/<partition>.parquet (connection atlas_s3), "
        f"kept {describe(project.keep_archives)}"
    )
    unmatched = load_unmatched()
    for entry in unmatched:
        print(f"warning: {entry} names no partitioned navigate fact of that source: it has no effect")
    return 1 if unmatched else 0


# -- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="atlas", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply sql/ migrations to atlas_warehouse").set_defaults(func=_migrate)
    sub.add_parser("status", help="list applied and pending migrations").set_defaults(func=_status)
    validate = sub.add_parser("validate", help="check source YAML files and build their DAGs (no database)")
    validate.add_argument(
        "files", nargs="*", help="source YAML files or folders (default: every file of the sources folder)"
    )
    validate.set_defaults(func=_validate)
    run = sub.add_parser("run", help="run one source's DAG for one day with dag.test()")
    add_run_arguments(run)
    run.set_defaults(func=_run)
    quality = sub.add_parser("quality", help="the generated quality checks of a source")
    quality_sub = quality.add_subparsers(dest="quality_command", required=True)
    show = quality_sub.add_parser("show", help="print the SodaCL and SQL checks generated from the YAML")
    show.add_argument("source", help="the source's name (its YAML file's name)")
    show.set_defaults(func=_quality_show)
    retention = sub.add_parser("retention", help="the retention policy of the partitioned tables")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    retention_sub.add_parser(
        "show", help="each partitioned table's retention and where it is set"
    ).set_defaults(func=_retention_show)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    command: Callable[[argparse.Namespace], int] = args.func
    try:
        return command(args)
    except AtlasError as exc:
        print(f"atlas {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
