"""PostgreSQL connector: a table or query, read by data interval of a watermark column.

The interval ``[start, end)`` bounds the watermark column (so a re-run or backfill of an interval
reads the same rows; no checkpoint of an earlier run moves the bounds); rows come ordered by the watermark
then the entity key, through a server-side (named) cursor fetching ``fetch_size`` rows at a
time, so memory stays flat. The session runs in UTC, so timestamps without time zone compare
and print as UTC.

The extract runs in a ``READ ONLY`` transaction (a query that writes fails, and cannot switch the
transaction back) with the connector's ``statement_timeout_seconds`` as ``statement_timeout``.
Neither stops a query from calling what the connection's role may call (``pg_read_file`` for a
superuser): that role should be read-only. A failure is a ``ConnectorError`` naming the entity.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg import sql

from atlas.batches import Interval
from atlas.connectors.base import DEFAULT_CHUNK_ROWS, Chunk
from atlas.connectors.fields import check_fields
from atlas.connectors.postgres.config import PostgresConnector, PostgresEntity
from atlas.exceptions import ConnectorError
from atlas.hooks import psycopg_connection
from atlas.jsonvalues import jsonable

log = logging.getLogger(__name__)

_PLAIN = (str, int, float, bool, type(None))


class PostgresSourceConnector:
    """Reads an entity's changed rows of a data interval (implements ``SourceConnector``)."""

    def __init__(self, config: PostgresConnector, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> None:
        self.config = config
        self.chunk_rows = chunk_rows

    def extract(self, entity: PostgresEntity, interval: Interval) -> Iterator[Chunk]:
        """Yield the rows whose watermark lies in the interval, ordered by watermark and key."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        query = select_query(entity)
        origin = entity.table or f"query:{entity.name}"
        try:
            conn = psycopg_connection(PostgresHook(postgres_conn_id=self.config.conn_id))
        except Exception as exc:
            raise ConnectorError(f"cannot connect to {self.config.conn_id}: {exc}") from exc
        try:
            self._begin_read_only(conn)
            with conn.cursor(name=f"atlas_{entity.name}") as cur:
                cur.itersize = self.config.fetch_size
                cur.execute(query, {"start": interval.start, "end": interval.end})
                names = [column.name for column in cur.description or ()]
                notes = check_fields(names, entity, origin)
                yield from self._chunks(cur, names, entity.watermark_column, origin, notes)
            conn.rollback()
        except psycopg.Error as exc:
            raise ConnectorError(self._failure(entity, origin, exc)) from exc
        finally:
            conn.close()

    def _begin_read_only(self, conn: psycopg.Connection[Any]) -> None:
        """Start the extract's transaction: READ ONLY, in UTC, with the statement timeout."""
        conn.autocommit = False
        conn.read_only = True  # psycopg opens every transaction with BEGIN READ ONLY
        conn.execute("SET TIME ZONE 'UTC'")
        timeout = f"{self.config.statement_timeout_seconds}s"
        # A query runs after this SELECT took the snapshot, so it can no longer make the
        # transaction read-write (set_config('transaction_read_only', 'off', ...) fails).
        row = conn.execute(
            "SELECT set_config('statement_timeout', %s, true), current_setting('transaction_read_only')",
            (timeout,),
        ).fetchone()
        if row is None or row[1] != "on":
            raise ConnectorError(f"{self.config.conn_id}: the extract's transaction is not read-only")

    def _failure(self, entity: PostgresEntity, origin: str, exc: psycopg.Error) -> str:
        """The message of a failed extract: the entity, the server's error, and what to do."""
        what = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        hint = ""
        if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction) or "data-modifying" in what:
            hint = "the query writes, and a source query may only read (the extract runs READ ONLY)"
        elif isinstance(exc, psycopg.errors.QueryCanceled) and "statement timeout" in what:
            hint = (
                f"a statement ran longer than statement_timeout_seconds "
                f"({self.config.statement_timeout_seconds} s): narrow the query, index "
                f"{entity.watermark_column!r} or raise the limit"
            )
        elif isinstance(exc, psycopg.errors.InsufficientPrivilege):
            hint = (
                f"the role of connection {self.config.conn_id!r} may not do this; a source's role "
                "should be read-only (pg_read_all_data, or SELECT grants only)"
            )
        message = f"{entity.name}: reading {origin} from {self.config.conn_id!r} failed: {what}"
        return f"{message}; {hint}" if hint else message

    def _chunks(
        self, cur: Any, names: list[str], watermark_column: str, origin: str, notes: list[str]
    ) -> Iterator[Chunk]:
        if watermark_column not in names:
            raise ConnectorError(f"{origin} has no column {watermark_column!r} (the watermark)")
        chunk = Chunk(notes=notes)
        position = 0
        for position, row in enumerate(cur, 1):
            values = [v if isinstance(v, _PLAIN) else jsonable(v) for v in row]
            chunk.records.append((dict(zip(names, values, strict=True)), f"{origin}#{position}"))
            if len(chunk.records) >= self.chunk_rows:
                yield chunk
                chunk = Chunk()
        if chunk.records or chunk.notes:
            yield chunk
        log.info("%s: %s row(s)", origin, position)


def select_query(entity: PostgresEntity) -> sql.Composed:
    """``SELECT * FROM <table or (query)> WHERE wm >= %(start)s AND wm < %(end)s ORDER BY wm, key``."""
    if entity.table:
        source: sql.Composable = sql.Identifier(*entity.table.split("."))
    else:
        source = sql.SQL("({}) AS src").format(sql.SQL(entity.query or ""))  # the YAML's own SELECT
    mark = sql.Identifier(entity.watermark_column)
    order = sql.SQL(", ").join(
        [mark, *(sql.Identifier(k) for k in entity.key_fields if k != entity.watermark_column)]
    )
    return sql.SQL(
        "SELECT * FROM {source} WHERE {mark} >= %(start)s AND {mark} < %(end)s ORDER BY {order}"
    ).format(source=source, mark=mark, order=order)
