"""Text files read as blocks of decoded lines, each line's exact bytes and byte offset known.

The CSV and JSON lines readers share this. The first bytes of a stream are checked for a byte
order mark: a UTF-8, UTF-16 or UTF-32 BOM decides the encoding (and is skipped), otherwise the
source's ``encoding`` applies. For encodings where a newline is the byte ``\\n`` (UTF-8, the
ISO-8859 and Windows code pages) a block is cut at its last newline and decoded in one call;
only a block holding undecodable bytes is decoded line by line, each bad line becoming a reject
that keeps its bytes. UTF-16 and UTF-32 are decoded incrementally and cut into lines as text; an
undecodable sequence there fails the file, naming its byte offset.

A line's bytes are its text encoded again (exact for any text that decoded strictly), and its
offset the sum of the sizes before it; both are computed only for the lines that are rejected.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import IO

from atlas.connectors.base import Reject
from atlas.exceptions import ConnectorError

BLOCK_BYTES = 1 << 22
"""Bytes read per block (cut back to the last newline)."""

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def sniff_encoding(head: bytes, declared: str) -> tuple[str, int]:
    """``(encoding, BOM length)``: the BOM's encoding when ``head`` starts with one, else ``declared``."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    return codecs.lookup(declared).name, 0


def newline_is_one_byte(encoding: str) -> bool:
    """Whether lines of ``encoding`` can be cut at the byte ``\\n`` before decoding."""
    try:
        return "\n".encode(encoding) == b"\n" and "é\n".encode(encoding).endswith(b"\n")
    except UnicodeEncodeError:
        return "\n".encode(encoding) == b"\n"


def line_reject(
    name: str, line_number: int, raw: bytes, reason: str, encoding: str, offset: int | None
) -> Reject:
    """A reject of one physical line: its text (undecodable bytes replaced), its exact bytes, its offset."""
    text = raw.decode(encoding, errors="replace")
    return Reject(
        location=f"{name}:{line_number}",
        line_number=line_number,
        raw=text.rstrip("\r\n"),
        reason=reason,
        raw_bytes=raw,
        byte_offset=offset,
    )


def decode_reject(
    name: str, line_number: int, raw: bytes, exc: UnicodeDecodeError, offset: int, encoding: str
) -> Reject:
    """A reject of a line holding bytes ``encoding`` cannot decode; names the file byte offset."""
    bad = raw[exc.start : exc.end]
    reason = f"cannot decode byte(s) 0x{bad.hex()} at byte offset {offset + exc.start} with {encoding}: {exc.reason}"
    return line_reject(name, line_number, raw, reason, encoding, offset)


class LineBlock:
    """Consecutive lines of a file: their text, first line number and first byte offset."""

    __slots__ = ("_ends", "encoding", "final", "lines", "number", "offset", "rejects", "sizes")

    def __init__(
        self,
        lines: list[str],
        number: int,
        offset: int,
        encoding: str,
        *,
        final: bool,
        rejects: list[Reject] | None = None,
        sizes: list[int] | None = None,
    ) -> None:
        self.lines = lines
        self.number = number
        """Line number of ``lines[0]`` (1-based)."""
        self.offset = offset
        """Byte offset of ``lines[0]`` in the file."""
        self.encoding = encoding
        self.final = final
        """Whether the file ends with this block."""
        self.rejects = rejects or []
        """Lines that could not be decoded (their place in ``lines`` holds a blank line)."""
        self.sizes = sizes
        """Byte size of each line when it is not its text encoded again (undecodable lines)."""
        self._ends: list[int] | None = None

    def raw(self, index: int) -> bytes:
        """The exact bytes of ``lines[index]``."""
        return self.lines[index].encode(self.encoding)

    def offset_of(self, index: int) -> int:
        """Byte offset in the file of ``lines[index]``."""
        if self._ends is None:
            sizes = self.sizes or [len(line.encode(self.encoding)) for line in self.lines]
            ends, total = [], self.offset
            for size in sizes:
                ends.append(total)
                total += size
            self._ends = ends
        return self._ends[index]

    def reject(self, name: str, index: int, reason: str, *, through: int | None = None) -> Reject:
        """A reject of ``lines[index]`` (through ``lines[through]`` for a record over several lines)."""
        end = index + 1 if through is None else through + 1
        raw = b"".join(self.raw(i) for i in range(index, end))
        return line_reject(name, self.number + index, raw, reason, self.encoding, self.offset_of(index))

    def tail(self, index: int) -> LineBlock:
        """The lines from ``index`` on, as a block of their own."""
        return LineBlock(
            self.lines[index:],
            self.number + index,
            self.offset_of(index),
            self.encoding,
            final=self.final,
            sizes=self.sizes[index:] if self.sizes else None,
        )

    def then(self, later: LineBlock) -> LineBlock:
        """This block's lines followed by ``later``'s (a record that crosses blocks)."""
        sizes = None
        if self.sizes or later.sizes:
            mine = self.sizes or [len(line.encode(self.encoding)) for line in self.lines]
            theirs = later.sizes or [len(line.encode(later.encoding)) for line in later.lines]
            sizes = mine + theirs
        return LineBlock(
            self.lines + later.lines,
            self.number,
            self.offset,
            self.encoding,
            final=later.final,
            rejects=later.rejects,
            sizes=sizes,
        )


