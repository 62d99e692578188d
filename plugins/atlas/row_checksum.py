"""The archive's content checksum, computed the same way by PostgreSQL and from Arrow data.

``sha64:<sum>``: the exact sum, over the rows, of the first 8 bytes of SHA-256 of each row's
*canonical form* read as a signed big-endian 64-bit integer. Order-independent (a Parquet file
need not keep the table's physical order). The canonical form of a row is PostgreSQL's binary
send form of the row as the export writes it, ``record_send(ROW(…))``: the column count, then per
column its type's OID, the length of its value (-1 for a NULL) and the value's binary form, all
big-endian. No value can be mistaken for another (every value carries its length), and no text
rendering of floats or times has to agree between PostgreSQL and Arrow:

* a column the export writes as text (every type without a native Arrow type, see
  :mod:`atlas.parquet_io`): ``col::text`` (settings pinned as for the export), sent as ``text``
  (OID 25): its UTF-8 bytes;
* an integer: its two's complement; a boolean one byte; a float its IEEE bits; a date its days
  and a timestamp its microseconds since 2000-01-01. Every NaN counts as PostgreSQL's own
  ``'NaN'`` (``7fc00000`` / ``7ff8000000000000``): a float column may hold NaNs of any sign and
  payload (a client sending binary floats keeps their bits; the export and the Parquet file keep
  them too), but PostgreSQL compares all NaNs equal and a restore, which loads text, gives its
  own NaN back, so the bits of a NaN are not content.

(It replaced a canonical *text* of ``<length>:<text>`` pieces joined by ``concat()``: building
that text cost PostgreSQL more than hashing it: the export step of a 1M-row
``explore.raw_data`` partition took 3.5 s with it, 2.9 s without, bench/bench_archive.py.)

PostgreSQL computes the per-row hashes *inside the export query*, from the very values it renders
for the export (:func:`row_hash_sql`): the jsonb of a row is rendered once, not once for the
export and again for a checksum. The client only adds the 8-byte hashes up. A read-back builds
the canonical form of each row of the object from its Arrow values (:class:`RowChecksum`, with
numpy and Arrow's compute kernels) and hashes it; the two sums must be equal. A restore
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

_OID: dict[str, int] = {
    # the type OID record_send writes for each column the export writes natively (pg_type.oid)
    "int2": 21,
    "int4": 23,
    "int8": 20,
    "bool": 16,
    "float4": 700,
    "float8": 701,
    "date": 1082,
    "timestamp": 1114,
    "timestamptz": 1184,
}
_TEXT_OID = 25
_FLOATS = {"float4", "float8"}
_CANONICAL_NAN: dict[type[np.signedinteger[Any]], int] = {np.int32: 0x7FC00000, np.int64: 0x7FF8000000000000}
"""The bits of the NaN PostgreSQL's ``float4in`` / ``float8in`` give ('NaN'::float4 / ::float8)."""
_NULL_LENGTH = b"\xff\xff\xff\xff"
_EPOCH_2000_DAYS = 10_957
_EPOCH_2000_US = _EPOCH_2000_DAYS * 86_400 * 1_000_000


def _value_sql(column: PgColumn, ref: sql.Composable) -> sql.Composable:
    """One column of the hashed ``ROW(…)``; ``ref`` is the column as the export reads it."""
    if column.typname in _FLOATS:
        # every NaN as the one NaN PostgreSQL's input gives (see the module's docstring)
        return sql.SQL("CASE WHEN {} = 'NaN' THEN 'NaN'::{} ELSE {} END").format(
            ref, sql.SQL(column.typname), ref
        )
    if column.typname in _OID:
        return ref
    return sql.SQL("{}::text").format(ref)


