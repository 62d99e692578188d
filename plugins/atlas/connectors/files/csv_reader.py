"""A fast, forgiving CSV reader: the C ``csv`` module over strictly decoded blocks of lines.

The file is read in blocks of whole lines. A block is decoded in one call; only a block holding
undecodable bytes is decoded line by line, and each bad line becomes a ``Reject`` naming the byte
offset. A clean block (every line one record as wide as the header) is parsed in one
``csv.reader`` pass with no per-row Python code; its rows are kept as tuples of str in a
``CsvChunk``, whose ``(payload, location)`` records are built only if a consumer asks for them
(``BatchWriter`` renders the rows directly). Any other block is parsed row by row, where odd rows
take the slow path:

- a row wider or narrower than the header is rejected with both counts;
- a broken quote (``csv`` strict-mode error, or a quoted field that swallowed following lines and
  left a record of the wrong width) rejects the record's first line, and parsing restarts on the
  next line, so the rest of the file is still read;
- empty values become None (in ``records``; ``rows`` keep ``""``);
- a quoted field legitimately spanning lines (right width) is one record at its first line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator, Sequence
from typing import IO, Any

from atlas.connectors.base import DEFAULT_CHUNK_ROWS, Chunk, Reject

BLOCK_BYTES = 1 << 22
"""Bytes read per block (cut back to the last newline)."""

_END_OF_DATA = "unexpected end of data"


def line_reject(name: str, line_number: int, raw: bytes | str, reason: str, encoding: str) -> Reject:
    """A reject of one physical line; ``raw`` is decoded with replacement characters."""
    text = raw if isinstance(raw, str) else raw.decode(encoding, errors="replace")
    return Reject(
        location=f"{name}:{line_number}", line_number=line_number, raw=text.rstrip("\r\n"), reason=reason
    )


def decode_reject(
    name: str, line_number: int, raw: bytes, exc: UnicodeDecodeError, line_offset: int, encoding: str
) -> Reject:
    """A reject of a line holding bytes ``encoding`` cannot decode; names the file byte offset."""
    bad = raw[exc.start : exc.end]
    reason = (
        f"cannot decode byte(s) 0x{bad.hex()} at byte offset {line_offset + exc.start} "
        f"with {encoding}: {exc.reason}"
    )
    return line_reject(name, line_number, raw, reason, encoding)


class CsvChunk(Chunk):
    """A chunk of one CSV file kept as parsed: ``rows`` (str sequences, ``""`` for empty) at ``lines``.

    ``records`` (``(payload, "<name>:<line>")`` pairs, empty values as None) are built on first
    access only, so a consumer that reads ``rows`` directly (``BatchWriter``) skips one dict and
    one location string per row.
    """

    __slots__ = ("_built", "header", "lines", "name", "rows")

    def __init__(self, header: list[str], name: str) -> None:
        self.header = header
        self.name = name
        self.rows: list[Sequence[str]] = []
        self.lines: list[int] = []
        self.rejects = []
        self._built = False

    @property
    def records(self) -> list[tuple[dict[str, Any], str]]:
        if not self._built:
            header, prefix = self.header, f"{self.name}:"
            _RECORDS.__set__(
                self,
                [
                    (dict(zip(header, [value or None for value in row], strict=True)), f"{prefix}{line}")
                    for row, line in zip(self.rows, self.lines, strict=True)
                ],
            )
            self._built = True
        built: list[tuple[dict[str, Any], str]] = _RECORDS.__get__(self)
        return built

    @records.setter
    def records(self, value: list[tuple[dict[str, Any], str]]) -> None:
        _RECORDS.__set__(self, value)
        self._built = True

    @property
    def built(self) -> bool:
        """Whether ``records`` was built (or set): then it, not ``rows``, is the chunk's content."""
        return self._built

    def __len__(self) -> int:
        return len(self.records if self._built else self.rows) + len(self.rejects)


_RECORDS = Chunk.__dict__["records"]
"""``Chunk``'s own slot behind ``CsvChunk.records``."""


