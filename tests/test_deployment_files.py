"""Static checks of the files for machines with Docker (no Docker engine runs here).

Dockerfile, docker-compose.yaml, airflow_settings.yaml and the Astro project layout are read
as text and YAML: the base image matches the pinned Airflow, the side venvs come from the lock
files, every service Atlas needs is there, connection ids are the agreed ones and no value
looks like a real secret. Compose defaults no secret (``${VAR:?message}``), ``make secrets``
writes exactly those to a private ``.env`` that git and the image build ignore, and the pipeline
reaches the warehouse as a login that is a member of ``atlas_write`` and nothing more.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
AIRFLOW_VERSION = "3.3.2"
"""The Airflow release Atlas is built and tested on (SPEC.md)."""
RUNTIME_REPOSITORIES = ("astrocrpublic.azurecr.io/runtime", "air.astronomer.io/runtime")
"""Where Astro Runtime images for Airflow 3 are published."""
RUNTIME_TAG = re.compile(r"^(?P<airflow>\d+\.\d+)-(?P<patch>\d+)(?:-python-(?P<python>\d+\.\d+))?$")
"""``<Airflow major.minor>-<Runtime patch>[-python-<X.Y>]``, e.g. ``3.3-2-python-3.11``."""
CONNECTION_IDS = {"atlas_warehouse", "atlas_s3", "atlas_pseudonym_key"}
_DEFAULTED_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+):?-(?P<default>[^}]*)\}")
_INTERPOLATION = re.compile(r"(?<!\$)\$\{(?P<name>[A-Za-z0-9_]+)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}")
"""Any compose ``${NAME}``, ``${NAME:-default}``, ``${NAME:?message}``… (``$${`` is a literal)."""
_REQUIRED_VAR = re.compile(r"\$\{(?P<name>[A-Z0-9_]+):\?(?P<message>[^}]+)\}")
"""``${NAME:?message}``: compose refuses to start while NAME is unset or empty."""
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY\b|MINIO_ROOT_USER")
"""Names of variables that hold a key, a password or a credential's user part."""
PIPELINE_SERVICES = (
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
"""The long-running Airflow services: every task reaches the warehouse from one of them."""
MIGRATION_SERVICE = "airflow-init"
"""The one-shot job that applies sql/ as the warehouse's owner."""
_SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b"),
    "40-character key (AWS secret style)": re.compile(r"(?<![\w/+=.-])[A-Za-z0-9/+]{40}(?![\w/+=.-])"),
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "Slack webhook": re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
    "Fernet key": re.compile(r"(?<![\w-])[A-Za-z0-9_-]{43}=(?![\w=])"),
    "JWT": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}"),
    "long hex string": re.compile(r"\b[0-9a-fA-F]{32,}\b"),
}


def _dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append((keyword.upper(), " ".join(args.split())))
        pending = ""
    return instructions


def _instructions(keyword: str) -> list[str]:
    """Arguments of every instruction ``keyword`` in the Dockerfile."""
    return [args for name, args in _dockerfile() if name == keyword]


def _dockerfile_env() -> dict[str, str]:
    """Variables the Dockerfile's ENV instructions set."""
    env: dict[str, str] = {}
    for args in _instructions("ENV"):
        for item in shlex.split(args):
            key, _, value = item.partition("=")
            env[key] = value
    return env


def _requirements(path: Path) -> dict[str, str]:
    """``{normalised name: version}`` of the ``name==version`` lines of a requirements file."""
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*==\s*([^\s;]+)(\s*;.*)?", line)
        assert match, f"{path.name}: {line!r} is not pinned with =="
        pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(3)
    return pins


def _compose() -> dict:
    """docker-compose.yaml, parsed."""
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def _services() -> dict[str, dict]:
    return _compose()["services"]


def _with_defaults(value: str) -> str:
    """A compose value with every ``${NAME:-default}`` replaced by its default."""
    return _DEFAULTED_VAR.sub(lambda m: m.group("default"), value)


def _interpolated(value: str) -> str:
    """A compose value as compose would pass it: defaults applied, a required NAME as ``<name>``."""
    return _REQUIRED_VAR.sub(lambda m: m.group("name").lower(), _with_defaults(value))


def _airflow_env(service: str = "airflow-api-server") -> dict[str, str]:
    """Environment of an Airflow service (by default the api-server's)."""
    return {k: str(v) for k, v in _services()[service]["environment"].items()}


