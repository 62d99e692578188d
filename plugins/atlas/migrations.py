"""Warehouse migrations: ``sql/V*.sql`` applied in order by yoyo-migrations, guarded by a ledger.

yoyo-migrations orders the files, runs each in one transaction, holds a lock against concurrent
migrators (``yoyo_lock``) and records what it applied (``_yoyo_migration``). It identifies a
migration by the sha256 of its *id* (the file name) only, never of its content: an applied file
edited afterwards would go unnoticed, and a fresh database would then get a different schema from
every existing one. So Atlas keeps its own ledger, ``public.atlas_migration_ledger``, with the
sha256 of each applied file's bytes. :func:`migrate` compares every applied file with the ledger
before it applies anything and raises :class:`~atlas.exceptions.MigrationChecksumError` on a
difference; it writes a new file's ledger row in the same transaction as the file's DDL and
yoyo's own mark, so the three never disagree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import Conninfo
from yoyo import get_backend, read_migrations
from yoyo.exceptions import LockTimeout

from atlas.constants import MIGRATIONS_DIR, WAREHOUSE_CONN_ID
from atlas.exceptions import MigrationChecksumError, MigrationError

if TYPE_CHECKING:
    from yoyo.backends.base import DatabaseBackend
    from yoyo.migrations import Migration, MigrationList

log = logging.getLogger(__name__)

LEDGER_TABLE = "public.atlas_migration_ledger"
"""Content checksums of the applied migration files (yoyo records only their names)."""
LOCK_TIMEOUT_SECONDS = 300.0
"""How long :func:`migrate` waits for another migrator to finish before giving up."""

_CREATE_LEDGER = f"""
CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
    version text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
_COMMENT_LEDGER = (
    f"COMMENT ON TABLE {LEDGER_TABLE} IS 'sha256 of every applied sql/ migration file, checked by "
    "atlas.migrations.migrate before it applies anything: an applied migration must never change.'"
)
_SELECT_LEDGER = f"SELECT version, checksum, applied_at FROM {LEDGER_TABLE}"
_RECORD_LEDGER = (
    f"INSERT INTO {LEDGER_TABLE} (version, checksum) VALUES (:version, :checksum) "
    "ON CONFLICT (version) DO UPDATE SET checksum = excluded.checksum, applied_at = now()"
)
"""Upsert: a migration rolled back with yoyo and applied again gets its new checksum."""
_LEDGER_EXISTS = f"SELECT to_regclass('{LEDGER_TABLE}') IS NOT NULL"


class MigrationState(StrEnum):
    """Where a migration stands in a database, as :func:`status` reports it."""

    APPLIED = "applied"
    """Applied, and the file still has the recorded checksum."""
    PENDING = "pending"
    """Not applied yet: the next :func:`migrate` applies it."""
    CHANGED = "changed"
    """Applied, but the file changed since: :func:`migrate` refuses to run."""
    UNRECORDED = "unrecorded"
    """Applied by yoyo outside Atlas, no checksum yet: :func:`migrate` records the current one."""
    MISSING = "missing"
    """In the ledger, but the file is gone: :func:`migrate` refuses to run."""


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """One migration file (or ledger row) and its state in a database."""

    version: str
    """The file name without ``.sql``, e.g. ``V001__schemas_and_roles`` (yoyo's migration id)."""
    state: MigrationState
    checksum: str | None
    """sha256 of the file as it is now; ``None`` when the file is missing."""
    recorded_checksum: str | None
    """sha256 recorded in the ledger when the file was applied."""
    applied_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class _LedgerRow:
    checksum: str
    applied_at: dt.datetime


def file_checksum(path: Path) -> str:
    """sha256 hex digest of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def normalize_dsn(dsn: str) -> str:
    """A ``postgresql://`` URL for a ``postgres://`` or ``postgresql+psycopg://`` one."""
    scheme, sep, rest = dsn.partition("://")
    if sep and scheme.lower() in {"postgres", "postgresql", "postgresql+psycopg"}:
        return f"postgresql://{rest}"
    return dsn