def row_hash_sql(columns: Sequence[PgColumn], alias: str) -> sql.Composed:
    """The 8-byte hash (``bytea``) of a row whose columns are ``<alias>.<name>``: the first 8
    bytes of SHA-256 of its canonical form."""
    values = sql.SQL(", ").join(_value_sql(c, sql.Identifier(alias, c.name)) for c in columns)
    return sql.SQL("substring(sha256(record_send(ROW({}))) FROM 1 FOR 8)").format(values)


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
    """One column of a batch as its pieces of the canonical form: OID, length, value bytes."""
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        lengths = pc.fill_null(pc.binary_length(array), 0).to_numpy(zero_copy_only=False)
        joined = pc.binary_join_element_wise(_headers(lengths), array.cast(pa.binary()), b"")
        return _with_nulls(array, joined, _TEXT_OID)
    if pa.types.is_boolean(kind):
        values = pc.fill_null(array, False).to_numpy(zero_copy_only=False).astype(np.uint8)
        return _fixed(array, "bool", values.reshape(-1, 1))
    if pa.types.is_integer(kind) and kind.bit_width in (16, 32, 64):
        values = pc.fill_null(array, 0).to_numpy(zero_copy_only=False)
        name = {16: "int2", 32: "int4", 64: "int8"}[kind.bit_width]
        return _fixed(array, name, _big_endian(values, f">i{kind.bit_width // 8}"))
    if pa.types.is_float32(kind):
        return _fixed(array, "float4", _big_endian(_float_bits(array, np.int32), ">i4"))
    if pa.types.is_float64(kind):
        return _fixed(array, "float8", _big_endian(_float_bits(array, np.int64), ">i8"))
    if pa.types.is_date32(kind):
        return _fixed(array, "date", _big_endian(_raw(array, np.int32) - np.int32(_EPOCH_2000_DAYS), ">i4"))
    if pa.types.is_timestamp(kind) and kind.unit == "us":
        name = "timestamptz" if kind.tz else "timestamp"
        return _fixed(array, name, _big_endian(_raw(array, np.int64) - np.int64(_EPOCH_2000_US), ">i8"))
    raise TypeError(f"no canonical form of Arrow type {kind} (atlas.row_checksum)")


def _big_endian(values: np.ndarray, dtype: str) -> np.ndarray:
    """Each value's big-endian bytes, one row per value."""
    width = np.dtype(dtype).itemsize
    return np.ascontiguousarray(values.astype(dtype)).view(np.uint8).reshape(-1, width)


def _headers(lengths: np.ndarray) -> pa.Array:
    """``<text OID><length>`` of each value of a text column (big-endian int32s)."""
    header = np.empty((len(lengths), 8), dtype=np.uint8)
    header[:, :4] = np.frombuffer(_TEXT_OID.to_bytes(4, "big"), dtype=np.uint8)
    header[:, 4:] = _big_endian(lengths, ">i4")
    return _binary(header)


def _binary(rows: np.ndarray) -> pa.Array:
    """A ``binary`` array of the rows of a 2-D ``uint8`` matrix, every byte kept (NULs too)."""
    count, width = rows.shape
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), count, [None, pa.py_buffer(rows)])
    return fixed.cast(pa.binary())


def _fixed(array: pa.Array, typname: str, values: np.ndarray) -> pa.Array:
    """The pieces of a fixed-width column: ``values`` holds each value's bytes, one row each."""
    width = values.shape[1]
    piece = np.empty((len(values), 8 + width), dtype=np.uint8)
    piece[:, :4] = np.frombuffer(_OID[typname].to_bytes(4, "big"), dtype=np.uint8)
    piece[:, 4:8] = np.frombuffer(width.to_bytes(4, "big"), dtype=np.uint8)
    piece[:, 8:] = values
    return _with_nulls(array, _binary(piece), _OID[typname])


def _with_nulls(array: pa.Array, pieces: pa.Array, oid: int) -> pa.Array:
    """``pieces`` with a NULL's piece (its OID, length -1, no bytes) where ``array`` is NULL."""
    if not array.null_count:
        return pieces
    null_piece = pa.scalar(oid.to_bytes(4, "big") + _NULL_LENGTH, pa.binary())
    return pc.if_else(array.is_null(), null_piece, pieces)


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


def canonical_rows(batch: pa.RecordBatch) -> pa.Array:
    """The canonical form of each row of ``batch`` (a ``binary`` array), built by numpy and
    Arrow's kernels (mostly without the GIL: a thread can build the next batch's while the rows
    of this one are hashed)."""
    count = pa.array([len(batch.columns).to_bytes(4, "big")] * batch.num_rows, pa.binary())
    return pc.binary_join_element_wise(count, *(_piece(column) for column in batch.columns), b"")


class RowChecksum:
    """The ``sha64`` checksum of Arrow record batches (an object read back, a file loaded)."""

    def __init__(self) -> None:
        self.rows = 0
        self.total = 0

    def add(self, rows: pa.Array) -> None:
        """Count and hash rows :func:`canonical_rows` built (``hashlib``, holding the GIL)."""
        if len(rows) == 0:
            return
        digests = b"".join(map(methodcaller("digest"), map(hashlib.sha256, _values(rows))))
        self.total += _exact_sum(np.frombuffer(digests, dtype=">i8").reshape(-1, 4)[:, 0])
        self.rows += len(rows)

    def result(self) -> tuple[int, str]:
        """Row count and checksum text."""
        return self.rows, checksum_text(self.total)


def _values(rows: pa.Array) -> Iterable[Any]:
    """Each row's canonical form as bytes (``hashlib`` hashes bytes)."""
    return rows.to_pylist()  # type: ignore[no-any-return]