def _postgres_init() -> str:
    """The postgres service's init script (``configs.postgres-init``), ``$$`` unescaped."""
    return _compose()["configs"]["postgres-init"]["content"].replace("$$", "$")


def _init_sql() -> list[str]:
    """The SQL statements of the init script's psql here-document, comments dropped."""
    body = _postgres_init().split("<<'SQL'\n", 1)[1].rsplit("\nSQL", 1)[0]
    text = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--"))
    return [" ".join(statement.split()) for statement in text.split(";") if statement.strip()]


def _created_roles() -> dict[str, str]:
    """``{role: options}`` of every ``CREATE ROLE`` of the init script (options upper-cased)."""
    roles = {}
    for statement in _init_sql():
        match = re.fullmatch(r"CREATE ROLE (\w+)\s*(.*)", statement, flags=re.IGNORECASE)
        if match:
            roles[match.group(1)] = match.group(2).upper()
    return roles


def _warehouse_login(service: str) -> str:
    """The login an Airflow service's ``atlas_warehouse`` connection uses."""
    return str(urlsplit(_interpolated(_airflow_env(service)["AIRFLOW_CONN_ATLAS_WAREHOUSE"])).username)


def _command(service: dict) -> str:
    """A service's entrypoint and command as one string."""
    parts = []
    for key in ("entrypoint", "command"):
        value = service.get(key) or []
        parts.append(value if isinstance(value, str) else " ".join(map(str, value)))
    return " ".join(parts)


def test_base_image_is_astro_runtime_bundling_the_pinned_airflow():
    """FROM is an Astro Runtime 3.3-N image and requirements.txt pins apache-airflow==3.3.2."""
    (image,) = _instructions("FROM")
    repository, _, tag = image.partition(":")
    match = RUNTIME_TAG.match(tag)
    pinned = _requirements(ROOT / "requirements.txt")["apache-airflow"]
    assert repository in RUNTIME_REPOSITORIES
    assert match, f"{tag!r} is not an Astro Runtime 3 tag"
    assert pinned == AIRFLOW_VERSION
    assert match["airflow"] == ".".join(pinned.split(".")[:2])


def test_base_image_python_matches_the_lock_files():
    """The image's Python is the one pyproject.toml and the lock files are resolved for."""
    (image,) = _instructions("FROM")
    python = RUNTIME_TAG.match(image.partition(":")[2])["python"]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python is not None, "use the -python-X.Y variant the locks are resolved for"
    assert f">={python}" in requires
    for lock in sorted((ROOT / "requirements").glob("*.lock")):
        assert f"-p {python} " in lock.read_text().split("\n", 3)[1], lock.name


@pytest.mark.parametrize(
    ("venv", "lock"),
    [pytest.param("/usr/local/airflow/.venv-soda", "requirements/soda.lock", id="soda")],
)
def test_side_venvs_are_built_from_the_lock_files(venv, lock):
    """Each side venv is created and installed from its lock file, which exists."""
    runs = [run for run in _instructions("RUN") if f"python -m venv {venv}" in run]
    assert runs, f"no RUN creates {venv}"
    assert f"{venv}/bin/pip install --no-cache-dir -r {lock}" in runs[0]
    assert (ROOT / lock).is_file()


def test_airflow_requirements_are_installed_with_the_lock_as_constraints():
    """requirements.txt is installed constrained by requirements/airflow.lock."""
    runs = " ".join(_instructions("RUN"))
    assert "pip install --no-cache-dir -r requirements.txt -c requirements/airflow.lock" in runs
    assert (ROOT / "requirements" / "airflow.lock").is_file()


def test_every_lock_file_the_dockerfile_names_exists():
    """A lock file referenced by the Dockerfile is one the repository has."""
    named = set(re.findall(r"requirements/[\w.-]+\.lock", " ".join(_instructions("RUN"))))
    assert named == {"requirements/airflow.lock", "requirements/soda.lock"}
    assert all((ROOT / path).is_file() for path in named)


def test_image_environment_points_into_the_side_venvs_and_disables_telemetry():
    """The image sets the Soda executable and turns Cosmos telemetry off; dbt is Airflow's own."""
    env = _dockerfile_env()
    assert "ATLAS_DBT_EXECUTABLE" not in env
    assert env["ATLAS_SODA_EXECUTABLE"] == "/usr/local/airflow/.venv-soda/bin/soda"
    assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"


