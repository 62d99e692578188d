"""The archive's content checksum, computed the same way by PostgreSQL and from Arrow data.

``sha64:<sum>``: the exact sum, over the rows, of the first 8 bytes of SHA-256 of each row's
*canonical text* read as a signed big-endian 64-bit integer. Order-independent (a Parquet file
need not keep the table's physical order). The canonical text of a row is one piece per column in
table order, joined by ``,``:

* a column the export writes as text (every type without a native Arrow type, see
  :mod:`atlas.parquet_io`): ``<octet length>:<text>`` (``col::text``, settings pinned as for the
  export), a NULL ``:``, so no value can be mistaken for another whatever it holds;
* an integer column: its decimal value, a boolean 1 or 0, a NULL nothing;
* a float, date or timestamp: the hex of its binary send form (``encode(float8send(…), 'hex')`` …:
  a float's IEEE bits, a date's days and a timestamp's microseconds since 2000-01-01, big-endian),
  so no text rendering of floats or times has to agree between PostgreSQL and Arrow; a NULL
  nothing. Every NaN counts as PostgreSQL's own ``'NaN'`` (``7fc00000`` / ``7ff8000000000000``):
  a float column may hold NaNs of any sign and payload (a client sending binary floats keeps their
  bits; the export and the Parquet file keep them too), but PostgreSQL compares all NaNs equal and
  a restore, which loads text, gives its own NaN back, so the bits of a NaN are not content.

PostgreSQL computes the per-row hashes *inside the export query*, from the very values it renders
for the export (:func:`row_hash_sql`): the jsonb of a row is rendered once, not once for the
export and again for a checksum. The client only adds the 8-byte hashes up. A read-back computes
the canonical text of each row of the object from its Arrow values (:class:`RowChecksum`, with
Arrow's compute kernels) and hashes it; the two sums must be equal. A restore
recomputes the sum in PostgreSQL over the restored partition (:func:`checksum_query`).

Manifest rows written before this checksum carry ``h64x2:`` checksums (``archive.relation_checksum``,
sql/V019, V029), which a restore of them still uses (:func:`atlas.archive.table_checksum`).

Hand-written: no library computes one checksum on both sides; SHA-256 is the hash PostgreSQL has
built in (OpenSSL) that Python's ``hashlib`` computes at C speed too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from operator import methodcaller
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql

if TYPE_CHECKING:
    from atlas.parquet_io import PgColumn

ALGORITHM = "sha64"
"""The prefix of this module's checksums (``sha64:<sum>``) in ``archive.snapshots.checksum``."""

_SEND: dict[str, str] = {
    # the function that gives a value's binary form (what binary COPY, and so the ADBC driver, reads)
    "float4": "float4send",
    "float8": "float8send",
    "date": "date_send",
    "timestamp": "timestamp_send",
    "timestamptz": "timestamptz_send",
}
_AS_IS = {"int2", "int4", "int8"}
_FLOATS = {"float4", "float8"}
_CANONICAL_NAN: dict[type[np.signedinteger[Any]], int] = {np.int32: 0x7FC00000, np.int64: 0x7FF8000000000000}
"""The bits of the NaN PostgreSQL's ``float4in`` / ``float8in`` give ('NaN'::float4 / ::float8)."""
_EPOCH_2000_DAYS = 10_957
_EPOCH_2000_US = _EPOCH_2000_DAYS * 86_400 * 1_000_000


def _piece_sql(column: PgColumn, ref: sql.Composable) -> sql.Composable:
    """The arguments of ``concat()`` that render one column's piece; ``ref`` is the column as the
    export reads it (concat() renders a NULL as nothing)."""
    if column.typname in _AS_IS:
        return ref
    if column.typname == "bool":
        return sql.SQL("{}::int").format(ref)
    if column.typname in _FLOATS:
        # every NaN as the one NaN PostgreSQL's input gives (see the module's docstring)
        canonical = sql.SQL("CASE WHEN {} = 'NaN' THEN 'NaN'::{} ELSE {} END").format(
            ref, sql.SQL(column.typname), ref
        )
        return sql.SQL("encode({}({}), 'hex')").format(sql.SQL(_SEND[column.typname]), canonical)
    if column.typname in _SEND:
        return sql.SQL("encode({}({}), 'hex')").format(sql.SQL(_SEND[column.typname]), ref)
    return sql.SQL("octet_length({}::text), ':', {}::text").format(ref, ref)


def row_hash_sql(columns: Sequence[PgColumn], alias: str) -> sql.Composed:
    """The 8-byte hash (``bytea``) of a row whose columns are ``<alias>.<name>``: the first 8
    bytes of SHA-256 of the canonical text."""
    pieces = sql.SQL(", ',', ").join(_piece_sql(c, sql.Identifier(alias, c.name)) for c in columns)
    return sql.SQL("substring(sha256(convert_to(concat({}), 'UTF8')) FROM 1 FOR 8)").format(pieces)


