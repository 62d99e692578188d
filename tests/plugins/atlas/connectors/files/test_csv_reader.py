"""CsvReader: clean blocks parsed whole, odd ones row by row, rejects with reasons, line numbers."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas.connectors.files.csv_reader import CsvChunk, CsvReader

NAME = "f.csv"
HEADER = b"id,name,city\n"
BOM = b"\xef\xbb\xbf"
WHOLE = 1 << 22
"""A block size larger than every test file: the file is one block."""

MIXED = (
    BOM
    + HEADER
    + b"1,plain,Oslo\n"
    + b'2,"two\nlines",Rome\n'
    + b'3,"a,b",\n'
    + b"\n"
    + b"4,wide,x,y\n"
    + b"5,J\xc3\x28rg,Bern\n"
    + b'6,"three\n\nlines",Nice\n'
    + b"7,narrow\n"
    + b'8,"q""uote",Oslo\n'
    + b'9,"open,Lima\n'
    + b"10,last,Kiev\n"
)
"""Every kind of line the reader meets, each at a known line number (see the test below)."""


def read(body: bytes, **options: Any) -> list[Any]:
    """Every chunk (each a ``CsvChunk``) of ``body`` read by a ``CsvReader`` with ``options``."""
    chunks = list(CsvReader(**options).chunks(io.BytesIO(body), NAME))
    assert all(isinstance(chunk, CsvChunk) for chunk in chunks)
    return chunks


def rows(chunks: list[CsvChunk]) -> list[tuple[tuple[str, ...], int]]:
    """Each parsed row (as a tuple) with its line number, in file order."""
    return [(tuple(row), line) for chunk in chunks for row, line in zip(chunk.rows, chunk.lines, strict=True)]


def rejects(chunks: list[CsvChunk]) -> list[tuple[int | None, str, str, str]]:
    """Each reject as ``(line, reason, raw, location)``, by line (undecodable lines come per block)."""
    found = [(r.line_number, r.reason, r.raw, r.location) for chunk in chunks for r in chunk.rejects]
    return sorted(found, key=lambda reject: reject[0] or 0)


def lines(count: int, start: int = 1) -> bytes:
    """``count`` well-formed rows numbered from ``start``."""
    return b"".join(f"{i},name {i},city {i % 3}\n".encode() for i in range(start, start + count))


def test_the_mixed_file_reads_to_its_rows_and_rejects() -> None:
    """Rows, multi-line records and rejects of the mixed file land at their physical line numbers."""
    chunks = read(MIXED)
    assert rows(chunks) == [
        (("1", "plain", "Oslo"), 2),
        (("2", "two\nlines", "Rome"), 3),
        (("3", "a,b", ""), 5),
        (("6", "three\n\nlines", "Nice"), 9),
        (("8", 'q"uote', "Oslo"), 13),
        (("10", "last", "Kiev"), 15),
    ]
    assert [(line, reason) for line, reason, _, _ in rejects(chunks)] == [
        (7, "row has 4 fields, header has 3"),
        (8, "cannot decode byte(s) 0xc3 at byte offset 72 with utf-8: invalid continuation byte"),
        (12, "row has 2 fields, header has 3"),
        (14, "unterminated quoted field: no closing quote before the end of the file"),
    ]


def test_clean_and_dirty_blocks_parse_to_the_same_rows() -> None:
    """A block parsed in one pass (clean) and one parsed row by row (dirty) give the same rows."""
    body = HEADER + b"".join(
        f'{i},"name, ""{i}""",{"" if i % 2 else "Oslo"}\n'.encode() for i in range(1, 40)
    )
    clean = read(body)
    dirty = read(body + b"40,wide,row,extra\n")
    # The fast path keeps tuples, the row-by-row path csv's lists: both paths really ran.
    assert all(isinstance(row, tuple) for chunk in clean for row in chunk.rows)
    assert all(isinstance(row, list) for chunk in dirty for row in chunk.rows)
    assert rows(dirty) == rows(clean)
    assert rows(clean)[0] == (("1", 'name, "1"', ""), 2)
    assert [line for line, *_ in rejects(dirty)] == [41]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param(b"2,wide,row,extra\n", "row has 4 fields, header has 3", id="wider"),
        pytest.param(b"2,narrow\n", "row has 2 fields, header has 3", id="narrower"),
        pytest.param(b"2\n", "row has 1 fields, header has 3", id="one-field"),
    ],
)
def test_a_row_of_another_width_is_rejected_with_both_counts(line: bytes, reason: str) -> None:
    """A wide or narrow row is a reject at its line, naming both widths; the rest is read."""
    chunks = read(HEADER + b"1,a,Oslo\n" + line + b"3,c,Rome\n")
    assert rejects(chunks) == [(3, reason, line.decode().rstrip("\n"), f"{NAME}:3")]
    assert rows(chunks) == [(("1", "a", "Oslo"), 2), (("3", "c", "Rome"), 4)]