def test_image_builds_the_dbt_manifest():
    """The image runs ``dbt parse`` on include/atlas_dbt with the dbt installed with Airflow."""
    parse = [run for run in _instructions("RUN") if " parse " in f"{run} "]
    assert len(parse) == 1
    assert "cd include/atlas_dbt" in parse[0]
    assert "&& dbt parse --profiles-dir . --target-path target" in parse[0]


def _image(service: dict) -> str:
    return _with_defaults(str(service.get("image", "")))


def _builds_atlas_image(service: dict) -> bool:
    build = service.get("build")
    context = build if isinstance(build, str) else (build or {}).get("context")
    return context in (".", "./")


@pytest.mark.parametrize(
    ("what", "matches"),
    [
        pytest.param("PostgreSQL 15", lambda s: _image(s).startswith("postgres:15"), id="postgres"),
        pytest.param("MinIO", lambda s: "minio/minio" in _image(s), id="minio"),
        pytest.param(
            "job creating the archive bucket",
            lambda s: "minio/mc" in _image(s) and "atlas-archive" in _command(s),
            id="bucket-job",
        ),
        pytest.param("Marquez API", lambda s: _image(s).startswith("marquezproject/marquez:"), id="marquez"),
        pytest.param(
            "Marquez web",
            lambda s: _image(s).startswith("marquezproject/marquez-web:"),
            id="marquez-web",
        ),
        pytest.param(
            "Marquez database",
            lambda s: _image(s).startswith("postgres:")
            and s.get("environment", {}).get("POSTGRES_DB") == "marquez",
            id="marquez-db",
        ),
        pytest.param("Redis", lambda s: _image(s).startswith("redis:"), id="redis"),
        *(
            pytest.param(
                f"Airflow {part}",
                lambda s, part=part: _builds_atlas_image(s) and f"airflow {part}" in _command(s),
                id=f"airflow-{part.replace(' ', '-')}",
            )
            for part in ("api-server", "scheduler", "dag-processor", "triggerer", "celery worker")
        ),
    ],
)
def test_compose_runs_every_service_atlas_needs(what, matches):
    """docker-compose.yaml has the service (and image) Atlas needs."""
    assert any(matches(service) for service in _services().values()), f"no {what} service"