def yoyo_url(dsn: str) -> str:
    """The ``postgresql+psycopg://`` URL yoyo needs (psycopg 3) for a libpq URL or key=value DSN.

    A Unix-socket host (a path) goes into the query string, where yoyo hands it to psycopg as is.
    """
    params = conninfo_to_dict(normalize_dsn(dsn))
    user = params.pop("user", None)
    password = params.pop("password", None)
    host = params.pop("host", None)
    port = params.pop("port", None)
    dbname = params.pop("dbname", None) or user or ""
    netloc = ""
    if user:
        netloc = quote(str(user), safe="")
        if password:
            netloc += ":" + quote(str(password), safe="")
        netloc += "@"
    if host and not str(host).startswith("/"):
        netloc += str(host)
        if port:
            netloc += f":{port}"
    else:
        params.update({k: v for k, v in (("host", host), ("port", port)) if v})
    query = urlencode({k: str(v) for k, v in params.items()})
    return urlunsplit(("postgresql+psycopg", netloc, "/" + quote(str(dbname)), query, ""))


def warehouse_dsn(conn_id: str = WAREHOUSE_CONN_ID) -> str:
    """The libpq URL of the Airflow connection ``atlas_warehouse`` (env var, secrets backend or DB).

    ``postgres://`` becomes ``postgresql://``, and extras libpq does not know (Airflow hook
    options such as ``cursor``) are dropped so that psycopg accepts the URL.
    """
    from airflow.sdk import BaseHook  # lazy: importing Airflow is slow and touches AIRFLOW_HOME

    return _libpq_params_only(normalize_dsn(BaseHook.get_connection(conn_id).get_uri()))


def _libpq_params_only(url: str) -> str:
    parts = urlsplit(url)
    known = {option.keyword.decode() for option in Conninfo.get_defaults()}
    query = parse_qsl(parts.query, keep_blank_values=True)
    dropped = sorted({key for key, _ in query if key not in known})
    if dropped:
        log.debug("Dropping connection extras libpq does not know: %s", dropped)
    kept = [(key, value) for key, value in query if key in known]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def migrate(
    dsn: str,
    migrations_dir: Path = MIGRATIONS_DIR,
    *,
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
) -> list[str]:
    """Apply the pending migrations of ``migrations_dir``; return their versions (``[]``: none).

    Raises :class:`MigrationChecksumError` when an applied file changed and
    :class:`MigrationError` when an applied file is missing, before applying anything.
    """
    migrations = _read(migrations_dir)
    with _backend(dsn) as backend, _locked(backend, lock_timeout):
        _ensure_ledger(backend)
        applied = set(backend.get_applied_migration_hashes())
        _verify(backend, migrations, applied, migrations_dir)
        pending = backend.to_apply(migrations)
        for migration in pending:
            _apply(backend, migration)
    versions = [migration.id for migration in pending]
    if versions:
        log.info("Applied %s migration(s) from %s: %s", len(versions), migrations_dir, versions)
    else:
        log.info("Warehouse schema is up to date (%s migrations)", len(migrations))
    return versions