@pytest.mark.parametrize(
    ("broken", "reason", "after"),
    [
        pytest.param(
            b'2,"open,Oslo\n3,c,Rome\n4,d,Nice\n',
            "unterminated quoted field: no closing quote before the end of the file",
            [(("3", "c", "Rome"), 4), (("4", "d", "Nice"), 5)],
            id="never-closed",
        ),
        pytest.param(
            b'2,"open\n3",x,y\n4,d,Nice\n',
            "unterminated quoted field: the record starting here runs over 2 lines into 4 fields, "
            "header has 3",
            [(('3"', "x", "y"), 4), (("4", "d", "Nice"), 5)],
            id="closed-lines-later-at-the-wrong-width",
        ),
        pytest.param(
            b'2,"bad"quote,Oslo\n3,c,Rome\n',
            "malformed CSV: ',' expected after '\"'",
            [(("3", "c", "Rome"), 4)],
            id="text-after-closing-quote",
        ),
    ],
)
def test_a_broken_quote_rejects_its_first_line_and_reading_restarts_after_it(
    broken: bytes, reason: str, after: list[tuple[tuple[str, ...], int]]
) -> None:
    """A broken quote is one reject at the record's first line; the next line is read again."""
    chunks = read(HEADER + b"1,a,Oslo\n" + broken)
    raw = broken.decode().split("\n")[0]
    assert rejects(chunks) == [(3, reason, raw, f"{NAME}:3")]
    assert rows(chunks) == [(("1", "a", "Oslo"), 2), *after]


@pytest.mark.parametrize("ending", [pytest.param(b"\n", id="lf"), pytest.param(b"\r\n", id="crlf")])
def test_a_quoted_field_spanning_lines_is_one_record_at_its_first_line(ending: bytes) -> None:
    """A quoted value holding line breaks is one record numbered by its first line, breaks kept."""
    body = (HEADER + b'1,"Anna\nMaria\n",Berlin\n2,"",Rome\n').replace(b"\n", ending)
    chunks = read(body)
    newline = ending.decode()
    assert rows(chunks) == [(("1", f"Anna{newline}Maria{newline}", "Berlin"), 2), (("2", "", "Rome"), 5)]
    assert rejects(chunks) == []


def test_a_quoted_field_crossing_a_block_boundary_is_carried_into_the_next_block() -> None:
    """A block that ends inside a quoted value is carried over, so the record is read whole."""
    first_block = HEADER + b'1,"first\n'
    body = first_block + b'second",Oslo\n2,b,Rome\n'
    assert first_block.count(b'"') == 1  # the block cut falls inside the quoted value
    chunks = read(body, block_bytes=len(first_block))
    assert rows(chunks) == [(("1", "first\nsecond", "Oslo"), 2), (("2", "b", "Rome"), 4)]
    assert rejects(chunks) == []