def test_compose_airflow_runs_celery_and_reports_lineage_to_marquez():
    """Airflow services use CeleryExecutor on Redis and OpenLineage's http transport to Marquez."""
    env = _airflow_env()
    transport = json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert urlsplit(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    assert transport["type"] == "http"
    assert urlsplit(transport["url"]).hostname == "marquez"
    assert env["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] == "False"


def test_compose_worker_count_is_one_setting():
    """``ATLAS_CELERY_WORKERS`` (default 2) is the number of Celery workers compose starts."""
    replicas = str(_services()["airflow-worker"]["deploy"]["replicas"])
    assert replicas == "${ATLAS_CELERY_WORKERS:-2}"
    assert _with_defaults(replicas) == "2"
    assert "ATLAS_CELERY_WORKERS" in (ROOT / "README.md").read_text()


def test_compose_connections_point_at_the_compose_services():
    """atlas_warehouse reaches the compose PostgreSQL and atlas_s3 the compose MinIO."""
    env = _airflow_env()
    warehouse = urlsplit(_interpolated(env["AIRFLOW_CONN_ATLAS_WAREHOUSE"]))
    s3 = json.loads(_interpolated(env["AIRFLOW_CONN_ATLAS_S3"]))
    assert (warehouse.scheme, warehouse.hostname, warehouse.path) == ("postgresql", "postgres", "/atlas")
    assert s3["conn_type"] == "aws"
    assert urlsplit(s3["extra"]["endpoint_url"]).hostname == "minio"


def test_connection_ids_are_the_agreed_ones():
    """Compose and airflow_settings.yaml define exactly atlas_warehouse, atlas_s3 and atlas_pseudonym_key."""
    from atlas.constants import PSEUDONYM_KEY_CONN_ID, S3_CONN_ID, WAREHOUSE_CONN_ID

    compose_ids = {
        key.removeprefix("AIRFLOW_CONN_").lower()
        for service in _services().values()
        for key in (service.get("environment") or {})
        if key.startswith("AIRFLOW_CONN_")
    }
    assert {WAREHOUSE_CONN_ID, S3_CONN_ID, PSEUDONYM_KEY_CONN_ID} == CONNECTION_IDS
    assert compose_ids == CONNECTION_IDS


def test_airflow_settings_define_every_connection_atlas_and_the_bundled_sources_name():
    """``astro dev start`` finds each connection the code, the bundled sources and the alert routes
    name (the warehouse, S3, the sources' conn_id, the default SMTP route and the README's routes),
    and none of them carries a password."""
    from atlas.config.alerts import AlertRoutes
    from atlas.config.loader import load_source

    settings = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())["airflow"]
    connections = {conn["conn_id"]: conn for conn in settings["connections"]}
    configs = [load_source(path) for path in sorted((ROOT / "include" / "sources").glob("*.yaml"))]
    sources = {getattr(c.connector, "conn_id", None) for c in configs} - {None}
    assert sources  # the sources that read through a connection
    readme = (ROOT / "README.md").read_text()
    routes = set(re.findall(r"(?:slack_webhook|pagerduty)_conn_id: (\w+)", readme))
    assert routes  # the README's example routes
    expected = CONNECTION_IDS | sources | routes | {AlertRoutes().smtp_conn}
    assert set(connections) == expected
    assert all("conn_password" not in conn for conn in connections.values())


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Dockerfile", id="dockerfile"),
        pytest.param("docker-compose.yaml", id="compose"),
        pytest.param("airflow_settings.yaml", id="airflow-settings"),
        pytest.param(".astro/config.yaml", id="astro-config"),
    ],
)
def test_no_value_looks_like_a_real_secret(name):
    """No line of the deployment files matches a known credential pattern."""
    text = (ROOT / name).read_text()
    found = [
        f"{kind}: {match.group(0)[:12]}…"
        for kind, pattern in _SECRET_PATTERNS.items()
        for match in pattern.finditer(text)
    ]
    assert not found, f"{name} holds what looks like a secret: {found}"


def test_compose_requires_every_secret_with_no_default():
    """Every key, password and credential variable is ``${VAR:?message}``: unset, compose refuses to start."""
    text = json.dumps(_compose())  # every value, no comment
    defaulted = [
        match.group(0)
        for match in _INTERPOLATION.finditer(text)
        if _SECRET_NAME.search(match["name"]) and (match["op"] != ":?" or not match["arg"].strip())
    ]
    env = _airflow_env()
    assert not defaulted, f"give these no default, use ${{VAR:?message}}: {defaulted}"
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY"):
        assert _REQUIRED_VAR.fullmatch(env[key]), key
        assert "make secrets" in _REQUIRED_VAR.fullmatch(env[key])["message"], key


def test_make_secrets_writes_every_variable_compose_requires():
    """``python -m atlas_dev.secrets`` generates exactly the variables the compose file requires."""
    from atlas_dev.secrets import NAMES

    required = {m["name"] for m in _REQUIRED_VAR.finditer(json.dumps(_compose()))}
    assert required == set(NAMES)
    assert len(NAMES) == len(set(NAMES))


def test_compose_holds_no_literal_password():
    """No password, key or credential in compose is a literal: each is a required variable."""
    required = re.compile(r"required\.[A-Z0-9_]+")
    literal = []
    for service_name, service in _services().items():
        for key, value in (service.get("environment") or {}).items():
            where = f"{service_name}.{key}"
            # each ${NAME:?message} as one URL- and JSON-safe token, so what is left is literal
            marked = _REQUIRED_VAR.sub(lambda m: f"required.{m['name']}", str(value))
            if _SECRET_NAME.search(key) and not required.fullmatch(marked):
                literal.append(where)
            for url in re.findall(r"[a-z0-9+]+://[^\s\"']+", marked):
                password = urlsplit(url).password
                if password is not None and not required.fullmatch(unquote(password)):
                    literal.append(f"{where}: password for {urlsplit(url).hostname}")
            if key.startswith("AIRFLOW_CONN_") and marked.lstrip().startswith("{"):
                connection = json.loads(marked)
                for field in ("login", "password"):
                    if field in connection and not required.fullmatch(connection[field]):
                        literal.append(f"{where}: {field}")
    assert not literal, f"read these from .env with ${{VAR:?message}}: {literal}"