class _Parse:
    """The state of one stream's parse: its header, the header's width, the chunk being filled."""

    __slots__ = ("chunk", "header", "limit", "name", "ncols")

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.header: list[str] = []
        self.ncols = -1  # no header yet: every row takes the slow path until one is found
        self.chunk = CsvChunk(self.header, name)

    def set_header(self, row: Sequence[str]) -> None:
        self.header[:] = [row[0].lstrip("\ufeff"), *row[1:]]
        self.ncols = len(self.header)

    def add_rejects(self, rejects: list[Reject]) -> Iterator[CsvChunk]:
        """Add a block's decode rejects, yielding each chunk they fill."""
        done = 0
        while done < len(rejects):
            if len(self.chunk) >= self.limit:
                yield self.chunk
                self.chunk = CsvChunk(self.header, self.name)
            take = rejects[done : done + self.limit - len(self.chunk)]
            self.chunk.rejects.extend(take)
            done += len(take)

    def add_clean(self, clean: list[Sequence[str]], base: int) -> Iterator[CsvChunk]:
        """Add a clean block's rows (the header first, if none yet), yielding each chunk they fill."""
        done = 0
        if self.ncols < 0:
            self.set_header(clean[0])
            done = 1
        while done < len(clean):
            if len(self.chunk) >= self.limit:
                yield self.chunk
                self.chunk = CsvChunk(self.header, self.name)
            take = clean[done : done + self.limit - len(self.chunk)]
            self.chunk.rows += take
            self.chunk.lines += range(base + done, base + done + len(take))
            done += len(take)


