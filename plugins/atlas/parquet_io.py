"""A PostgreSQL table to a Parquet file and back, streamed with bounded memory.

Export: a server-side (named, binary) cursor fetches :data:`FETCH_ROWS` rows at a time; each
batch becomes an Arrow record batch, batches are buffered up to :data:`ROW_GROUP_ROWS` rows (or
:data:`ROW_GROUP_BYTES`) and written as one row group with ``pyarrow.parquet.ParquetWriter``. At
most one row group is in memory, whatever the table's size.

Load: ``ParquetFile.iter_batches`` reads the file a batch at a time; each batch is rendered as CSV
by Arrow's own writer and streamed into ``COPY … FROM STDIN (FORMAT csv)``, so PostgreSQL parses
every value with its own input functions (the same ones a restore relies on).

The Parquet types are the ones DuckDB, pandas and Spark read without Atlas (:func:`arrow_type`):
integers, floats, booleans, dates and timestamps natively (``timestamptz`` as UTC microseconds);
``numeric`` as its exact decimal text (an unconstrained ``numeric`` has no fixed scale, and
``decimal128`` would round or refuse it); ``jsonb``/``json`` as JSON text; every other type
(``uuid``, ``text``, arrays, ``bytea`` …) as PostgreSQL's text form. The PostgreSQL type of every
column is kept in the file's schema metadata (``atlas.pg_types``).

No library does this round trip here: the ADBC PostgreSQL driver (which streams Arrow from COPY)
is not installed, and pandas/pyarrow have no PostgreSQL reader; the code below only glues
psycopg's cursor, Arrow arrays and Arrow's CSV writer together.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from psycopg import sql

from atlas.sql import load_sql

log = logging.getLogger(__name__)

FETCH_ROWS = 20_000
"""Rows per fetch from the server-side cursor (and per batch read back from Parquet)."""
ROW_GROUP_ROWS = 250_000
"""Rows per Parquet row group: large enough for readers' column scans, small enough for memory."""
ROW_GROUP_BYTES = 64 * 1024 * 1024
"""A row group is written early once its buffered Arrow data passes this size (wide rows)."""
PG_TYPES_KEY = b"atlas.pg_types"
SOURCE_KEY = b"atlas.source"

_NATIVE: dict[str, pa.DataType] = {
    "int2": pa.int16(),
    "int4": pa.int32(),
    "int8": pa.int64(),
    "float4": pa.float32(),
    "float8": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamptz": pa.timestamp("us", tz="UTC"),
    "timestamp": pa.timestamp("us"),
}


@dataclass(frozen=True)
class PgColumn:
    """A column of the exported table: its name, ``format_type()`` and ``pg_type.typname``."""

    name: str
    type: str
    typname: str

    @property
    def native(self) -> bool:
        """Whether the value travels as itself (else as its text form)."""
        return self.typname in _NATIVE


def arrow_type(column: PgColumn) -> pa.DataType:
    """The Arrow (and so Parquet) type of a PostgreSQL column; text for every non-native type."""
    return _NATIVE.get(column.typname, pa.string())


def table_columns(conn: psycopg.Connection[Any], table: str) -> list[PgColumn]:
    """The columns of ``schema.table`` in order (dropped ones left out)."""
    rows = conn.execute(load_sql("archive", "table_columns"), {"table": table}).fetchall()
    if not rows:
        raise ValueError(f"{table} has no columns, or does not exist")
    return [PgColumn(*row) for row in rows]


def _select(table: str, columns: Sequence[PgColumn]) -> sql.Composed:
    schema, name = table.split(".", 1)
    items = [
        sql.Identifier(c.name) if c.native else sql.SQL("{}::text").format(sql.Identifier(c.name))
        for c in columns
    ]
    return sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(items), sql.Identifier(schema, name))


def arrow_schema(table: str, columns: Sequence[PgColumn]) -> pa.Schema:
    """The file's schema, with the source table and its PostgreSQL types as metadata."""
    metadata = {
        SOURCE_KEY: table.encode(),
        PG_TYPES_KEY: json.dumps([{"name": c.name, "type": c.type} for c in columns]).encode(),
    }
    return pa.schema([pa.field(c.name, arrow_type(c)) for c in columns], metadata=metadata)


def export_parquet(conn: psycopg.Connection[Any], table: str, path: Path) -> int:
    """Write every row of ``table`` to the Parquet file ``path``; return the row count.

    Runs in the caller's transaction (a named cursor needs one): the caller decides what the
    rows are consistent with (a lock, a snapshot).
    """
    columns = table_columns(conn, table)
    schema = arrow_schema(table, columns)
    total = 0
    pending: list[pa.RecordBatch] = []
    pending_rows = pending_bytes = 0
    with pq.ParquetWriter(path, schema, compression="snappy") as writer:

        def flush() -> None:
            nonlocal pending, pending_rows, pending_bytes
            if pending:
                writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=pending_rows)
            pending, pending_rows, pending_bytes = [], 0, 0

        with conn.cursor(name="atlas_archive_export", binary=True) as cur:
            cur.itersize = FETCH_ROWS
            cur.execute(_select(table, columns))
            while rows := cur.fetchmany(FETCH_ROWS):
                values = list(zip(*rows, strict=True))
                batch = pa.RecordBatch.from_arrays(
                    [pa.array(v, type=f.type) for v, f in zip(values, schema, strict=True)], schema=schema
                )
                pending.append(batch)
                pending_rows += batch.num_rows
                pending_bytes += batch.nbytes
                total += batch.num_rows
                if pending_rows >= ROW_GROUP_ROWS or pending_bytes >= ROW_GROUP_BYTES:
                    flush()
        flush()
    log.info("exported %s rows of %s to %s (%s bytes)", total, table, path, path.stat().st_size)
    return total


def file_columns(path: Path) -> list[dict[str, str]]:
    """The ``[{"name", "type"}]`` of the PostgreSQL columns a Parquet file was exported from."""
    metadata = pq.read_schema(path).metadata or {}
    if PG_TYPES_KEY not in metadata:
        raise ValueError(f"{path} was not written by Atlas: no {PG_TYPES_KEY.decode()} in its metadata")
    columns: list[dict[str, str]] = json.loads(metadata[PG_TYPES_KEY])
    return columns


def load_parquet(conn: psycopg.Connection[Any], path: Path, table: str) -> int:
    """COPY every row of the Parquet file ``path`` into ``table`` (same column names); return the count."""
    parquet = pq.ParquetFile(path)
    names = parquet.schema_arrow.names
    schema, name = table.split(".", 1)
    copy = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
        sql.Identifier(schema, name), sql.SQL(", ").join(map(sql.Identifier, names))
    )
    options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
    total = 0
    # timestamptz values are written with their "Z" and timestamps as wall-clock text: the
    # session's TimeZone shifts neither.
    with conn.cursor() as cur, cur.copy(copy) as copy_in:
        for batch in parquet.iter_batches(batch_size=FETCH_ROWS):
            # Arrow's CSV writer quotes every string (an empty one as "") and leaves a NULL
            # unquoted and empty: exactly what COPY's CSV format reads as '' and NULL.
            buffer = io.BytesIO()
            pa_csv.write_csv(batch, buffer, options)
            copy_in.write(buffer.getbuffer())
            total += batch.num_rows
    return total