def test_postgres_init_takes_every_password_from_the_environment():
    """The init script binds passwords as psql variables from required env vars, never as literals."""
    script = _postgres_init()
    bound = dict(re.findall(r"-v (\w+)=\"\$(\w+)\"", script))
    used = set(re.findall(r"PASSWORD :'(\w+)'", script))
    postgres_env = _services()["postgres"]["environment"]
    assert not re.search(r"PASSWORD\s+(?!:')", script, flags=re.IGNORECASE), (
        "a literal PASSWORD in the init script"
    )
    assert used
    assert used <= set(bound)
    for variable in (bound[name] for name in used):
        assert _REQUIRED_VAR.fullmatch(str(postgres_env[variable])), variable
    assert _services()["postgres"]["configs"][0]["target"].endswith(".sh")


def test_pipeline_login_is_a_member_of_atlas_write_and_nothing_more():
    """atlas_warehouse logs in as a role created LOGIN IN ROLE atlas_write: no CREATEROLE, SUPERUSER or ownership."""
    login = _warehouse_login("airflow-scheduler")
    roles = _created_roles()
    statements = _init_sql()
    options = roles[login]
    assert {_warehouse_login(service) for service in PIPELINE_SERVICES} == {login}
    assert re.search(r"\bLOGIN\b", options)
    assert re.search(r"\bIN ROLE ([\w, ]+)", options).group(1).replace(" ", "").lower() == "atlas_write"
    for power in ("SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS", "ADMIN"):
        assert not re.search(rf"\b{power}\b", options), power
    owned = [s for s in statements if re.search(rf"\bOWNER (TO )?{login}\b", s, flags=re.IGNORECASE)]
    granted = [s for s in statements if re.fullmatch(rf"GRANT .* TO {login}\b.*", s, flags=re.IGNORECASE)]
    assert not owned, owned
    assert not granted, granted
    assert f"ALTER ROLE {login} SET role = 'atlas_write'" in statements


def test_migrations_run_as_the_database_owner_not_the_pipeline():
    """airflow-init migrates as the owner of database atlas; only it and postgres know that password."""
    owner = _warehouse_login(MIGRATION_SERVICE)
    options = _created_roles()[owner]
    assert owner != _warehouse_login("airflow-scheduler")
    assert f"CREATE DATABASE atlas OWNER {owner}" in _init_sql()
    assert not re.search(r"\b(SUPERUSER|CREATEROLE)\b", options)
    password = _REQUIRED_VAR.search(_airflow_env(MIGRATION_SERVICE)["AIRFLOW_CONN_ATLAS_WAREHOUSE"])["name"]
    knowing = {name for name, service in _services().items() if password in json.dumps(service)}
    assert knowing == {MIGRATION_SERVICE, "postgres"}


def test_warehouse_group_roles_exist_before_the_logins_join_them():
    """The init script creates atlas_read/write/admin NOLOGIN before any login is created IN ROLE them."""
    order = [statement.split()[2] for statement in _init_sql() if statement.upper().startswith("CREATE ROLE")]
    roles = _created_roles()
    for group in ("atlas_read", "atlas_write", "atlas_admin"):
        assert re.fullmatch(r"NOLOGIN", roles[group]), group
    for login, options in roles.items():
        joined = re.search(r"\bIN ROLE ([\w, ]+)", options)
        for group in joined.group(1).replace(" ", "").lower().split(",") if joined else []:
            assert order.index(group) < order.index(login), (login, group)