def checksum_query(relation: str, columns: Sequence[PgColumn]) -> sql.Composed:
    """Row count and ``sha64:`` checksum of ``relation``, computed by PostgreSQL (run it with the
    export's text settings, ``include/sql/archive/text_settings.sql``)."""
    schema, name = relation.split(".", 1)
    hashed = row_hash_sql(columns, "r")
    return sql.SQL(
        "SELECT count(*), {} || ':' || coalesce(sum(('x' || encode(h, 'hex'))::bit(64)::int8), 0)::text"
        " FROM (SELECT {} AS h FROM {} AS r) AS rows"
    ).format(sql.Literal(ALGORITHM), hashed, sql.Identifier(schema, name))


def checksum_text(total: int) -> str:
    return f"{ALGORITHM}:{total}"


def sum_hashes(hashes: pa.Array) -> int:
    """The exact sum of 8-byte big-endian hashes (a ``binary`` column of the export)."""
    if len(hashes) == 0:
        return 0
    if hashes.null_count:
        raise ValueError("a row hash is NULL")
    offsets = np.frombuffer(hashes.buffers()[1], dtype=np.int32)[
        hashes.offset : hashes.offset + len(hashes) + 1
    ]
    if not np.all(np.diff(offsets) == 8):
        raise ValueError("a row hash is not 8 bytes")
    data = hashes.buffers()[2]
    assert data is not None
    return _exact_sum(np.frombuffer(data, dtype=">i8", count=len(hashes), offset=int(offsets[0])))


def _exact_sum(values: np.ndarray) -> int:
    """The sum of signed 64-bit values as a Python int (no overflow: in two 32-bit halves)."""
    v = values.astype(np.int64)
    return (int(np.sum(v >> 32)) << 32) + int(np.sum(v & 0xFFFFFFFF))


def _piece(array: pa.Array) -> pa.Array:
    """One column of a batch as its canonical pieces (see the module's docstring)."""
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        length = pc.cast(pc.binary_length(array), pa.string())
        return pc.fill_null(pc.binary_join_element_wise(length, array, ":"), ":")
    if pa.types.is_boolean(kind):
        return pc.fill_null(pc.cast(pc.cast(array, pa.int8()), pa.string()), "")
    if pa.types.is_integer(kind):
        return pc.fill_null(pc.cast(array, pa.string()), "")
    if pa.types.is_float32(kind):
        return _hex(array, _float_bits(array, np.int32), ">i4")
    if pa.types.is_float64(kind):
        return _hex(array, _float_bits(array, np.int64), ">i8")
    if pa.types.is_date32(kind):
        return _hex(array, _raw(array, np.int32) - np.int32(_EPOCH_2000_DAYS), ">i4")
    if pa.types.is_timestamp(kind) and kind.unit == "us":
        return _hex(array, _raw(array, np.int64) - np.int64(_EPOCH_2000_US), ">i8")
    raise TypeError(f"no canonical text of Arrow type {kind} (atlas.row_checksum)")


def _raw(array: pa.Array, dtype: type[np.signedinteger[Any]]) -> np.ndarray:
    """The fixed-width values of ``array`` as stored (a NULL's slot holds anything)."""
    data = array.buffers()[1]
    assert data is not None
    return np.frombuffer(data, dtype=dtype)[array.offset : array.offset + len(array)]


def _float_bits(array: pa.Array, dtype: type[np.signedinteger[Any]]) -> np.ndarray:
    """A float column's IEEE bits, every NaN (any sign, any payload) as PostgreSQL's one NaN."""
    bits = _raw(array, dtype)
    nan = np.isnan(bits.view(np.float32 if dtype is np.int32 else np.float64))
    if not nan.any():
        return bits
    canonical = bits.copy()
    canonical[nan] = _CANONICAL_NAN[dtype]
    return canonical


_HEX_BYTE = np.array([b"%02x" % i for i in range(256)], dtype="S2").view(np.uint16)
"""Each byte's two lowercase hex digits, as one 16-bit value."""


def _hex(array: pa.Array, values: np.ndarray, big_endian: str) -> pa.Array:
    """``encode(<send form>, 'hex')`` of each value; NULL where ``array`` is NULL."""
    width = np.dtype(big_endian).itemsize
    raw = np.ascontiguousarray(values.astype(big_endian)).view(np.uint8)
    text = np.ascontiguousarray(_HEX_BYTE[raw]).view(f"S{2 * width}")
    mask = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
    hexed = pa.array(text, pa.binary(2 * width), mask=mask)
    return pc.fill_null(hexed.cast(pa.binary()).cast(pa.string()), "")


class RowChecksum:
    """The ``sha64`` checksum of Arrow record batches (an object read back, a file loaded)."""

    def __init__(self) -> None:
        self.rows = 0
        self.total = 0

    def update(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        rows = pc.binary_join_element_wise(*(_piece(column) for column in batch.columns), ",")
        digests = b"".join(map(methodcaller("digest"), map(hashlib.sha256, _values(rows))))
        self.total += _exact_sum(np.frombuffer(digests, dtype=">i8").reshape(-1, 4)[:, 0])
        self.rows += batch.num_rows

    def result(self) -> tuple[int, str]:
        """Row count and checksum text."""
        return self.rows, checksum_text(self.total)


def _values(rows: pa.Array) -> Iterable[Any]:
    """Each row's canonical text as bytes (``hashlib`` hashes bytes)."""
    return rows.cast(pa.binary()).to_pylist()  # type: ignore[no-any-return]
