"""BatchWriter: the COPY text of records and CSV rows, checksums and quarantined records.

The writer only renders bytes into an open COPY; ``FakeCopy`` collects them. The tests marked
``postgres`` feed the bytes to a real ``COPY … FROM STDIN`` to prove PostgreSQL reads them back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
import uuid
from decimal import Decimal
from typing import Any

import orjson
import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas.batch_writer import BatchWriter, batch_checksum_delta, copy_text, payload_checksum
from atlas.connectors.base import Chunk, Reject
from atlas.connectors.files.csv_reader import CsvChunk

BATCH = uuid.UUID(int=7)
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
PREFIX = b"crm\tcustomers\t00000000-0000-0000-0000-000000000007\t2025-01-01T00:00:00+00:00\t"
"""The first four COPY columns of every line: source, entity, batch id, interval start."""


class FakeCopy:
    """Stands in for psycopg's ``Copy``: collects the bytes written to it."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, buffer: bytes) -> None:
        self.data += buffer


@dataclasses.dataclass
class Written:
    """What a writer streamed and counted."""

    data: bytes
    checksum: str
    counts: tuple[int, int, int]
    """``(rows_read, rows_landed, rows_quarantined)``."""
    rejects: bytes
    """The quarantine COPY text of the rejects."""


def new_writer(copy: Any, key: tuple[str, ...] = ("id",), **names: str) -> BatchWriter:
    return BatchWriter(
        copy=copy,
        source=names.get("source", "crm"),
        entity=names.get("entity", "customers"),
        batch_id=BATCH,
        interval_start=START,
        key_columns=key,
    )


def write(*chunks: Chunk, key: tuple[str, ...] = ("id",), **names: str) -> Written:
    """Write ``chunks`` through one writer; what it streamed into the raw data and quarantine COPYs."""
    copy, quarantine = FakeCopy(), FakeCopy()
    writer = new_writer(copy, key, **names)
    try:
        for chunk in chunks:
            writer.write(chunk)
        writer.copy_rejects(quarantine)  # type: ignore[arg-type]
    finally:
        writer.discard()
    counts = (writer.rows_read, writer.rows_landed, writer.rows_quarantined)
    return Written(bytes(copy.data), writer.checksum, counts, bytes(quarantine.data))


def records(*payloads: dict[str, Any]) -> Chunk:
    """A chunk of ``payloads`` at ``f.csv:2``, ``f.csv:3`` …"""
    return Chunk(records=[(payload, f"f.csv:{line}") for line, payload in enumerate(payloads, 2)])


def csv_chunk(header: list[str], rows: list[tuple[str, ...]], name: str = "f.csv") -> CsvChunk:
    """A CSV chunk as the reader leaves it: rows at lines 2, 3 …, records not built."""
    chunk = CsvChunk(header, name)
    chunk.rows = list(rows)
    chunk.lines = list(range(2, len(rows) + 2))
    return chunk


def both_paths(header: list[str], rows: list[tuple[str, ...]], key: tuple[str, ...], **names: str):
    """The CSV chunk's rendering from its rows, whether that took the rows path, and from its records."""
    fast = csv_chunk(header, rows, **names)
    from_rows = write(fast, key=key)
    from_records = write(Chunk(records=csv_chunk(header, rows, **names).records), key=key)
    return from_rows, not fast.built, from_records


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def payload(values: dict[str, Any]) -> bytes:
    return orjson.dumps(values, option=orjson.OPT_SORT_KEYS)


def batch_checksum(*payloads: bytes) -> str:
    return f"{sum(int(md5(p), 16) for p in payloads) % (1 << 128):032x}"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("plain text", "plain text", id="plain"),
        pytest.param("a\\b", "a\\\\b", id="backslash"),
        pytest.param("a\tb", "a\\tb", id="tab"),
        pytest.param("a\nb", "a\\nb", id="newline"),
        pytest.param("a\rb", "a\\rb", id="carriage-return"),
        pytest.param("a\x00b", "a\ufffdb", id="nul-replaced"),
        pytest.param("\\N", "\\\\N", id="null-marker-is-text"),
        pytest.param("Zürich 😀 %s", "Zürich 😀 %s", id="unicode-and-percent"),
    ],
)
def test_copy_text_escapes_what_the_copy_text_format_reads_specially(value: str, expected: str) -> None:
    """copy_text escapes backslash, tab, CR and LF and replaces NUL; nothing else changes."""
    assert copy_text(value) == expected


