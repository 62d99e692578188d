"""Run one source's DAG for one day with ``dag.test()``, and read back its batches.

What ``python -m atlas.cli run <source> --date D`` (``make run``) and ``make demo`` share. A
data-interval timetable runs, for a run at logical date ``X``, the last interval ending at ``X``:
the day ``D`` is therefore run with ``logical_date = D + 1 day`` (:func:`logical_date_for`).

Airflow 3.3's ``dag.test()`` runs only a DAG that one of Airflow's DAG bundles holds: it parses
the bundles, finds ``atlas_<name>`` there (``dags/atlas_sources.py`` builds it from the same
sources folder) and then runs the tasks of the DAG object it was called on, so the retries set
here apply. Task logs are sent to a file (:func:`output_to`); nothing here prints.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from atlas.batches import Interval, batch_id
from atlas.config import SourceConfig, load_source, source_files, sources_folder
from atlas.exceptions import RunError
from atlas.sql import load_sql

log = logging.getLogger(__name__)

RUN_LOGS = "atlas-run-logs"
"""Folder under ``$AIRFLOW_HOME`` of the logs of ``atlas.cli run`` (task logs) and ``validate``."""


def logical_date_for(day: dt.date) -> dt.datetime:
    """The logical date whose run processes ``day``: midnight UTC of the next day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def log_file(name: str) -> Path:
    """``$AIRFLOW_HOME/atlas-run-logs/<name>.log``: where a command sends what Airflow logs."""
    airflow_home = Path(os.environ.get("AIRFLOW_HOME") or "~/airflow").expanduser()
    return airflow_home / RUN_LOGS / f"{name}.log"


def find_source(name: str, folder: Path | None = None) -> Path:
    """The YAML file of source ``name`` in ``folder`` (default: the sources folder)."""
    folder = folder or sources_folder()
    files = source_files(folder) if folder.is_dir() else []
    for path in files:
        if path.stem == name:
            return path
    known = ", ".join(path.stem for path in files) or "none"
    raise RunError(f"no source {name!r} in {folder} (sources there: {known})")


_KEPT: list[object] = []
"""The streams ``output_to`` gave ``sys.stdout`` / ``sys.stderr``: alive as long as the process, so
a logger that kept one never writes to a closed file."""