def test_every_block_and_chunk_size_reads_the_mixed_file_alike() -> None:
    """Cutting the file into blocks at every possible byte changes no row, line or reject."""
    expected_rows, expected_rejects = rows(read(MIXED)), rejects(read(MIXED))
    for block_bytes in range(1, len(MIXED) + 2):
        for chunk_rows in (1, 3, 10_000):
            chunks = read(MIXED, block_bytes=block_bytes, chunk_rows=chunk_rows)
            assert rows(chunks) == expected_rows, (block_bytes, chunk_rows)
            assert rejects(chunks) == expected_rejects, (block_bytes, chunk_rows)


@pytest.mark.parametrize(
    "block_bytes", [pytest.param(WHOLE, id="one-block"), pytest.param(7, id="small-blocks")]
)
def test_an_undecodable_line_is_rejected_naming_its_file_byte_offset(block_bytes: int) -> None:
    """Bytes the encoding cannot decode reject their line, naming the byte's offset in the file."""
    body = HEADER + b"1,ok,Oslo\n" + b"2,J\xc3\x28rg,Bern\n" + b"3,fine,Rome\n"
    offset = len(HEADER + b"1,ok,Oslo\n2,J")
    chunks = read(body, block_bytes=block_bytes)
    assert rejects(chunks) == [
        (
            3,
            f"cannot decode byte(s) 0xc3 at byte offset {offset} with utf-8: invalid continuation byte",
            "2,J\ufffd(rg,Bern",
            f"{NAME}:3",
        )
    ]
    assert rows(chunks) == [(("1", "ok", "Oslo"), 2), (("3", "fine", "Rome"), 4)]


@pytest.mark.parametrize(
    ("encoding", "expected_rows", "expected_rejects"),
    [
        pytest.param("cp1252", [(("1", "Zoë", "Köln"), 2)], 0, id="its-encoding"),
        pytest.param("utf-8", [], 1, id="another-encoding"),
    ],
)
def test_lines_are_decoded_with_the_readers_encoding(
    encoding: str, expected_rows: list, expected_rejects: int
) -> None:
    """The reader decodes with its encoding; text in another one is rejected, not misread."""
    chunks = read(HEADER + "1,Zoë,Köln\n".encode("cp1252"), encoding=encoding)
    assert rows(chunks) == expected_rows
    assert len(rejects(chunks)) == expected_rejects


@pytest.mark.parametrize(
    "tail", [pytest.param(b"", id="clean-block"), pytest.param(b"3,wide,row,extra\n", id="dirty-block")]
)
def test_a_byte_order_mark_is_stripped_from_the_header(tail: bytes) -> None:
    """A UTF-8 byte order mark never becomes part of the first column's name."""
    chunks = read(BOM + HEADER + b"1,a,Oslo\n2,,Rome\n" + tail)
    assert chunks[0].header == ["id", "name", "city"]
    assert [payload for payload, _ in chunks[0].records] == [
        {"id": "1", "name": "a", "city": "Oslo"},
        {"id": "2", "name": "", "city": "Rome"},
    ]


def test_the_delimiter_is_the_readers() -> None:
    """With ``delimiter=';'`` commas are plain text and semicolons separate fields."""
    chunks = read(b"id;note\n1;a,b\n", delimiter=";")
    assert chunks[0].header == ["id", "note"]
    assert rows(chunks) == [(("1", "a,b"), 2)]


@pytest.mark.parametrize(
    ("body", "sizes"),
    [
        pytest.param(HEADER + lines(25), [10, 10, 5], id="clean"),
        pytest.param(
            HEADER + lines(12) + b"x,wide,row,extra\n" + lines(13, 13) + b"y,narrow\n",
            [10, 10, 7],
            id="dirty",
        ),
    ],
)
def test_chunks_hold_chunk_rows_rows_and_rejects_at_most(body: bytes, sizes: list[int]) -> None:
    """Chunks fill up to ``chunk_rows`` (rows plus rejects) and lose nothing."""
    chunks = read(body, chunk_rows=10)
    assert [len(chunk) for chunk in chunks] == sizes
    assert [line for _, line in rows(chunks)] == sorted(
        set(range(2, sum(sizes) + 2)) - {line for line, *_ in rejects(chunks)}
    )