def test_a_record_is_one_copy_line_of_key_payload_checksum_and_location() -> None:
    """A record becomes prefix, key, sorted-key JSON, its md5 and its location, tab-separated."""
    written = write(records({"name": "Ann", "id": 42, "city": None}))
    expected = payload({"city": None, "id": 42, "name": "Ann"})
    assert written.data == PREFIX + b"42\t" + expected + b"\t" + md5(expected).encode() + b"\tf.csv:2\n"
    assert written.checksum == md5(expected)
    assert written.counts == (1, 1, 0)


def test_payload_text_is_escaped_for_copy_and_hashed_unescaped() -> None:
    """Backslashes of the JSON text are doubled for COPY; the md5 is of the JSON text itself."""
    values = {"id": "1", "note": 'tab\there "q" back\\slash\nZürich 😀 %d'}
    line = write(records(values)).data
    fields = line.rstrip(b"\n").split(b"\t")
    assert len(fields) == 8  # the tab and newline inside the value are JSON escapes, not raw
    assert fields[5] == payload(values).replace(b"\\", b"\\\\")
    assert fields[6] == md5(payload(values)).encode()


def test_numeric_values_keep_their_digits() -> None:
    """A Decimal is written as its exact text, never rounded through a float."""
    line = write(records({"id": 1, "amount": Decimal("12345678901234567890.10")})).data
    assert b'"amount":"12345678901234567890.10"' in line


@pytest.mark.parametrize(
    ("key", "values", "column"),
    [
        pytest.param(("id",), {"name": "x"}, "id", id="absent"),
        pytest.param(("id",), {"id": None, "name": "x"}, "id", id="null"),
        pytest.param(("id",), {"id": "", "name": "x"}, "id", id="empty"),
        pytest.param(("id", "line"), {"id": 1, "line": ""}, "line", id="composite-second-empty"),
        pytest.param(("id", "line"), {"line": 2}, "id", id="composite-first-absent"),
    ],
)
def test_a_record_without_its_key_is_quarantined(
    key: tuple[str, ...], values: dict[str, Any], column: str
) -> None:
    """A record missing a key value lands nowhere but the quarantine, naming the field and its line."""
    written = write(records({"id": 9, "line": 1}, values), key=key)
    assert written.data.count(b"\n") == 1
    assert written.counts == (2, 1, 1)
    raw = copy_text(payload(values).decode()).encode()
    reason = f"missing key field {column!r}".encode()
    assert written.rejects == PREFIX + b"f.csv:3\t3\t" + raw + b"\t" + reason + b"\t\\N\t\\N\n"


@pytest.mark.parametrize(
    ("key", "values", "record_key"),
    [
        pytest.param(("id",), {"id": 7}, b"7", id="integer-as-text"),
        pytest.param(("id", "line"), {"id": 7, "line": "b"}, b"7|b", id="composite"),
        pytest.param(("id", "line"), {"line": 3, "id": "a|b"}, b"a|b|3", id="composite-in-key-order"),
        pytest.param(("id",), {"id": "a\tb\\c"}, b"a\\tb\\\\c", id="escaped"),
        pytest.param(("id",), {"id": " "}, b" ", id="space-is-a-value"),
    ],
)
def test_the_record_key_joins_the_key_values_with_a_bar(
    key: tuple[str, ...], values: dict[str, Any], record_key: bytes
) -> None:
    """The record key is the key values as text in key order, joined with ``|``, COPY-escaped."""
    line = write(records(values), key=key).data
    assert line.startswith(PREFIX + record_key + b"\t{")