class CsvReader:
    """Parses one CSV stream (header row first) into ``CsvChunk``s."""

    def __init__(
        self,
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        block_bytes: int = BLOCK_BYTES,
    ) -> None:
        self.delimiter = delimiter
        self.encoding = encoding
        self.chunk_rows = chunk_rows
        self.block_bytes = block_bytes

    def chunks(self, stream: IO[bytes], name: str) -> Iterator[Chunk]:
        """Yield the records and rejects of ``stream``; locations are ``<name>:<line>``."""
        state = _Parse(name, self.chunk_rows)
        carry: list[str] = []
        carry_base = 1
        for lines, base, final, decode_rejects in self._blocks(stream, name):
            yield from state.add_rejects(decode_rejects)
            if carry:
                lines, base, carry = carry + lines, carry_base, []
            # Fast path: the whole block parses as one record per line, each as wide as the header.
            clean = None if decode_rejects else self._clean_rows(lines, state.ncols)
            if clean is not None:
                yield from state.add_clean(clean, base)
                continue
            carry_at = yield from self._parse_rows(state, lines, base, final)
            if carry_at is not None:  # a quoted field crosses into the next block
                carry, carry_base = lines[carry_at:], base + carry_at
        if len(state.chunk):
            yield state.chunk

    def _parse_rows(  # noqa: C901 - one hot loop
        self, state: _Parse, lines: list[str], base: int, final: bool
    ) -> Generator[Chunk, None, int | None]:
        """The slow path: ``lines`` row by row; returns where to carry an open quote, if anywhere."""
        name, limit, count = state.name, state.limit, len(lines)
        chunk = state.chunk
        rows_append, lines_append = chunk.rows.append, chunk.lines.append
        pos = 0
        while pos < count:
            if len(chunk) >= limit:
                yield chunk
                chunk = state.chunk = CsvChunk(state.header, name)
                rows_append, lines_append = chunk.rows.append, chunk.lines.append
            room = limit - len(chunk.rejects)
            source = iter(lines)
            source.__setstate__(pos)  # type: ignore[attr-defined]
            reader = csv.reader(source, delimiter=self.delimiter, strict=True)
            offset = base + pos - 1
            prev = 0
            restart = count
            try:
                for row in reader:
                    line = reader.line_num
                    if line - prev == 1 and len(row) == state.ncols:
                        rows_append(row)
                        lines_append(offset + line)
                    else:
                        first = pos + prev
                        if not row:
                            pass  # a blank line (or the placeholder of an undecodable one)
                        elif state.ncols < 0:
                            state.set_header(row)
                        elif len(row) != state.ncols:
                            reason = f"row has {len(row)} fields, header has {state.ncols}"
                            if line - prev > 1:
                                reason = (
                                    f"unterminated quoted field: the record starting here runs over "
                                    f"{line - prev} lines into {len(row)} fields, header has {state.ncols}"
                                )
                            chunk.rejects.append(line_reject(name, base + first, lines[first], reason, ""))
                            if line - prev > 1:
                                restart = first + 1
                                break
                        else:
                            rows_append(row)
                            lines_append(base + first)
                        room = limit - len(chunk.rejects)
                    prev = line
                    if len(chunk.rows) >= room:
                        yield chunk
                        chunk = state.chunk = CsvChunk(state.header, name)
                        rows_append, lines_append = chunk.rows.append, chunk.lines.append
                        room = limit
            except csv.Error as exc:
                first = pos + prev
                if str(exc).startswith(_END_OF_DATA) and not final and _fits(lines, first):
                    return first
                reason = f"malformed CSV: {exc}"
                if str(exc).startswith(_END_OF_DATA):
                    reason = "unterminated quoted field: no closing quote before the end of the file"
                chunk.rejects.append(line_reject(name, base + first, lines[first], reason, ""))
                restart = first + 1
            pos = restart
        return None

    def _clean_rows(self, lines: list[str], ncols: int) -> list[Sequence[str]] | None:
        """The rows of ``lines`` if each line is one record as wide as the header, else None.

        With no header yet (``ncols`` < 0) the first line is the header and sets the width.
        """
        reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
        try:
            # Tuples of str leave the cyclic GC's care at its next pass; lists would stay, and
            # tens of thousands of them alive per block make every full collection slower.
            rows = list(map(tuple, reader))
        except csv.Error:
            return None
        if len(rows) != len(lines) or reader.line_num != len(lines):
            return None  # a record spans lines (legitimately or through a broken quote)
        body = rows
        if ncols < 0:
            if not rows or not rows[0]:
                return None
            ncols, body = len(rows[0]), rows[1:]
        if body and set(map(len, body)) != {ncols}:
            return None  # a wide, narrow or blank line
        return list(rows)

    def _blocks(self, stream: IO[bytes], name: str) -> Iterator[tuple[list[str], int, bool, list[Reject]]]:
        """``(lines, line number of lines[0], is last block, decode rejects)`` per block of lines."""
        line_number, offset, rest = 1, 0, b""
        while True:
            data = stream.read(self.block_bytes)
            final = not data
            if final:
                block, rest = rest, b""
            else:
                data = rest + data if rest else data
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    rest = data
                    continue
                block, rest = data[:cut], data[cut:]
            lines, rejects = self._decode(block, name, line_number, offset)
            yield lines, line_number, final, rejects
            line_number += len(lines)
            offset += len(block)
            if final:
                return

    def _decode(
        self, block: bytes, name: str, line_number: int, offset: int
    ) -> tuple[list[str], list[Reject]]:
        try:
            return io.StringIO(block.decode(self.encoding), newline="").readlines(), []
        except UnicodeDecodeError:
            pass
        lines: list[str] = []
        rejects: list[Reject] = []
        for index, raw in enumerate(block.splitlines(keepends=True)):
            try:
                lines.append(raw.decode(self.encoding))
            except UnicodeDecodeError as exc:
                rejects.append(decode_reject(name, line_number + index, raw, exc, offset, self.encoding))
                lines.append("\n")  # keeps the line numbering; parsed as a blank line
            offset += len(raw)
        return lines, rejects


def _fits(lines: list[str], first: int) -> bool:
    """Whether the open record from ``lines[first]`` is small enough to carry into the next block."""
    return sum(map(len, lines[first:])) <= 4 * csv.field_size_limit()