def status(dsn: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[MigrationStatus]:
    """Every migration file and ledger row with its state, in applying order."""
    migrations = _read(migrations_dir)
    with _backend(dsn) as backend:
        applied = set(backend.get_applied_migration_hashes())
        ledger = _read_ledger(backend)
    report = [_status_of(migration, migration.hash in applied, ledger) for migration in migrations]
    on_disk = {migration.id for migration in migrations}
    report += [
        MigrationStatus(version, MigrationState.MISSING, None, row.checksum, row.applied_at)
        for version, row in sorted(ledger.items())
        if version not in on_disk
    ]
    return report


def _status_of(migration: Migration, is_applied: bool, ledger: dict[str, _LedgerRow]) -> MigrationStatus:
    current = file_checksum(Path(migration.path))
    row = ledger.get(migration.id)
    recorded, applied_at = (row.checksum, row.applied_at) if row else (None, None)
    if not is_applied:
        state = MigrationState.PENDING
    elif row is None:
        state = MigrationState.UNRECORDED
    elif row.checksum != current:
        state = MigrationState.CHANGED
    else:
        state = MigrationState.APPLIED
    return MigrationStatus(migration.id, state, current, recorded, applied_at)


def _read(migrations_dir: Path) -> MigrationList:
    if not migrations_dir.is_dir():
        raise MigrationError(
            f"{migrations_dir}: the migrations folder does not exist; "
            "pass the repository's sql/ folder (atlas.constants.MIGRATIONS_DIR)."
        )
    return read_migrations(str(migrations_dir))


@contextmanager
def _backend(dsn: str) -> Iterator[DatabaseBackend]:
    backend = get_backend(yoyo_url(dsn))
    try:
        yield backend
    finally:
        backend.connection.close()


@contextmanager
def _locked(backend: DatabaseBackend, timeout: float) -> Iterator[None]:
    """yoyo's migration lock (a row in ``yoyo_lock``), so concurrent migrators take turns."""
    try:
        with backend.lock(timeout=timeout):
            yield
    except LockTimeout as error:
        raise MigrationError(
            f"{error}. Another migrate has held the warehouse's migration lock for {timeout:.0f}s; "
            "wait for it, or if no migrate is running (a crashed one), run "
            "'DELETE FROM public.yoyo_lock' on the warehouse and retry."
        ) from error


def _ensure_ledger(backend: DatabaseBackend) -> None:
    with backend.transaction():
        backend.execute(_CREATE_LEDGER)
        backend.execute(_COMMENT_LEDGER)


def _read_ledger(backend: DatabaseBackend) -> dict[str, _LedgerRow]:
    if not backend.execute(_LEDGER_EXISTS).fetchone()[0]:
        return {}
    rows = backend.execute(_SELECT_LEDGER).fetchall()
    return {version: _LedgerRow(checksum, applied_at) for version, checksum, applied_at in rows}


def _verify(
    backend: DatabaseBackend, migrations: MigrationList, applied: set[str], migrations_dir: Path
) -> None:
    """Compare every applied file with the ledger; record files yoyo applied without Atlas."""
    ledger = _read_ledger(backend)
    unrecorded = []
    for migration in migrations:
        if migration.hash not in applied:
            continue
        path = Path(migration.path)
        current = file_checksum(path)
        row = ledger.get(migration.id)
        if row is None:
            unrecorded.append((migration.id, current))
        elif row.checksum != current:
            raise MigrationChecksumError(
                f"{path}: migration {migration.id} was applied with checksum {row.checksum} "
                f"but the file now has checksum {current}. An applied migration must never "
                f"change: restore the file as it was (e.g. git checkout -- sql/{path.name}) and "
                "put the change in a new migration file that sorts after the others."
            )
    missing = sorted(set(ledger) - {migration.id for migration in migrations})
    if missing:
        raise MigrationError(
            f"{', '.join(missing)}: applied to this database but missing from {migrations_dir}. "
            "Restore the file(s): applied migrations are never deleted or renamed."
        )
    _record_unrecorded(backend, unrecorded)


def _record_unrecorded(backend: DatabaseBackend, unrecorded: list[tuple[str, str]]) -> None:
    if not unrecorded:
        return
    log.warning(
        "Recording the current checksum of %s migration(s) applied without the Atlas ledger: %s",
        len(unrecorded),
        [version for version, _ in unrecorded],
    )
    with backend.transaction():
        for version, checksum in unrecorded:
            backend.execute(_RECORD_LEDGER, {"version": version, "checksum": checksum})


def _apply(backend: DatabaseBackend, migration: Migration) -> None:
    """Apply one migration; its DDL, yoyo's mark and the ledger row commit together.

    A file marked ``-- transactional: false`` (e.g. CREATE INDEX CONCURRENTLY) cannot share a
    transaction: yoyo runs it in autocommit, then the mark and ledger row commit together.
    """
    checksum = file_checksum(Path(migration.path))
    log.info("Applying migration %s (sha256 %s)", migration.id, checksum)
    migration.load()
    try:
        if migration.use_transactions:
            with backend.transaction():
                migration.process_steps(backend, "apply")
                _mark(backend, migration, checksum)
        else:
            migration.process_steps(backend, "apply")
            with backend.transaction():
                _mark(backend, migration, checksum)
    except backend.DatabaseError as error:
        outcome = (
            "was rolled back: nothing of it remains"
            if migration.use_transactions
            else "ran outside a transaction: check what it left behind"
        )
        raise MigrationError(
            f"{migration.path}: migration {migration.id} failed and {outcome}. "
            f"{type(error).__name__}: {error}. Fix the file (it is not applied) and migrate again."
        ) from error
    backend.log_migration(migration, "apply")


def _mark(backend: DatabaseBackend, migration: Migration, checksum: str) -> None:
    backend.mark_one(migration, log=False)
    backend.execute(_RECORD_LEDGER, {"version": migration.id, "checksum": checksum})