@pytest.mark.parametrize(
    ("location", "field"),
    [
        pytest.param(None, b"\\N", id="unknown"),
        pytest.param("s3://b/a\tb.csv:4", b"s3://b/a\\tb.csv:4", id="escaped"),
    ],
)
def test_the_location_field(location: str | None, field: bytes) -> None:
    """A record without a location writes NULL; a location is COPY-escaped."""
    line = write(Chunk(records=[({"id": 1}, location)])).data  # type: ignore[list-item]
    assert line.rstrip(b"\n").split(b"\t")[-1] == field


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        pytest.param({"id": 1, "name": "a\x00b"}, "payload holds a NUL character (jsonb cannot)", id="nul"),
        pytest.param({"id": 1, "name": "\ud800"}, "payload is not valid JSON", id="lone-surrogate"),
        pytest.param({"id": 1, "big": 2**70}, "payload is not valid JSON", id="integer-beyond-64-bits"),
    ],
)
def test_a_payload_jsonb_cannot_hold_is_quarantined(values: dict[str, Any], reason: str) -> None:
    """A payload with a NUL or that orjson cannot encode is quarantined with the reason."""
    written = write(records(values))
    assert (written.data, written.counts, written.checksum) == (b"", (1, 0, 1), "0" * 32)
    assert reason.encode() in written.rejects


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul() -> None:
    """The text ``\\u0000`` (a backslash, then u0000) lands; only a real NUL is refused."""
    values = {"id": 1, "path": "C:\\u0000"}
    written = write(records(values))
    assert written.counts == (1, 1, 0)
    assert written.checksum == md5(payload(values))


def test_rejects_are_spooled_in_the_quarantine_copy_format() -> None:
    """Connector rejects reach the quarantine COPY escaped, with NULL for what is unknown."""
    chunk = Chunk(
        rejects=[
            Reject("f.csv:3", 3, 'a\tb\\"c\nd', "row has 4 fields, header has 3"),
            Reject(None, None, "nul\x00", ""),  # type: ignore[arg-type]
            Reject("f.csv:9", 9, "x\ufffd", "bytes", raw_bytes=b"x\xff\x00\n", byte_offset=120),
        ]
    )
    written = write(chunk)
    assert written.counts == (3, 0, 3)
    assert written.rejects.splitlines(keepends=True) == [
        PREFIX + b'f.csv:3\t3\ta\\tb\\\\"c\\nd\trow has 4 fields, header has 3\t\\N\t\\N\n',
        PREFIX + "\\N\t\\N\tnul\ufffd\trejected\t\\N\t\\N\n".encode(),
        PREFIX + "f.csv:9\t9\tx\ufffd\tbytes\t\\\\x78ff000a\t120\n".encode(),
    ]


def test_the_batch_checksum_ignores_order_and_chunking() -> None:
    """The batch checksum is the sum of the payload md5s mod 2**128, whatever the order or chunks."""
    payloads = [{"id": i, "name": f"n{i}", "note": "\\" * (i % 3)} for i in range(50)]
    shuffled = random.Random(3).sample(payloads, len(payloads))
    one = write(records(*payloads))
    split = write(records(*shuffled[:17]), records(*shuffled[17:]))
    assert one.checksum == split.checksum == batch_checksum(*(payload(p) for p in payloads))
    assert sorted(one.data.split(b"\t")[6::7]) == sorted(split.data.split(b"\t")[6::7])


def test_the_checksum_of_an_empty_batch_is_zero() -> None:
    """A batch that landed nothing has the checksum of the empty sum: 32 zeros."""
    assert write(Chunk()).checksum == "0" * 32


def test_the_checksum_wraps_at_2_to_the_128() -> None:
    """Payloads whose md5s sum past 2**128 wrap around instead of growing the checksum."""
    payloads = [{"id": i} for i in range(400)]
    total = sum(int(md5(payload(p)), 16) for p in payloads)
    assert total >= 1 << 128  # 400 md5s overflow 128 bits
    assert write(records(*payloads)).checksum == f"{total % (1 << 128):032x}"