@contextlib.contextmanager
def output_to(path: Path) -> Iterator[None]:
    """Send everything written to stdout and stderr (task logs included) to ``path``, appended.

    The file descriptors 1 and 2 are redirected (what Airflow's log handlers and subprocesses
    write to), and ``sys.stdout`` / ``sys.stderr`` write to those descriptors for the while. The
    streams put there are never closed: Airflow's logging keeps the stream it found when a run
    configured it, and writes to it in later runs too, where fds 1 and 2 point at their own file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("a", encoding="utf-8") as handle:
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
        out = open(1, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115 - kept open
        err = open(2, "w", encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115 - kept open
        _KEPT.extend((out, err))
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                yield
        finally:
            out.flush()
            err.flush()
            sys.stdout.flush()
            sys.stderr.flush()
            handle.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def prepare_airflow_db() -> None:
    """Make Airflow's metadata database ready for ``dag.test()``: created when it is empty.

    A database with an older schema is never migrated behind the user's back (it may be a shared
    one): :class:`RunError` asks for ``airflow db migrate`` instead.
    """
    from airflow import settings
    from airflow.utils import db
    from alembic.migration import MigrationContext

    with settings.get_engine().connect() as connection:
        heads = MigrationContext.configure(connection).get_current_heads()
    if not heads:
        log.info("creating Airflow's metadata database %s", settings.get_engine().url)
        db.initdb()
        return
    try:
        db.check_migrations(timeout=1)
    except TimeoutError as exc:
        raise RunError(
            f"Airflow's metadata database {settings.get_engine().url} needs migrating: "
            f"run `airflow db migrate` (same AIRFLOW_HOME). {exc}"
        ) from None


@dataclass(frozen=True)
class DayRun:
    """One ``dag.test()`` run of a source DAG."""

    dag_id: str
    run_id: str
    state: str
    interval: Interval
    task_states: list[tuple[str, str]]
    """``(task_id, state)`` in the order the tasks started; ``none`` for a task without an instance."""
    seconds: float

    @property
    def succeeded(self) -> bool:
        """Whether the run ended in state ``success``."""
        return self.state == "success"


def run_day(path: Path, day: dt.date, *, retries: int = 0) -> DayRun:
    """Build the DAG of the source YAML ``path`` and run it with ``dag.test()`` for ``day``.

    Every task gets ``retries`` (0: a failure shows at once instead of waiting for a retry).
    """
    from atlas.factory.builder import build_dag

    started = time.perf_counter()
    dag = build_dag(load_source(path), path)
    for task in dag.tasks:
        task.retries = retries
    try:
        run = dag.test(logical_date=logical_date_for(day))
    except Exception as exc:
        raise RunError(
            f"dag.test() of {dag.dag_id} failed before its tasks ran: {type(exc).__name__}: {exc}. "
            "Airflow runs only DAGs its DAG bundles hold: AIRFLOW__CORE__DAGS_FOLDER must be the "
            "repository's dags/ folder (make run sets it) and the source must be in the sources "
            "folder the DAGs are loaded from ($ATLAS_SOURCES_DIR, default include/sources)"
        ) from exc
    return DayRun(
        dag_id=dag.dag_id,
        run_id=str(run.run_id),
        state=str(run.state),
        interval=_interval(run),
        task_states=_task_states(dag.task_ids, run.get_task_instances()),
        seconds=time.perf_counter() - started,
    )


def _task_states(task_ids: list[str], instances: list[Any]) -> list[tuple[str, str]]:
    """``(task_id, state)`` in the order the tasks started, then those that never started in DAG order."""
    by_id = {ti.task_id: ti for ti in instances}
    never = dt.datetime.max.replace(tzinfo=dt.UTC)

    def started(index_and_id: tuple[int, str]) -> tuple[dt.datetime, int]:
        ti = by_id.get(index_and_id[1])
        return (ti.start_date if ti is not None and ti.start_date else never), index_and_id[0]

    ordered = sorted(enumerate(task_ids), key=started)
    return [(task_id, str(by_id[task_id].state) if task_id in by_id else "none") for _, task_id in ordered]


def _interval(run: Any) -> Interval:
    start, end = run.data_interval_start, run.data_interval_end
    return Interval(_utc(start), _utc(end))


def _utc(value: dt.datetime) -> dt.datetime:
    return dt.datetime.fromtimestamp(value.timestamp(), tz=dt.UTC)


@dataclass(frozen=True)
class BatchCounts:
    """The counts of one entity's batch in ``pipeline.batches`` (``None``: not counted yet)."""

    entity: str
    read: int | None
    landed: int | None
    quarantined: int | None
    promoted: int | None
    rejected: int | None
    status: str

    @property
    def balanced(self) -> bool:
        """``read = landed + quarantined`` and, once promoted, ``landed = promoted + rejected``."""
        if None in (self.read, self.landed, self.quarantined):
            return False
        if self.read != (self.landed or 0) + (self.quarantined or 0):
            return False
        return self.promoted is None or self.landed == self.promoted + (self.rejected or 0)


def batch_counts(dsn: str, config: SourceConfig, interval: Interval) -> dict[str, BatchCounts | None]:
    """Each entity's batch of ``interval`` as ``pipeline.batches`` holds it (``None``: never landed)."""
    counts: dict[str, BatchCounts | None] = {}
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor(row_factory=dict_row) as cur:
        for entity in config.entities:
            cur.execute(
                load_sql("pipeline", "batch_summary"),
                {"batch_id": batch_id(config.name, entity.name, interval)},
            )
            row = cur.fetchone()
            counts[entity.name] = None if row is None else _counts(entity.name, row)
    return counts


def _counts(entity: str, row: dict[str, Any]) -> BatchCounts:
    return BatchCounts(
        entity=entity,
        read=row["rows_read"],
        landed=row["rows_landed"],
        quarantined=row["rows_quarantined"],
        promoted=row["rows_promoted"],
        rejected=row["rows_rejected"],
        status=str(row["status"]),
    )
