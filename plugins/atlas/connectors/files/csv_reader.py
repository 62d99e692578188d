"""A fast, forgiving CSV reader: the C ``csv`` module over blocks of decoded lines.

The file comes as blocks of whole lines (:mod:`atlas.connectors.files.lines`: BOM detection,
strict decoding, undecodable lines rejected with their bytes and offset). A clean block (every
line one record as wide as the header) is parsed in one ``csv.reader`` pass with no per-row
Python code; its rows are kept as tuples of str in a ``CsvChunk``, whose ``(payload, location)``
records are built only if a consumer asks for them (``BatchWriter`` renders the rows directly).
Any other block is parsed row by row, where odd rows take the slow path:

- the header row is handed to ``header_check`` (:mod:`atlas.connectors.fields`), which fails the
  batch or returns notes for it;
- a row wider or narrower than the header is rejected with both counts;
- a broken quote (``csv`` strict-mode error, or a quoted field that swallowed following lines and
  left a record of the wrong width) rejects the record's first line, and parsing restarts on the
  next line, so the rest of the file is still read;
- a record larger than ``max_record_bytes`` (a quoted field still open past the limit, or a field
  over it) is one reject from its first line to its last, found by quote parity; parsing goes
  on after it;
- a quoted field legitimately spanning lines (right width) is one record at its first line;
- values are kept exactly as read, ``""`` included: ``explore`` holds what the file says, and
  promotion to ``chart`` decides what an empty value means (``empty_as_null``).

Every reject keeps the exact bytes of its line(s), its line number and its byte offset.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import IO, Any

from atlas.connectors.base import DEFAULT_CHUNK_ROWS, Chunk, Reject
from atlas.connectors.files.lines import BLOCK_BYTES, LineBlock, read_blocks

DEFAULT_MAX_RECORD_BYTES = 16 << 20
"""Largest CSV record (all its fields and lines) that lands; a larger one is one reject."""

_END_OF_DATA = "unexpected end of data"
_FIELD_LIMIT = "field larger than field limit"

HeaderCheck = Callable[[list[str]], list[str]]
"""Checks a header row: raises to fail the batch, or returns notes for it (see ``atlas.connectors.fields``)."""


class CsvChunk(Chunk):
    """A chunk of one CSV file kept as parsed: ``rows`` (str sequences, ``""`` for empty) at ``lines``.

    ``records`` (``(payload, "<name>:<line>")`` pairs, values as read) are built on first
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
        self.notes = []
        self._built = False

    @property
    def records(self) -> list[tuple[dict[str, Any], str]]:
        if not self._built:
            header, prefix = self.header, f"{self.name}:"
            _RECORDS.__set__(
                self,
                [
                    (dict(zip(header, row, strict=True)), f"{prefix}{line}")
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

    __slots__ = ("check", "chunk", "header", "limit", "name", "ncols")

    def __init__(self, name: str, limit: int, check: HeaderCheck | None) -> None:
        self.name = name
        self.limit = limit
        self.check = check
        self.header: list[str] = []
        self.ncols = -1  # no header yet: every row takes the slow path until one is found
        self.chunk = CsvChunk(self.header, name)

    def set_header(self, row: Sequence[str]) -> None:
        self.header[:] = list(row)
        self.ncols = len(self.header)
        if self.check is not None:
            self.chunk.notes.extend(self.check(self.header))

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


class _Oversized:
    """A record larger than the limit, skipped line by line until its quotes balance."""

    __slots__ = ("kept", "limit", "lines", "number", "odd", "offset", "size")

    def __init__(self, block: LineBlock, limit: int) -> None:
        self.number = block.number
        self.offset = block.offset
        self.limit = limit
        self.kept: list[bytes] = []
        self.size = 0
        self.lines = 0
        self.odd = False  # an odd number of quote characters so far: a quoted field is open

    def consume(self, block: LineBlock) -> int | None:
        """Take ``block``'s lines up to the record's end; the index after it, or None if it goes on."""
        for index, line in enumerate(block.lines):
            raw = block.raw(index)
            if self.size < self.limit:
                self.kept.append(raw[: self.limit - self.size])
            self.size += len(raw)
            self.lines += 1
            self.odd ^= bool(line.count('"') & 1)
            if not self.odd:
                return index + 1
        return None

    def reject(self, name: str, encoding: str, *, unterminated: bool = False) -> Reject:
        kept = b"".join(self.kept)
        reason = (
            f"record of {self.size} bytes over {self.lines} line(s) is larger than max_record_bytes "
            f"({self.limit}); its first {len(kept)} bytes are kept"
        )
        if unterminated:
            reason += "; its quoted field is still open at the end of the file"
        return Reject(
            location=f"{name}:{self.number}",
            line_number=self.number,
            raw=kept.decode(encoding, errors="replace").rstrip("\r\n"),
            reason=reason,
            raw_bytes=kept,
            byte_offset=self.offset,
        )


class CsvReader:
    """Parses one CSV stream (header row first) into ``CsvChunk``s.

    ``max_record_bytes`` also raises the ``csv`` module's process-wide field size limit to itself
    (a single field may be as large as a record).
    """

    def __init__(
        self,
        *,
        delimiter: str = ",",
        encoding: str = "utf-8",
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        block_bytes: int = BLOCK_BYTES,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        header_check: HeaderCheck | None = None,
    ) -> None:
        self.delimiter = delimiter
        self.encoding = encoding
        self.chunk_rows = chunk_rows
        self.block_bytes = block_bytes
        self.max_record_bytes = max_record_bytes
        self.header_check = header_check
        if csv.field_size_limit() < max_record_bytes:
            csv.field_size_limit(max_record_bytes)

    def chunks(self, stream: IO[bytes], name: str) -> Iterator[Chunk]:
        """Yield the records and rejects of ``stream``; locations are ``<name>:<line>``."""
        state = _Parse(name, self.chunk_rows, self.header_check)
        carry: LineBlock | None = None
        skip: _Oversized | None = None
        encoding = self.encoding
        for block in read_blocks(stream, name, self.encoding, self.block_bytes):
            encoding = block.encoding
            yield from state.add_rejects(block.rejects)
            if carry is not None:
                block, carry = carry.then(block), None
            part: LineBlock | None = block
            while part is not None and part.lines:
                if skip is not None:
                    end = skip.consume(part)
                    if end is None:
                        break
                    yield from state.add_rejects([skip.reject(name, encoding)])
                    skip, part = None, part.tail(end)
                    continue
                # Fast path: the whole block parses as one record per line, each as wide as the header.
                clean = None if part.rejects else self._clean_rows(part.lines, state.ncols)
                if clean is not None:
                    yield from state.add_clean(clean, part.number)
                    break
                outcome = yield from self._parse_rows(state, part)
                if outcome is None:
                    break
                kind, at = outcome
                if kind == "carry":  # a quoted field crosses into the next block
                    carry = part.tail(at)
                    break
                skip, part = _Oversized(part.tail(at), self.max_record_bytes), part.tail(at)
        if skip is not None:
            yield from state.add_rejects([skip.reject(name, encoding, unterminated=True)])
        if len(state.chunk):
            yield state.chunk

    def _parse_rows(self, state: _Parse, block: LineBlock) -> Generator[Chunk, None, tuple[str, int] | None]:
        """The slow path, row by row; ``("carry" | "skip", index)`` of an open record, or None."""
        name, limit, lines = state.name, state.limit, block.lines
        count = len(lines)
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
            offset = block.number + pos - 1
            prev = 0
            restart = count
            try:
                for row in reader:
                    line = reader.line_num
                    if line - prev == 1 and len(row) == state.ncols:
                        rows_append(row)
                        lines_append(offset + line)
                    else:
                        if _odd_row(state, chunk, block, row, pos + prev, line - prev):
                            restart = pos + prev + 1
                            break
                        room = limit - len(chunk.rejects)
                    prev = line
                    if len(chunk.rows) >= room:
                        yield chunk
                        chunk = state.chunk = CsvChunk(state.header, name)
                        rows_append, lines_append = chunk.rows.append, chunk.lines.append
                        room = limit
            except csv.Error as exc:
                first = pos + prev
                message = str(exc)
                if message.startswith(_FIELD_LIMIT):
                    return ("skip", first)
                if message.startswith(_END_OF_DATA) and not block.final:
                    return ("carry" if self._fits(lines, first) else "skip", first)
                reason = f"malformed CSV: {exc}"
                if message.startswith(_END_OF_DATA):
                    if not self._fits(lines, first):
                        return ("skip", first)
                    reason = "unterminated quoted field: no closing quote before the end of the file"
                chunk.rejects.append(block.reject(name, first, reason))
                restart = first + 1
            pos = restart
        return None

    def _fits(self, lines: list[str], first: int) -> bool:
        """Whether the open record from ``lines[first]`` is within ``max_record_bytes`` (counted in characters)."""
        return sum(map(len, lines[first:])) <= self.max_record_bytes

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


def _odd_row(state: _Parse, chunk: CsvChunk, block: LineBlock, row: list[str], first: int, span: int) -> bool:
    """A row off the fast line at ``block.lines[first]``, over ``span`` lines: a blank line, the
    header, a record over several lines, or a reject. True when parsing must restart after its
    first line (a quoted field that swallowed the lines after it)."""
    if not row:
        return False  # a blank line (or the placeholder of an undecodable one)
    if state.ncols < 0:
        state.set_header(row)
        return False
    if len(row) == state.ncols:
        chunk.rows.append(row)
        chunk.lines.append(block.number + first)
        return False
    if span == 1:
        reason = f"row has {len(row)} fields, header has {state.ncols}"
        chunk.rejects.append(block.reject(state.name, first, reason))
        return False
    reason = (
        f"unterminated quoted field: the record starting here runs over {span} lines into "
        f"{len(row)} fields, header has {state.ncols}"
    )
    chunk.rejects.append(block.reject(state.name, first, reason))
    return True