def test_a_writer_needs_a_key_column() -> None:
    """A writer without key columns is refused before anything is written."""
    with pytest.raises(ValueError, match=r"crm\.customers: a batch needs at least one key column"):
        new_writer(FakeCopy(), key=())


def test_a_closed_writer_refuses_to_write() -> None:
    """Once its COPY is closed, writing again raises instead of losing the chunk."""
    writer = new_writer(FakeCopy())
    writer.close_copy()
    try:
        with pytest.raises(RuntimeError, match="closed"):
            writer.write(records({"id": 1}))
    finally:
        writer.discard()


TRICKY = ['","', '"', "a,", ",a", "],", "[,", "\\", '\\"', ':""', "[", "]", "%b", "%", "%%s", "\t", "\n",
          "\r", "\x1f", "é", "Zürich", "😀", "null", "{}", "x", "42", " ", "\\u0000"]  # fmt: skip
"""Values that JSON, COPY or the rows path's splitting and templates treat specially."""


@pytest.mark.parametrize(
    ("header", "rows", "key"),
    [
        pytest.param(
            ["id", "name"],
            [("1", 'say "hi"'), ("2", "back\\slash"), ("3", "tab\there")],
            ("id",),
            id="escapes",
        ),
        pytest.param(
            ["id", "note"], [("1", "line\nbreak\r\n"), ("2", "😀 Zürich")], ("id",), id="newlines-unicode"
        ),
        pytest.param(["id", "v"], [("1", "%s %b %%"), ("2", "%")], ("id",), id="percent-in-values"),
        pytest.param(["id", "%s", "a%b"], [("1", "x", "y")], ("id",), id="percent-in-header"),
        pytest.param(["id", "v", "w"], [("1", "", "x"), ("2", "", "")], ("id",), id="empty-values"),
        pytest.param(["note", "id"], [("", "1"), ("", "2")], ("id",), id="empty-first-value"),
        pytest.param(
            ["id", "v", "w"], [("1", "null", "{}"), ("2", "[", "]")], ("id",), id="json-looking-text"
        ),
        pytest.param(
            ["b", "id", "a", "Ä", "a b"], [("1", "2", "3", "4", "5")], ("id",), id="unsorted-header"
        ),
        pytest.param(["id", "x", "x"], [("1", "first", "last")], ("id",), id="duplicate-column-last-wins"),
        pytest.param(
            ["id", "line", "v"], [("1", "2", "a"), ("1", "3", "b")], ("id", "line"), id="composite-key"
        ),
        pytest.param(["id", "v"], [("a\tb", "1"), ("c\\d|e", "2")], ("id",), id="keys-needing-escapes"),
        pytest.param(["id", 'say "x"'], [("1", "a")], ("id",), id="quote-in-header"),
        pytest.param(["id", "C:\\dir"], [("1", "a")], ("id",), id="backslash-in-header"),
        pytest.param(["id", "tab\there"], [("1", "a")], ("id",), id="tab-in-header"),
    ],
)
def test_csv_rows_render_byte_for_byte_like_their_records(
    header: list[str], rows: list[tuple[str, ...]], key: tuple[str, ...]
) -> None:
    """Rendering a CSV chunk from its rows gives the very bytes and checksum of its records."""
    from_rows, took_rows_path, from_records = both_paths(header, rows, key, name="dir/f%s.csv")
    assert took_rows_path
    assert from_rows == from_records


