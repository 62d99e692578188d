"""Render a batch's records as COPY text and stream them into ``explore.raw_data``.

``BatchWriter`` is what ``WarehouseHook.batch_writer()`` yields: it turns each ``Chunk`` into one
COPY buffer (built with ``bytes.join``, far faster than ``write_row`` per row), computes each
payload's checksum and the batch checksum while streaming, and spools rejects for
``explore.quarantine``. It never commits: the hook owns the transaction.

Formats, fixed here so every reader agrees:

* payload: ``orjson.dumps(payload, option=OPT_SORT_KEYS)`` (deterministic JSON text);
* ``payload_checksum``: md5 hex of those bytes;
* ``record_key``: the entity's key values as text joined with ``|``;
* batch ``checksum``: the sum of the payload md5s read as 128-bit big-endian integers, modulo
  2**128, as 32 hex digits (order-independent, so a re-landed batch has the same checksum).

With an ``erasure`` (:class:`atlas.dsr.landing.LandingErasure`), a record of an erased data subject
is erased before it is rendered, so its payload and checksum are those erasure leaves.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
import tempfile
import time
import uuid
from binascii import hexlify
from collections.abc import Sequence
from operator import itemgetter, methodcaller
from typing import TYPE_CHECKING, Any

import orjson
from psycopg import Copy

from atlas.connectors.base import Chunk, Reject
from atlas.connectors.files.csv_reader import CsvChunk
from atlas.jsonvalues import jsonable

if TYPE_CHECKING:
    from atlas.dsr.landing import LandingErasure

log = logging.getLogger(__name__)

MAX_NOTES = 50
"""Notes kept per batch row; every note is logged."""
LOG_EVERY_ROWS = 100_000
"""A progress line (rows, rows/s) is logged each time this many more records were read."""
_REJECT_SPOOL_BYTES = 8 * 1024 * 1024
"""Rejects are kept in memory up to this size, then spill to a temporary file."""
_CHECKSUM_MODULUS = 1 << 128
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\ufffd"})
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_TAB = b"\t"
_NL = b"\n"
_NULL = b"\\N"
_COPY_SPECIAL = ("\\", "\t", "\n", "\r", "\x00")
_DIGEST = methodcaller("digest")
_AMBIGUOUS = (b'",","', b'"],[","', b'","],["', b'"],["],["')
_AMBIGUOUS_START = (b'[[","', b'[["],["')
"""JSON around a CSV value of exactly ``,`` or ``],[`` (or, harmlessly, a rare look-alike): such a
chunk is rendered row by row, where the value separators cannot be mistaken."""
_ESCAPE_BACKSLASH = methodcaller("replace", b"\\", b"\\\\")


@dataclasses.dataclass(frozen=True, slots=True)
class BatchResult:
    """What landing a batch did; ``as_xcom()`` is the small summary an operator returns."""

    batch_id: uuid.UUID
    rows_read: int
    rows_landed: int
    rows_quarantined: int
    checksum: str
    seconds: float
    notes: tuple[str, ...] = ()
    """Warnings of the extract (``Chunk.notes``), also kept in ``pipeline.batches.notes``."""
    rows_erased: int = 0
    """Records of erased data subjects landed erased (among those landed or quarantined)."""

    def as_xcom(self) -> dict[str, Any]:
        return {
            "batch_id": str(self.batch_id),
            "rows_read": self.rows_read,
            "rows_landed": self.rows_landed,
            "rows_quarantined": self.rows_quarantined,
            "checksum": self.checksum,
            "notes": list(self.notes),
            "rows_erased": self.rows_erased,
        }


def payload_checksum(payload: dict[str, Any]) -> str:
    """``payload_checksum`` of one payload: md5 hex of its JSON text (the formats above).

    The writer's hot loops inline the same two calls per record; anything that rewrites a landed
    payload (data-subject erasure) recomputes its checksum here so the two never disagree.
    """
    text = orjson.dumps(payload, default=jsonable, option=orjson.OPT_SORT_KEYS)
    return hashlib.md5(text).hexdigest()  # noqa: S324 - a checksum, not a security digest


def batch_checksum_delta(checksum: str, old: str, new: str) -> str:
    """A batch ``checksum`` after one payload's checksum changed from ``old`` to ``new``."""
    total = int(checksum, 16) - int(old, 16) + int(new, 16)
    return f"{total % _CHECKSUM_MODULUS:032x}"


def copy_text(value: str) -> str:
    """Escape a text value for PostgreSQL's COPY text format (NUL, which text cannot hold, becomes U+FFFD)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value or "\x00" in value:
        return value.translate(_COPY_ESCAPES)
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class _RowPlan:
    """How to turn one CSV header's rows into sorted-key JSON objects (see ``_render_rows``)."""

    width: int
    template: bytes
    """``{"<key>":%b,...}`` in orjson's sorted key order (``%`` in keys doubled)."""
    order: tuple[int, ...]
    """Indexes of the row values in template order (the last of duplicate columns)."""
    key_indexes: tuple[int, ...]
    escape: bool
    """Whether the template holds a backslash (a column name with a quote, a backslash or a
    control character): its payloads then need COPY's backslash doubling whatever the values."""

    @classmethod
    def build(cls, header: tuple[str, ...], key_columns: tuple[str, ...]) -> _RowPlan | None:
        last = {column: index for index, column in enumerate(header)}
        if not header or any(column not in last for column in key_columns):
            return None
        try:
            order = list(orjson.loads(orjson.dumps(dict.fromkeys(header), option=orjson.OPT_SORT_KEYS)))
            keys = [orjson.dumps(column).replace(b"%", b"%%") for column in order]
        except orjson.JSONEncodeError:
            return None
        if any(b"\\u0000" in key for key in keys):
            return None  # a NUL in a column name: _render quarantines every row
        template = b"{" + b",".join(key + b":%b" for key in keys) + b"}"
        return cls(
            width=len(header),
            template=template,
            order=tuple(last[column] for column in order),
            key_indexes=tuple(last[column] for column in key_columns),
            escape=b"\\" in template,
        )


_UNPLANNED: Any = object()


class BatchWriter:
    """Streams one batch into an open COPY; created by ``WarehouseHook.batch_writer()`` only."""

    def __init__(
        self,
        *,
        copy: Copy,
        source: str,
        entity: str,
        batch_id: uuid.UUID,
        interval_start: dt.datetime,
        key_columns: Sequence[str],
        log_every: int = LOG_EVERY_ROWS,
        erasure: LandingErasure | None = None,
    ) -> None:
        if not key_columns:
            raise ValueError(f"{source}.{entity}: a batch needs at least one key column")
        self.source = source
        self.entity = entity
        self.batch_id = batch_id
        self.interval_start = interval_start
        self.key_columns = tuple(key_columns)
        self.rows_read = 0
        self.rows_landed = 0
        self.rows_quarantined = 0
        self.result: BatchResult | None = None
        """Set by ``WarehouseHook.batch_writer()`` once the batch has committed."""
        self.notes: list[str] = []
        """The chunks' notes, each once, in order (at most ``MAX_NOTES``)."""
        self.erasure = erasure
        """Erases the records of erased data subjects (None: no subject of the entity was erased)."""
        self._copy: Copy | None = copy
        self._checksum = 0
        self._log_every = log_every
        self._next_log = log_every
        self._started = time.monotonic()
        head = [source, entity, str(batch_id), interval_start.isoformat()]
        self._prefix = "\t".join(copy_text(v) for v in head).encode() + _TAB
        self._line_format = self._prefix.replace(b"%", b"%%") + b"%b\t%b\t%b\t%b\n"
        self._row_plans: dict[tuple[str, ...], _RowPlan | None] = {}
        # Closed by discard(), which the hook calls when the landing transaction ends.
        self._rejects = tempfile.SpooledTemporaryFile(max_size=_REJECT_SPOOL_BYTES, mode="w+b")  # noqa: SIM115

    # -- public API -------------------------------------------------------------------------

    def write(self, chunk: Chunk) -> None:
        """Land a chunk's records and quarantine its rejects (and records without a key)."""
        if self._copy is None:
            raise RuntimeError("this batch writer is closed; write inside its `with` block")
        for note in chunk.notes:
            self.add_note(note)
        rejects: list[Reject] = list(chunk.rejects)
        buffer = None
        if isinstance(chunk, CsvChunk) and not chunk.built and not self._erases(chunk):
            buffer = self._render_rows(chunk)
        if buffer is None:
            buffer = self._render(chunk.records, rejects)
        if buffer:
            self._copy.write(buffer)
        for reject in rejects:
            self._spool(reject)
        self.rows_read += len(chunk)
        self.rows_quarantined += len(rejects)
        self.rows_landed = self.rows_read - self.rows_quarantined
        if self.rows_read >= self._next_log:
            self._log_progress()
            self._next_log = self.rows_read + self._log_every

    def add_note(self, note: str) -> None:
        """Keep a warning about the extract for the batch row, and log it (each note once)."""
        if note in self.notes:
            return
        if len(self.notes) < MAX_NOTES:
            self.notes.append(note)
        elif len(self.notes) == MAX_NOTES:
            self.notes.append("more notes were logged than are kept here: see the task log")
        log.warning("%s.%s batch %s: %s", self.source, self.entity, self.batch_id, note)

    @property
    def rows_erased(self) -> int:
        """Records landed erased because their data subject was erased (counted among those landed or quarantined)."""
        return 0 if self.erasure is None else self.erasure.erased

    @property
    def checksum(self) -> str:
        return f"{self._checksum:032x}"

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    # -- used by WarehouseHook --------------------------------------------------------------

    def close_copy(self) -> None:
        self._copy = None

    def copy_rejects(self, copy: Copy) -> None:
        """Stream the spooled rejects into an open ``COPY explore.quarantine``."""
        self._rejects.seek(0)
        while block := self._rejects.read(1024 * 1024):
            copy.write(block)

    def discard(self) -> None:
        self._rejects.close()

    def log_progress(self) -> None:
        self._log_progress()

    # -- internals --------------------------------------------------------------------------

    def _erases(self, chunk: CsvChunk) -> bool:
        """Whether a CSV chunk holds an erased subject's record (then it takes ``_render``, which erases)."""
        return self.erasure is not None and self.erasure.any_row_matches(chunk.header, chunk.rows)

    def _render(self, records: list[tuple[dict[str, Any], str]], rejects: list[Reject]) -> bytes:
        """COPY text of the landable records; the others are appended to ``rejects``."""
        parts: list[bytes] = []
        append = parts.append
        prefix = self._prefix
        keys = self.key_columns
        single = keys[0] if len(keys) == 1 else None
        dumps = orjson.dumps
        option = orjson.OPT_SORT_KEYS
        md5 = hashlib.md5
        total = self._checksum
        locations: dict[str | None, bytes] = {None: _NULL}
        erase = None if self.erasure is None else self.erasure.erase
        for payload, location in records:
            if erase is not None:
                payload = erase(payload)  # the record as it is landed
            key: str | None
            if single is not None:
                value = payload.get(single)
                if value is None or value == "":
                    rejects.append(self._missing_key(payload, location, single))
                    continue
                key = value if isinstance(value, str) else str(value)
            else:
                key = self._composite_key(payload, location, rejects)
                if key is None:
                    continue
            try:
                text = dumps(payload, default=jsonable, option=option)
            except (orjson.JSONEncodeError, TypeError) as exc:
                rejects.append(
                    Reject(
                        location or "",
                        _position(location),
                        repr(payload),
                        f"payload is not valid JSON: {exc}",
                    )
                )
                continue
            if b"\\u0000" in text and _NUL_ESCAPE.search(text):
                rejects.append(
                    Reject(
                        location or "",
                        _position(location),
                        text.decode(),
                        "payload holds a NUL character (jsonb cannot)",
                    )
                )
                continue
            digest = md5(text).digest()
            total += int.from_bytes(digest)
            if b"\\" in text:
                text = text.replace(b"\\", b"\\\\")
            where = locations.get(location)
            if where is None:
                where = locations[location] = copy_text(location).encode()
            append(
                b"%b%b\t%b\t%b\t%b\n"
                % (prefix, (key if key.isalnum() else copy_text(key)).encode(), text, hexlify(digest), where)
            )
        self._checksum = total % _CHECKSUM_MODULUS
        return b"".join(parts)

    def _render_rows(self, chunk: CsvChunk) -> bytes | None:
        """COPY text of a CSV chunk's rows without building a dict per row, or None to fall back.

        The payload bytes equal ``orjson.dumps(dict(zip(header, row)), option=OPT_SORT_KEYS)``
        with empty values as null: the whole chunk is JSON-encoded in one ``orjson.dumps`` call,
        cut into values, and each row's values fill a per-header template of the sorted keys.
        Chunks with a missing key, a NUL or anything unusual take ``_render`` (the same reasons).
        """
        rows = chunk.rows
        if not rows:
            return b""
        header = tuple(chunk.header)
        plan = self._row_plans.get(header, _UNPLANNED)
        if plan is _UNPLANNED:
            plan = self._row_plans[header] = _RowPlan.build(header, self.key_columns)
        if plan is None:
            return None
        columns = [list(map(itemgetter(i), rows)) for i in plan.key_indexes]
        if any("" in column for column in columns):
            return None  # a missing key: _render quarantines it
        try:
            blob = orjson.dumps(rows)
        except orjson.JSONEncodeError:
            return None
        if b"\\u0000" in blob or blob.startswith(_AMBIGUOUS_START) or any(s in blob for s in _AMBIGUOUS):
            return None
        # [["a","","b"],["c",...]] -> one flat list of JSON values: "a", "", "b", "c", ...
        # A quote inside a JSON string is always escaped, so scanning left to right '"],["' and
        # '","' only match between values, bar a value of exactly "," or "],[" (ruled out above);
        # orjson never emits a raw control byte, so \x1f is a safe separator.
        flat = (
            (b"\x1f" + blob[2:-2]).replace(b'"],["', b'"\x1f"').replace(b'","', b'"\x1f"').split(b"\x1f")[1:]
        )
        width = plan.width
        if len(flat) != len(rows) * width:
            return None  # cannot happen (see above); a cheap guard all the same
        columns_in_order = [flat[index::width] for index in plan.order]
        payloads = list(map(plan.template.__mod__, zip(*columns_in_order, strict=True)))
        digests = list(map(_DIGEST, map(hashlib.md5, payloads)))
        self._checksum = (self._checksum + sum(map(int.from_bytes, digests))) % _CHECKSUM_MODULUS
        if plan.escape or b"\\" in blob:
            payloads = list(map(_ESCAPE_BACKSLASH, payloads))
        keys = columns[0] if len(columns) == 1 else list(map("|".join, zip(*columns, strict=True)))
        text = "".join(keys)
        if any(char in text for char in _COPY_SPECIAL):
            keys = list(map(copy_text, keys))
        where = copy_text(chunk.name).encode().replace(b"%", b"%%") + b":%d"
        return b"".join(
            map(
                self._line_format.__mod__,
                zip(
                    map(str.encode, keys),
                    payloads,
                    map(hexlify, digests),
                    map(where.__mod__, chunk.lines),
                    strict=True,
                ),
            )
        )

    def _composite_key(self, payload: dict[str, Any], location: str, rejects: list[Reject]) -> str | None:
        values = []
        for column in self.key_columns:
            value = payload.get(column)
            if value is None or value == "":
                rejects.append(self._missing_key(payload, location, column))
                return None
            values.append(value if isinstance(value, str) else str(value))
        return "|".join(values)

    @staticmethod
    def _missing_key(payload: dict[str, Any], location: str, column: str) -> Reject:
        try:
            raw = orjson.dumps(payload, default=jsonable, option=orjson.OPT_SORT_KEYS).decode()
        except (orjson.JSONEncodeError, TypeError):
            raw = repr(payload)
        return Reject(location or "", _position(location), raw, f"missing key field {column!r}")

    def _spool(self, reject: Reject) -> None:
        raw_bytes = _NULL if reject.raw_bytes is None else b"\\\\x" + hexlify(reject.raw_bytes)
        offset = _NULL if reject.byte_offset is None else str(int(reject.byte_offset)).encode()
        fields = [
            self._prefix,
            _NULL if reject.location is None else copy_text(reject.location).encode(),
            _TAB,
            _NULL if reject.line_number is None else str(int(reject.line_number)).encode(),
            _TAB,
            copy_text(reject.raw or "").encode(),
            _TAB,
            copy_text(reject.reason or "rejected").encode(),
            _TAB,
            raw_bytes,
            _TAB,
            offset,
            _NL,
        ]
        self._rejects.write(b"".join(fields))

    def _log_progress(self) -> None:
        seconds = self.elapsed()
        log.info(
            "%s.%s batch %s: %s rows read, %s landed, %s quarantined (%.0f rows/s)",
            self.source,
            self.entity,
            self.batch_id,
            self.rows_read,
            self.rows_landed,
            self.rows_quarantined,
            self.rows_read / seconds if seconds > 0 else 0.0,
        )


def _position(location: str | None) -> int | None:
    """The line (``file:12``) or record number (``file#12``, ``url#3``) a location ends with."""
    if not location:
        return None
    digits = location.rsplit(":", 1)[-1] if ":" in location else ""
    if not digits.isdigit():
        digits = location.rsplit("#", 1)[-1] if "#" in location else ""
    return int(digits) if digits.isdigit() else None
