"""Hooks: the warehouse (``WarehouseHook``), promotion to chart (``ChartHook``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg
    from airflow.providers.postgres.hooks.postgres import PostgresHook


def psycopg_connection(hook: PostgresHook) -> psycopg.Connection[Any]:
    """``hook.get_conn()`` as the psycopg 3 connection it is here.

    Atlas installs psycopg 3, so ``PostgresHook`` connects with it; the hook declares a type
    that also covers psycopg2, which has no ``execute``, ``transaction`` or COPY of its own.
    """
    import psycopg

    conn = hook.get_conn()
    if not isinstance(conn, psycopg.Connection):
        raise TypeError(f"{type(hook).__name__} returned {type(conn).__name__}, not a psycopg 3 connection")
    return conn