@pytest.mark.parametrize(
    ("header", "rows", "key"),
    [
        pytest.param(["id", "v"], [("1", ","), ("2", "x")], ("id",), id="value-exactly-comma"),
        pytest.param(
            ["id", "v"], [("1", "],["), ("2", "x")], ("id",), id="value-exactly-bracket-comma-bracket"
        ),
        pytest.param(["id", "v"], [(",", "x")], ("id",), id="first-value-exactly-comma"),
        pytest.param(["id", "v"], [("],[", "x")], ("id",), id="first-value-bracket-comma-bracket"),
        pytest.param(["id", "v"], [("1", "a"), ("", "b")], ("id",), id="missing-key"),
        pytest.param(["id", "v"], [("1", "a\x00b")], ("id",), id="nul-in-value"),
        pytest.param(["id", "v"], [("1", "\ud800")], ("id",), id="lone-surrogate"),
        pytest.param(["id", "v\x00"], [("1", "a")], ("id",), id="nul-in-header"),
        pytest.param(["id", "\udc00"], [("1", "a")], ("id",), id="lone-surrogate-in-header"),
        pytest.param(["name", "v"], [("1", "a")], ("id",), id="key-not-in-header"),
    ],
)
def test_csv_rows_the_rows_path_cannot_read_fall_back_to_records(
    header: list[str], rows: list[tuple[str, ...]], key: tuple[str, ...]
) -> None:
    """Ambiguous values, missing keys, NULs and unencodable text are rendered from records."""
    from_rows, took_rows_path, from_records = both_paths(header, rows, key)
    assert not took_rows_path
    assert from_rows == from_records


_HEADERS = st.lists(st.sampled_from(["id", "line", "b", "a", "Ä", "a b", "%s", "x", 'q"', "\\", "\t"]), min_size=1, max_size=6)  # fmt: skip
_VALUES = st.one_of(
    st.sampled_from(["", *TRICKY, ",", "],["]),
    st.text(max_size=6),
    st.lists(st.sampled_from(TRICKY), max_size=3).map("".join),
)


@st.composite
def csv_chunks(draw: st.DrawFn) -> tuple[list[str], list[tuple[str, ...]], tuple[str, ...]]:
    """A header, rows as wide as it (keys mostly present) and one or two of its columns as key."""
    header = draw(_HEADERS)
    key = tuple(draw(st.lists(st.sampled_from(header), min_size=1, max_size=2, unique=True)))
    rows = draw(st.lists(st.tuples(*[_VALUES for _ in header]), min_size=1, max_size=8))
    if draw(st.booleans()):  # most chunks have every key: they can take the rows path
        rows = [tuple(value or f"k{i}" for value in row) for i, row in enumerate(rows)]
    return header, rows, key


@settings(max_examples=200, deadline=None)
@given(case=csv_chunks())
def test_any_csv_chunk_renders_alike_from_its_rows_and_its_records(
    case: tuple[list[str], list[tuple[str, ...]], tuple[str, ...]],
) -> None:
    """Whatever the header, values and key, both renderings are byte-identical."""
    header, rows, key = case
    from_rows, _, from_records = both_paths(header, rows, key)
    assert from_rows == from_records


# --- what PostgreSQL reads back ---------------------------------------------------------------

_RAW_COLUMNS = (
    "source_name text, entity_name text, batch_id uuid, interval_start timestamptz, "
    "record_key text, payload text, payload_checksum text, source_location text"
)
"""``explore.raw_data``'s COPY columns, the payload as text to compare it byte for byte."""
_QUARANTINE_COLUMNS = (
    "source_name text, entity_name text, batch_id uuid, interval_start timestamptz, "
    "source_location text, line_number integer, raw_record text, reason text, raw_bytes bytea, "
    "byte_offset bigint"
)