def test_env_file_stays_out_of_git_and_the_image():
    """``.env`` (and the temporary files beside it) are ignored by git and by the Docker build."""
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", ".env", ".env.tmp"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    tracked = subprocess.run(
        ["git", "ls-files", "--", ".env"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert ignored.stdout.split() == [".env", ".env.tmp"]
    assert tracked.stdout == ""
    assert {".env", ".env.*"} <= set((ROOT / ".dockerignore").read_text().split())


def _run_secrets(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "plugins")}
    return subprocess.run(
        [sys.executable, "-m", "atlas_dev.secrets", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _read_env(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_make_secrets_writes_a_private_env_file_and_never_overwrites_it(tmp_path):
    """``python -m atlas_dev.secrets`` writes a 0600 .env: a valid Fernet key, distinct random values; kept unless --force."""
    from cryptography.fernet import Fernet

    from atlas_dev.secrets import NAMES

    env_file = tmp_path / ".env"
    written = _run_secrets("--path", str(env_file))
    values = _read_env(env_file)
    secrets = {name: value for name, value in values.items() if name != "MINIO_ROOT_USER"}
    token = Fernet(values["AIRFLOW_FERNET_KEY"].encode()).encrypt(b"atlas")
    assert written.returncode == 0, written.stderr
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert list(values) == list(NAMES)
    assert Fernet(values["AIRFLOW_FERNET_KEY"].encode()).decrypt(token) == b"atlas"
    assert len(values["AIRFLOW_JWT_SECRET"]) >= 64
    assert len(set(secrets.values())) == len(secrets), "two variables got the same value"
    for name, value in secrets.items():
        if name.endswith("_PASSWORD"):
            assert re.fullmatch(r"[A-Za-z0-9]{32,}", value), name

    refused = _run_secrets("--path", str(env_file))
    assert refused.returncode != 0
    assert "FORCE=1" in refused.stderr
    assert _read_env(env_file) == values

    replaced = _run_secrets("--path", str(env_file), "--force")
    renewed = _read_env(env_file)
    assert replaced.returncode == 0, replaced.stderr
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert list(renewed) == list(NAMES)
    assert all(renewed[name] != values[name] for name in secrets)
    assert sorted(path.name for path in tmp_path.iterdir()) == [".env"]


@pytest.mark.parametrize(
    ("force", "expected"),
    [
        pytest.param("", "-m atlas_dev.secrets", id="keeps"),
        pytest.param("1", "-m atlas_dev.secrets --force", id="force"),
    ],
)
def test_make_secrets_target_runs_the_generator(force, expected):
    """``make secrets`` runs ``python -m atlas_dev.secrets``, with ``--force`` only for FORCE=1."""
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "secrets", f"FORCE={force}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert dry_run.stdout.rstrip().endswith(expected)


def test_airflow_settings_hold_no_password_and_use_the_pipeline_login():
    """airflow_settings.yaml sets no password and names the compose pipeline login for atlas_warehouse."""
    settings = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())
    connections = {conn["conn_id"]: conn for conn in settings["airflow"]["connections"]}
    assert not [conn_id for conn_id, conn in connections.items() if "conn_password" in conn]
    assert connections["atlas_warehouse"]["conn_login"] == _warehouse_login("airflow-scheduler")


def test_requirements_are_pinned_and_locked_at_the_same_versions():
    """Every requirements.txt line is ``==``-pinned and the lock has it at that version."""
    direct = _requirements(ROOT / "requirements.txt")
    locked = _requirements(ROOT / "requirements" / "airflow.lock")
    assert direct
    mismatched = {
        name: (version, locked.get(name)) for name, version in direct.items() if locked.get(name) != version
    }
    assert not mismatched


def test_astro_project_layout_is_complete():
    """The files the Astro CLI expects exist, and local state stays out of the image."""
    config = yaml.safe_load((ROOT / ".astro" / "config.yaml").read_text())
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert config["project"]["name"] == "atlas"
    assert (ROOT / "packages.txt").is_file()
    assert {".venv", ".venv-soda", ".env", "airflow_settings.yaml", ".git"} <= ignored


def test_airflow_plugin_loader_imports_nothing_that_shadows_a_module():
    """Airflow imports plugins/**/*.py by file stem: none may shadow stdlib or repeat a stem.

    Airflow's plugin manager loads every ``.py`` under the plugins folder that
    ``plugins/.airflowignore`` does not exclude, as a top-level module named after the file, in
    every Airflow process: ``atlas/connectors/http.py`` would replace the standard ``http``
    module, a ``__main__.py`` would run its ``main()``. Exclude the ``atlas`` package there.
    """
    from airflow.sdk._shared.module_loading import find_path_from_directory

    plugins = ROOT / "plugins"
    stems: dict[str, list[str]] = {}
    for path in map(Path, find_path_from_directory(str(plugins), ".airflowignore", "glob")):
        if path.suffix == ".py":
            stems.setdefault(path.stem, []).append(str(path.relative_to(plugins)))
    clashes = {
        stem: paths
        for stem, paths in stems.items()
        if len(paths) > 1 or stem in sys.stdlib_module_names or stem.startswith("__")
    }
    assert not clashes, f"add these to plugins/.airflowignore: {clashes}"
