"""The test harness itself: isolation, server selection, databases, S3 and Airflow's DB."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest

from tests.fixtures.environment import OPENLINEAGE_NAMESPACE, isolate_process, pytest_temp_root
from tests.fixtures.postgres import (
    DSN_ENV,
    EMBEDDED_ENV,
    PgServer,
    PgServerUnavailable,
    PgSource,
    choose_source,
    new_database_name,
    select_pg_server,
)
from tests.fixtures.s3 import free_port
from tests.fixtures.warehouse import WAREHOUSE_CONN_ENV

SCHEMAS = ("explore", "chart", "navigate", "pipeline", "quality", "compliance", "archive")


def _fail() -> bool:
    """A probe of the local server that must not happen."""
    raise AssertionError("the local server must not be probed here")


@pytest.mark.parametrize(
    ("env", "local_answers", "expected"),
    [
        pytest.param(
            {DSN_ENV: "postgresql://u@db:5432/x", EMBEDDED_ENV: "1"},
            _fail,
            PgSource.EXPLICIT,
            id="explicit-dsn-wins",
        ),
        pytest.param({EMBEDDED_ENV: "1"}, _fail, PgSource.EMBEDDED, id="embedded-forced"),
        pytest.param({}, lambda: True, PgSource.LOCAL, id="local-answers"),
        pytest.param({}, lambda: False, PgSource.EMBEDDED, id="nothing-answers"),
        pytest.param({DSN_ENV: "  ", EMBEDDED_ENV: "0"}, lambda: True, PgSource.LOCAL, id="blanks"),
    ],
)
def test_choose_source_follows_the_selection_order(env, local_answers, expected):
    """An explicit DSN wins, then the embedded flag, then a local server, then embedded."""
    assert choose_source(env, local_answers) is expected


def test_explicit_dsn_that_does_not_answer_fails_clearly(tmp_path):
    """An ATLAS_TEST_PG_DSN nobody answers on is an error naming it, never a fallback."""
    dsn = f"postgresql://postgres:hunter2@127.0.0.1:{free_port()}/postgres"
    with pytest.raises(PgServerUnavailable) as raised:
        select_pg_server({DSN_ENV: dsn, EMBEDDED_ENV: "1"}, tmp_path)
    message = str(raised.value)
    assert DSN_ENV in message
    assert "does not answer" in message
    assert "hunter2" not in message
    assert not (tmp_path / "pgdata").exists()


@pytest.mark.parametrize(
    ("admin_dsn", "dsn", "airflow_uri"),
    [
        pytest.param(
            "postgresql://postgres@/postgres?host=/tmp/pg",
            "postgresql://postgres@/atlas_x?host=/tmp/pg",
            "postgresql://postgres@%2Ftmp%2Fpg/atlas_x",
            id="unix-socket",
        ),
        pytest.param(
            "host=db.example port=6543 user=etl password=p@ss dbname=maint sslmode=require",
            "postgresql://etl:p%40ss@db.example:6543/atlas_x?sslmode=require",
            "postgresql://etl:p%40ss@db.example:6543/atlas_x?sslmode=require",
            id="tcp-key-value",
        ),
    ],
)
def test_database_dsns_keep_the_server_and_swap_the_database(admin_dsn, dsn, airflow_uri):
    """DSNs of a database reuse the server's parameters; Airflow's form keeps a socket host."""
    server = PgServer(PgSource.EXPLICIT, admin_dsn)
    assert server.dsn("atlas_x") == dsn
    assert server.airflow_uri("atlas_x") == airflow_uri


def test_airflow_reads_a_socket_host_from_the_airflow_uri():
    """Airflow's Connection parses the socket path of ``airflow_uri`` into ``host``."""
    from airflow.models.connection import Connection

    uri = PgServer(PgSource.EMBEDDED, "postgresql://postgres@/postgres?host=/tmp/pg").airflow_uri("atlas_x")
    conn = Connection(conn_id="probe", uri=uri)
    assert (conn.conn_type, conn.host, conn.schema, conn.login) == (
        "postgres",
        "/tmp/pg",
        "atlas_x",
        "postgres",
    )


def test_isolation_drops_real_connections_and_keeps_loopback_off_proxies(tmp_path):
    """Isolating a process removes inherited connections and adds loopback to NO_PROXY."""
    environ = {
        "AIRFLOW_CONN_ATLAS_WAREHOUSE": "postgresql://prod/warehouse",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://prod/airflow",
        "NO_PROXY": "corp.example",
        "HOME": "/root",
    }
    dirs = isolate_process(tmp_path / "repo", environ=environ, base=tmp_path)
    assert "AIRFLOW_CONN_ATLAS_WAREHOUSE" not in environ
    assert environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{dirs.airflow_db}"
    assert environ["HOME"] == str(dirs.home)
    assert environ["NO_PROXY"] == "corp.example,127.0.0.1,localhost"
    assert environ["no_proxy"] == "127.0.0.1,localhost"
    assert dirs.root.parent == tmp_path


