"""Advisory locks of the pipeline, taken with a bounded wait and a clear error naming the holder.

Landing a batch and promoting into a chart table take a transaction-level advisory lock (the
batch, the table), so concurrent runs of one interval serialise instead of colliding. The wait is
bounded by ``lock_timeout`` (default :data:`DEFAULT_LOCK_TIMEOUT`, ``ATLAS_LOCK_TIMEOUT``
overrides it): past it the task fails with the session that holds the lock (pid, user,
application, since when, its query), instead of hanging until the task's execution timeout.
Only the pipeline and admin roles may take advisory locks at all (``sql/V016``).
"""

from __future__ import annotations

import os
from typing import Any

import psycopg

from atlas.exceptions import LockTimeoutError
from atlas.sql import load_sql

DEFAULT_LOCK_TIMEOUT = "10min"
"""Long enough for another run of the same batch to finish, short of a task's execution timeout."""
LOCK_TIMEOUT_ENV = "ATLAS_LOCK_TIMEOUT"


def lock_timeout() -> str:
    """``$ATLAS_LOCK_TIMEOUT`` (a PostgreSQL interval such as ``30s``) or the default."""
    return os.environ.get(LOCK_TIMEOUT_ENV) or DEFAULT_LOCK_TIMEOUT


def advisory_xact_lock(cur: psycopg.Cursor[Any], lock_name: str, timeout: str | None = None) -> None:
    """Take the advisory lock ``lock_name`` for the current transaction, or raise ``LockTimeoutError``."""
    timeout = timeout or lock_timeout()
    params = {"lock_name": lock_name, "lock_timeout": timeout}
    conn = cur.connection
    if conn.autocommit:
        raise ValueError("an advisory transaction lock needs a transaction: the connection is in autocommit")
    if conn.info.transaction_status is psycopg.pq.TransactionStatus.IDLE:
        cur.execute("SELECT 1")  # opens the transaction the lock is held for (psycopg begins it)
    try:
        with conn.transaction():  # a savepoint inside it: the transaction survives a timeout
            cur.execute(load_sql("pipeline", "advisory_lock"), params)
    except psycopg.errors.LockNotAvailable:
        cur.execute(load_sql("pipeline", "advisory_lock_holder"), {"lock_name": lock_name})
        holders = [
            f"pid {pid} (user {user}, application {app or '-'}, transaction since {since}, query {query!r})"
            for pid, user, app, since, query in cur.fetchall()
        ]
        raise LockTimeoutError(
            f"the lock {lock_name!r} was not granted within lock_timeout {timeout}: held by "
            + ("; ".join(holders) or "a session that has released it since")
            + f". Wait for it to finish, or end it (SELECT pg_terminate_backend(<pid>)); {LOCK_TIMEOUT_ENV} sets the wait"
        ) from None