def copy_into(dsn: str, chunk: Chunk, key: tuple[str, ...] = ("id",)) -> tuple[list[tuple], list[tuple]]:
    """COPY one chunk's records and rejects into temporary tables; their rows as read back."""
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE landed ({_RAW_COLUMNS})")
        cur.execute(f"CREATE TEMPORARY TABLE rejected ({_QUARANTINE_COLUMNS})")
        with cur.copy("COPY landed FROM STDIN") as copy:
            writer = new_writer(copy, key, entity="cust%omers")
            writer.write(chunk)
            writer.close_copy()
        try:
            with cur.copy("COPY rejected FROM STDIN") as copy:
                writer.copy_rejects(copy)
        finally:
            writer.discard()
        landed = cur.execute(
            "SELECT entity_name, record_key, payload, payload_checksum, md5(payload), payload::jsonb, "
            'source_location FROM landed ORDER BY record_key COLLATE "C"'
        ).fetchall()
        rejected = cur.execute(
            "SELECT source_location, line_number, raw_record, reason, raw_bytes, byte_offset FROM rejected "
            'ORDER BY reason COLLATE "C"'
        ).fetchall()
    return landed, rejected


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("header", "rows"),
    [
        pytest.param(
            ["note", "id"],
            [("", "1"), ('q"uote \\ back\\slash\ttab\nnl\rcr %s 😀', "2\t|x"), ("Zürich", "3")],
            id="tricky-values",
        ),
        pytest.param(
            ["id", "C:\\dir", 'say "x"', "tab\there"],
            [("1", "a", "b", "c"), ("2", "", "d", "")],
            id="tricky-header",
        ),
    ],
)
@pytest.mark.parametrize("from_rows", [pytest.param(True, id="rows"), pytest.param(False, id="records")])
def test_postgres_reads_back_the_payloads_and_their_checksums(
    empty_db_dsn: str, header: list[str], rows: list[tuple[str, ...]], from_rows: bool
) -> None:
    """COPY stores each payload byte for byte, so md5(payload) is its checksum and it parses as JSON."""
    chunk: Chunk = csv_chunk(header, rows, name="dir/f%s.csv")
    if not from_rows:
        chunk = Chunk(records=chunk.records)
    landed, _ = copy_into(empty_db_dsn, chunk)
    if isinstance(chunk, CsvChunk):
        assert not chunk.built  # rendered from its rows: no fallback to its records
    key = header.index("id")
    assert [record_key for _, record_key, *_ in landed] == [row[key] for row in rows]
    for (entity, _, text, checksum, digest, parsed, location), row, line in zip(
        landed, rows, (2, 3, 4), strict=False
    ):
        expected = dict(zip(header, row, strict=True))  # empty values stay "": explore keeps what was read
        assert (entity, location) == ("cust%omers", f"dir/f%s.csv:{line}")
        assert text.encode() == payload(expected)
        assert checksum == digest
        assert parsed == expected


@pytest.mark.postgres
def test_postgres_reads_back_the_rejects(empty_db_dsn: str) -> None:
    """The spooled rejects and records without a key reach the quarantine COPY intact."""
    chunk = Chunk(
        records=[({"id": "", "note": "tab\there"}, "f.csv:4")],
        rejects=[
            Reject(
                "f\t.csv:3", 3, 'a,"b\\c\nd', "malformed CSV", raw_bytes=b'a,"b\\c\nd\x00\xff', byte_offset=7
            ),
            Reject(None, None, "z", ""),  # type: ignore[arg-type]
        ],
    )
    landed, rejected = copy_into(empty_db_dsn, chunk)
    assert landed == []
    assert rejected == [
        ("f\t.csv:3", 3, 'a,"b\\c\nd', "malformed CSV", b'a,"b\\c\nd\x00\xff', 7),
        ("f.csv:4", 4, '{"id":"","note":"tab\\there"}', "missing key field 'id'", None, None),
        (None, None, "z", "rejected", None, None),
    ]


@given(
    st.dictionaries(
        st.text(max_size=8), st.one_of(st.none(), st.integers(), st.text(max_size=20)), max_size=6
    )
)
def test_payload_checksum_is_the_checksum_the_writer_lands(values: dict[str, Any]) -> None:
    """payload_checksum() (what erasure recomputes) equals the md5 the writer puts beside the same payload."""
    values = {"id": "7", **values}
    written = write(records(values))
    if not written.data:  # a payload the writer quarantines (a NUL) lands no checksum to compare
        return
    assert written.data.rstrip(b"\n").split(b"\t")[6].decode() == payload_checksum(values)


def test_batch_checksum_delta_is_the_checksum_of_the_changed_batch() -> None:
    """Replacing one payload's md5 in a batch checksum gives the checksum of the batch as changed."""
    before = [payload({"id": i, "email": f"u{i}@example.org"}) for i in range(20)]
    after = [*before[:7], payload({"id": 7, "email": "[erased]"}), *before[8:]]
    changed = batch_checksum_delta(batch_checksum(*before), md5(before[7]), md5(after[7]))
    assert changed == batch_checksum(*after)