def read_blocks(
    stream: IO[bytes], name: str, declared: str = "utf-8", block_bytes: int = BLOCK_BYTES
) -> Iterator[LineBlock]:
    """The stream's lines in blocks of about ``block_bytes``, decoded (see the module docstring)."""
    head = stream.read(max(block_bytes, 4))  # a BOM is at most 4 bytes
    encoding, bom = sniff_encoding(head, declared)
    first = head[bom:] or stream.read(block_bytes)  # empty only at the end of the stream
    if newline_is_one_byte(encoding):
        yield from _byte_blocks(first, bom, stream, name, encoding, block_bytes)
    else:
        yield from _text_blocks(first, bom, stream, name, encoding, block_bytes)


def _byte_blocks(
    first: bytes, offset: int, stream: IO[bytes], name: str, encoding: str, block_bytes: int
) -> Iterator[LineBlock]:
    number, rest = 1, b""
    data = first
    while True:
        final = not data
        if final:
            block, rest = rest, b""
        else:
            data = rest + data if rest else data
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                rest = data
                data = stream.read(block_bytes)
                continue
            block, rest = data[:cut], data[cut:]
        decoded = _decode(block, name, number, offset, encoding, final)
        yield decoded
        number += len(decoded.lines)
        offset += len(block)
        if final:
            return
        data = stream.read(block_bytes)


def _decode(block: bytes, name: str, number: int, offset: int, encoding: str, final: bool) -> LineBlock:
    try:
        lines = io.StringIO(block.decode(encoding), newline="").readlines()
        return LineBlock(lines, number, offset, encoding, final=final)
    except UnicodeDecodeError:
        pass
    lines, sizes, rejects = [], [], []
    at = offset
    for index, raw in enumerate(block.splitlines(keepends=True)):
        try:
            lines.append(raw.decode(encoding))
        except UnicodeDecodeError as exc:
            rejects.append(decode_reject(name, number + index, raw, exc, at, encoding))
            lines.append("\n")  # keeps the line numbering; parsed as a blank line
        sizes.append(len(raw))
        at += len(raw)
    return LineBlock(lines, number, offset, encoding, final=final, rejects=rejects, sizes=sizes)


def _text_blocks(
    first: bytes, offset: int, stream: IO[bytes], name: str, encoding: str, block_bytes: int
) -> Iterator[LineBlock]:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    number, consumed, pending = 1, offset, ""
    data = first
    while True:
        final = not data
        try:
            text = pending + decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            raise ConnectorError(
                f"{name}: cannot decode {encoding} at byte offset {consumed + exc.start}: {exc.reason}; "
                "the file is not valid text in that encoding"
            ) from exc
        consumed += len(data)
        lines = io.StringIO(text, newline="").readlines()
        pending = "" if final or not lines or lines[-1].endswith("\n") else lines.pop()
        block = LineBlock(lines, number, offset, encoding, final=final)
        yield block
        number += len(lines)
        offset += sum(len(line.encode(encoding)) for line in lines)
        if final:
            return
        data = stream.read(block_bytes)