def test_this_process_runs_in_a_disposable_home(session_dirs):
    """HOME, AIRFLOW_HOME and Airflow's metadata DB all live in the session directory."""
    from airflow.configuration import AIRFLOW_HOME, conf

    assert Path(os.path.expanduser("~")) == session_dirs.home
    assert Path(AIRFLOW_HOME) == session_dirs.airflow_home
    assert conf.get("database", "sql_alchemy_conn") == f"sqlite:///{session_dirs.airflow_db}"
    assert not conf.getboolean("core", "load_examples")
    assert not conf.getboolean("core", "unit_test_mode")


def test_files_sources_read_only_below_include_and_the_test_temp_folders(session_dirs, tmp_path):
    """The session's source roots are include/, the session directory and pytest's temp root."""
    from atlas.connectors.files.confine import source_roots
    from atlas.constants import INCLUDE_DIR

    roots = source_roots()
    assert roots == [INCLUDE_DIR.resolve(), session_dirs.root.resolve(), pytest_temp_root()]
    assert any(tmp_path.resolve().is_relative_to(root) for root in roots)
    assert not any(Path(p).is_relative_to(root) for p in ("/etc", "/proc/self", "/tmp") for root in roots)


def test_telemetry_is_off():
    """Cosmos, Scarf and Airflow's usage collection are told not to phone home."""
    from airflow.configuration import conf

    assert os.environ["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"
    assert os.environ["SCARF_ANALYTICS"] == "false"
    assert os.environ["DO_NOT_TRACK"] == "1"
    assert not conf.getboolean("cosmos", "enable_telemetry", fallback=True)
    assert not conf.getboolean("usage_data_collection", "enabled")


def test_openlineage_transport_is_a_file_in_the_session(openlineage_log):
    """The OpenLineage provider is configured with the file transport and the test namespace."""
    from airflow.providers.openlineage import conf as ol_conf

    assert ol_conf.transport() == {
        "type": "file",
        "log_file_path": str(openlineage_log),
        "append": True,
    }
    assert ol_conf.namespace() == OPENLINEAGE_NAMESPACE
    assert not ol_conf.is_disabled()


@pytest.mark.postgres
def test_session_server_is_the_one_the_environment_asks_for(pg_server):
    """The session uses the explicit DSN, else the forced embedded server, else any that answers.

    The server is PostgreSQL 15 or later and its user may create databases.
    """
    if os.environ.get(DSN_ENV, "").strip():
        expected = {PgSource.EXPLICIT}
    elif os.environ.get(EMBEDDED_ENV) == "1":
        expected = {PgSource.EMBEDDED}
    else:
        expected = {PgSource.LOCAL, PgSource.EMBEDDED}
    assert pg_server.source in expected
    with pg_server.admin() as conn:
        (version,) = conn.execute("SHOW server_version_num").fetchone()
        (can_create,) = conn.execute(
            "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    assert int(version) >= 150000
    assert can_create


@pytest.mark.postgres
def test_session_warehouse_is_fresh_and_migrated(pg_server, warehouse_template, warehouse_dsn):
    """The session database is new, cloned from the migrated template, ledger and schemas included."""
    from atlas.migrations import LEDGER_TABLE

    migrations = sorted(p.stem for p in (Path(os.environ["ATLAS_ROOT"]) / "sql").glob("*.sql"))
    assert warehouse_template.applied == migrations
    with psycopg.connect(warehouse_dsn) as conn:
        (dbname,) = conn.execute("SELECT current_database()").fetchone()
        schemas = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}
        ledger = [row[0] for row in conn.execute(f"SELECT version FROM {LEDGER_TABLE} ORDER BY 1")]
        (yoyo_rows,) = conn.execute("SELECT count(*) FROM _yoyo_migration").fetchone()
        (batches,) = conn.execute("SELECT count(*) FROM pipeline.batches").fetchone()
    assert dbname.startswith("atlas_test_")
    assert dbname in pg_server.created_databases
    assert dbname != warehouse_template.name
    assert set(SCHEMAS) <= schemas
    assert ledger == migrations
    assert yoyo_rows == len(migrations)
    assert batches == 0


@pytest.mark.postgres
def test_warehouse_connection_reaches_the_session_database(warehouse_dsn):
    """``atlas_warehouse`` resolves, through Airflow, to the session's warehouse."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    with psycopg.connect(warehouse_dsn) as conn:
        (expected,) = conn.execute("SELECT current_database()").fetchone()
    hook = PostgresHook(postgres_conn_id="atlas_warehouse")
    assert hook.get_first("SELECT current_database()")[0] == expected


@pytest.mark.postgres
def test_fresh_warehouse_is_isolated_from_the_session_one(warehouse_dsn, fresh_warehouse_dsn):
    """A function-scoped warehouse is another migrated database, and the connection follows it."""
    with psycopg.connect(fresh_warehouse_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE pipeline.harness_probe (x int)")
        (fresh_name,) = conn.execute("SELECT current_database()").fetchone()
    with psycopg.connect(warehouse_dsn) as conn:
        (probe,) = conn.execute("SELECT to_regclass('pipeline.harness_probe')").fetchone()
    assert probe is None
    assert os.environ[WAREHOUSE_CONN_ENV].endswith("/" + fresh_name)


@pytest.mark.postgres
def test_empty_database_has_no_warehouse_schema(empty_db_dsn):
    """``empty_db_dsn`` is a new database nothing was applied to."""
    with psycopg.connect(empty_db_dsn) as conn:
        schemas = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}
    assert not schemas & set(SCHEMAS)


@pytest.mark.postgres
def test_database_settings_survive_cloning(pg_server):
    """``ALTER DATABASE … SET`` of a template is copied to its clones."""
    source, clone = new_database_name("atlas_test"), new_database_name("atlas_test")
    pg_server.create_database(source)
    try:
        with pg_server.admin() as conn:
            conn.execute(f'ALTER DATABASE {source} SET search_path TO pipeline, "$user", public')
            conn.execute(f"ALTER DATABASE {source} SET timezone TO 'Europe/Paris'")
        with psycopg.connect(pg_server.create_database(clone, template=source)) as conn:
            search_path = conn.execute("SHOW search_path").fetchone()[0]
            timezone = conn.execute("SHOW timezone").fetchone()[0]
        assert (search_path, timezone) == ('pipeline, "$user", public', "Europe/Paris")
    finally:
        pg_server.drop_database(clone)
        pg_server.drop_database(source)


@pytest.mark.postgres
def test_dropping_a_database_ends_its_connections(pg_server):
    """A test database is dropped even while a connection to it is still open."""
    name = new_database_name("atlas_test")
    conn = psycopg.connect(pg_server.create_database(name))
    try:
        pg_server.drop_database(name)
        with pg_server.admin() as admin:
            assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
        assert name not in pg_server.created_databases
    finally:
        conn.close()


@pytest.mark.s3
def test_moto_endpoint_stores_and_returns_objects_through_s3hook(moto_server, s3_bucket):
    """S3Hook writes and reads an object on the moto endpoint over HTTP."""
    import boto3
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id="atlas_s3")
    hook.load_string("hello atlas", key="probe/hello.txt", bucket_name=s3_bucket)
    assert hook.read_key("probe/hello.txt", bucket_name=s3_bucket) == "hello atlas"
    assert hook.check_for_key("probe/hello.txt", bucket_name=s3_bucket)

    extra = json.loads(os.environ["AIRFLOW_CONN_ATLAS_S3"])["extra"]
    assert extra["endpoint_url"] == moto_server.endpoint_url
    assert moto_server.process.pid != os.getpid()
    client = boto3.client(
        "s3",
        endpoint_url=moto_server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="other",
        aws_secret_access_key="other",
    )
    body = client.get_object(Bucket=s3_bucket, Key="probe/hello.txt")["Body"].read()
    assert body == b"hello atlas"


@pytest.mark.airflow
def test_airflow_metadata_db_is_initialised_in_the_session(airflow_db, session_dirs):
    """``airflow_db`` creates Airflow's schema in the session's SQLite file."""
    from airflow.utils.db import check_migrations

    assert airflow_db == session_dirs.airflow_db
    assert airflow_db.stat().st_size > 0
    check_migrations(timeout=1)


@pytest.mark.airflow
@pytest.mark.postgres
@pytest.mark.slow
def test_dag_test_runs_sql_on_the_warehouse_and_writes_lineage(
    make_test_dag, fresh_warehouse_dsn, openlineage_log
):
    """dag.test() runs a SQL task on ``atlas_warehouse`` and lineage lands in the event file."""
    dag = make_test_dag(
        "atlas_harness_probe",
        """
        import pendulum
        from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
        from airflow.sdk import DAG

        with DAG("atlas_harness_probe", schedule=None, start_date=pendulum.datetime(2024, 1, 1)):
            SQLExecuteQueryOperator(
                task_id="create_probe",
                conn_id="atlas_warehouse",
                sql="CREATE TABLE pipeline.harness_probe AS SELECT 1 AS x",
            )
        """,
    )
    dag_run = dag.test()

    assert dag_run.state == "success"
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        assert conn.execute("SELECT x FROM pipeline.harness_probe").fetchall() == [(1,)]
    events = [json.loads(line) for line in openlineage_log.read_text().splitlines() if line]
    jobs = {(e["job"]["namespace"], e["job"]["name"]) for e in events if "job" in e}
    assert (OPENLINEAGE_NAMESPACE, "atlas_harness_probe.create_probe") in jobs