def test_undecodable_lines_do_not_overfill_a_chunk() -> None:
    """A block's decode rejects join a partly filled chunk without pushing it past ``chunk_rows``."""
    first_block = HEADER + b"1,a,b\n2,c,d\n"  # two rows: the chunk is partly filled
    body = first_block + b"3,\xff,x\n4,\xff,x\n5,\xff,x\n" + b"6,e,f\n"
    chunks = read(body, chunk_rows=3, block_bytes=len(first_block))
    assert sum(map(len, chunks)) == 6
    assert max(map(len, chunks)) <= 3


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(HEADER, id="header-only"),
        pytest.param(HEADER.rstrip(b"\n"), id="header-without-newline"),
        pytest.param(b"\n\n", id="blank-lines"),
    ],
)
def test_a_file_without_rows_yields_no_chunk(body: bytes) -> None:
    """An empty file, a lone header or blank lines yield nothing at all."""
    assert read(body) == []


def test_the_last_line_needs_no_newline() -> None:
    """A final row without a line break is read like any other."""
    assert rows(read(HEADER + b"1,a,Oslo\n2,b,Rome")) == [(("1", "a", "Oslo"), 2), (("2", "b", "Rome"), 3)]


def test_records_are_built_on_demand_as_read_with_locations() -> None:
    """``records`` turns rows into payloads (empty values kept as "") at ``<name>:<line>``, once."""
    (chunk,) = read(HEADER + b"1,,Oslo\n2,b,\n")
    assert not chunk.built
    assert chunk.records == [
        ({"id": "1", "name": "", "city": "Oslo"}, f"{NAME}:2"),
        ({"id": "2", "name": "b", "city": ""}, f"{NAME}:3"),
    ]
    assert chunk.built
    assert chunk.rows == [("1", "", "Oslo"), ("2", "b", "")]  # rows keep the empty strings
    assert len(chunk) == 2


def test_records_set_on_a_chunk_replace_its_rows() -> None:
    """Assigning ``records`` makes them the chunk's content (a consumer rewrote the payloads)."""
    (chunk,) = read(HEADER + b"1,a,Oslo\n2,b,Rome\n2,wide,row,extra\n")
    chunk.records = [({"id": "1"}, "elsewhere:2")]
    assert chunk.built
    assert chunk.records == [({"id": "1"}, "elsewhere:2")]
    assert len(chunk) == 1 + 1  # the one record and the chunk's reject


UNDECODABLE = b"9,\xff,undecodable\n"
_LINE_KINDS = [
    b"1,a,b\n",
    b'2,"x\ny",z\n',
    b'3,"",\n',
    b"4,narrow\n",
    b"5,a,b,wide\n",
    b"\n",
    b'6,"open,b\n',
    b'7,"q""q",r\n',
    b'8,"bad"x,y\n',
    UNDECODABLE,
    b"\r\n",
]


@settings(max_examples=200, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(_LINE_KINDS), max_size=30),
    block_bytes=st.integers(min_value=1, max_value=80),
    chunk_rows=st.integers(min_value=1, max_value=7),
)
def test_any_file_reads_alike_in_any_block_and_chunk_size(
    kinds: list[bytes], block_bytes: int, chunk_rows: int
) -> None:
    """Whatever the lines, small blocks and chunks read the rows and rejects of one whole block."""
    body = BOM + HEADER + b"".join(kinds)
    chunks = read(body, block_bytes=block_bytes, chunk_rows=chunk_rows)
    assert rows(chunks) == rows(read(body))
    assert rejects(chunks) == rejects(read(body))
    if UNDECODABLE not in kinds:  # see test_undecodable_lines_do_not_overfill_a_chunk
        assert all(len(chunk) <= chunk_rows for chunk in chunks)
