"""Files connector: CSV, JSON lines and Parquet from a local folder or an S3 prefix.

Files of an interval are chosen by ``select`` (see ``FileSelection``) and read in a sorted,
deterministic order, and only from inside the location (``confine.py``): a local file that
resolves out of it (a symlink to ``/etc/passwd``) or a key outside the bucket prefix fails the
extract naming it, before anything is read. Every file is streamed: memory stays flat whatever
its size (an S3 object is read from its response body; a Parquet object, which needs random
access, is spooled to a temporary file first). Records carry their origin as ``<file>:<line>`` (CSV, JSON lines) or
``<file>#<row>`` (Parquet, 1-based); malformed lines become ``Reject``s and reading goes on.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from atlas.batches import Interval
from atlas.config.templates import render
from atlas.connectors.base import DEFAULT_CHUNK_ROWS, Chunk
from atlas.connectors.fields import RecordFields, check_fields
from atlas.connectors.files.config import FileFormat, FilesConnector, FileSelection, FilesEntity, OnMissing
from atlas.connectors.files.confine import confined_file, confined_folder, open_confined, path_problem
from atlas.connectors.files.csv_reader import CsvReader
from atlas.connectors.files.lines import line_reject, read_blocks
from atlas.exceptions import ConnectorError
from atlas.jsonvalues import jsonable

log = logging.getLogger(__name__)

_GLOB_CHARS = re.compile(r"[*?\[]")


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file of an extract: where it is and how it is shown in record locations."""

    name: str
    """``<location>/<relative path>``: what record locations start with."""
    path: Path | None = None
    """Local file (resolved: inside the resolved location), or None for an S3 object."""
    bucket: str | None = None
    key: str | None = None


class FilesSourceConnector:
    """Reads an entity's files of a data interval (implements ``SourceConnector``)."""

    def __init__(self, config: FilesConnector, *, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> None:
        self.config = config
        self.chunk_rows = chunk_rows
        self._s3_hook: Any = None

    # --- SourceConnector -------------------------------------------------------------------
    def extract(self, entity: FilesEntity, interval: Interval) -> Iterator[Chunk]:
        """Yield the records of every file of the interval, file by file, in sorted order.

        An interval without a file, and a file without a record, are handled by the entity's
        ``on_missing`` (a note on the batch, a log line, or a failed task).
        """
        files = self.list_files(entity, interval)
        log.info("%s: %s file(s) for [%s, %s)", entity.name, len(files), interval.start, interval.end)
        if not files:
            where = f"{self.config.location.rstrip('/')}/{self._pattern(entity, interval)}"
            yield self._missing(entity, f"no file matches {where} for [{interval.start}, {interval.end})")
        for source in files:
            log.info("reading %s", source.name)
            read = 0
            for chunk in self._read(source, entity):
                read += len(chunk)
                yield chunk
            if read == 0:
                yield self._missing(
                    entity, f"{source.name} holds no record (an empty file, or a header only)"
                )

    def on_missing(self, entity: FilesEntity) -> OnMissing:
        """The entity's ``on_missing``, else ``fail`` for ``select: path`` and ``warn`` otherwise."""
        if entity.on_missing is not None:
            return entity.on_missing
        return OnMissing.FAIL if self.config.select is FileSelection.PATH else OnMissing.WARN

    def _missing(self, entity: FilesEntity, what: str) -> Chunk:
        policy = self.on_missing(entity)
        if policy is OnMissing.FAIL:
            raise ConnectorError(
                f"{entity.name}: {what}; on_missing is fail: deliver the file, or set "
                "`on_missing: warn` (or `skip`) on the entity if such an interval is expected"
            )
        if policy is OnMissing.WARN:
            log.warning("%s: %s (on_missing: warn)", entity.name, what)
            return Chunk(notes=[f"{what} (on_missing: warn)"])
        log.info("%s: %s (on_missing: skip)", entity.name, what)
        return Chunk()

    def _pattern(self, entity: FilesEntity, interval: Interval) -> str:
        pattern = entity.path
        if self.config.select is FileSelection.PATH:
            pattern = render(pattern, interval.start, interval.end)
        problem = path_problem(pattern)
        if problem:
            raise ConnectorError(f"{entity.name}: path {pattern!r} {problem}")
        return pattern

    # --- listing ---------------------------------------------------------------------------
    def list_files(self, entity: FilesEntity, interval: Interval) -> list[SourceFile]:
        """The files of ``entity`` for ``interval``, sorted by name."""
        pattern = self._pattern(entity, interval)
        bounds = None if self.config.select is FileSelection.PATH else (interval.start, interval.end)
        if self.config.is_s3:
            return self._list_s3(pattern, bounds)
        return self._list_local(pattern, bounds)

    def _list_local(self, pattern: str, bounds: tuple[dt.datetime, dt.datetime] | None) -> list[SourceFile]:
        folder = confined_folder(self.config.location)
        if not folder.is_dir():
            raise ConnectorError(f"files location {folder} is not a directory: create it or fix 'location'")
        found = []
        for path in folder.glob(pattern):
            if not path.is_file():
                continue
            name = f"{self.config.location.rstrip('/')}/{path.relative_to(folder).as_posix()}"
            real = confined_file(path, folder, name)
            if bounds is not None:
                modified = dt.datetime.fromtimestamp(real.stat().st_mtime, tz=dt.UTC)
                if not bounds[0] <= modified < bounds[1]:
                    continue
            found.append(SourceFile(name=name, path=real))
        return sorted(found, key=lambda f: f.name)

    def _list_s3(self, pattern: str, bounds: tuple[dt.datetime, dt.datetime] | None) -> list[SourceFile]:
        bucket, _, prefix = self.config.location.removeprefix("s3://").partition("/")
        prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        literal = _GLOB_CHARS.split(pattern, maxsplit=1)[0]
        matcher = glob_regex(pattern)
        client = self.s3_hook.get_conn()
        found = []
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix + literal)
            for page in pages:
                for item in page.get("Contents", []):
                    if not item["Key"].startswith(prefix):
                        raise ConnectorError(
                            f"s3://{bucket}/{item['Key']} lies outside the prefix {prefix!r}"
                        )
                    relative = item["Key"][len(prefix) :]
                    if not matcher.fullmatch(relative):
                        continue
                    if bounds is not None and not bounds[0] <= item["LastModified"] < bounds[1]:
                        continue
                    name = f"s3://{bucket}/{item['Key']}"
                    found.append(SourceFile(name=name, bucket=bucket, key=item["Key"]))
        except Exception as exc:
            if isinstance(exc, ConnectorError):
                raise
            raise ConnectorError(f"cannot list s3://{bucket}/{prefix}{literal}: {exc}") from exc
        return sorted(found, key=lambda f: f.name)

    @property
    def s3_hook(self) -> Any:
        """The ``S3Hook`` of ``s3_conn_id``, created on first use."""
        if self._s3_hook is None:
            from airflow.providers.amazon.aws.hooks.s3 import S3Hook

            self._s3_hook = S3Hook(aws_conn_id=self.config.s3_conn_id)
        return self._s3_hook

    # --- reading ---------------------------------------------------------------------------
    def _read(self, source: SourceFile, entity: FilesEntity) -> Iterator[Chunk]:
        fmt = self.config.format
        if fmt is FileFormat.PARQUET:
            yield from self._read_parquet(source, entity)
            return
        with self._open_binary(source) as stream:
            if fmt is FileFormat.CSV:
                reader = CsvReader(
                    delimiter=self.config.delimiter,
                    encoding=self.config.encoding,
                    chunk_rows=self.chunk_rows,
                    max_record_bytes=self.config.max_record_bytes,
                    header_check=lambda header: check_fields(header, entity, f"{source.name} header"),
                )
                yield from reader.chunks(stream, source.name)
            else:
                yield from self._read_jsonl(stream, source.name, entity)

    def _open_binary(self, source: SourceFile) -> IO[bytes]:
        if source.path is not None:
            return open_confined(source.path, confined_folder(self.config.location), source.name)
        try:
            body = self.s3_hook.get_key(source.key, source.bucket).get()["Body"]
        except Exception as exc:
            raise ConnectorError(f"cannot read {source.name}: {exc}") from exc
        return io.BufferedReader(_BodyReader(body), buffer_size=1 << 20)

    def _read_jsonl(self, stream: IO[bytes], name: str, entity: FilesEntity) -> Iterator[Chunk]:
        limit = self.config.max_record_bytes
        chunk = Chunk()
        fields = RecordFields(entity, name)
        for block in read_blocks(stream, name, self.config.encoding):
            chunk.rejects.extend(block.rejects)
            for index, line in enumerate(block.lines):
                if not line.strip():
                    continue  # blank lines, and the places of undecodable ones
                number = block.number + index
                if len(line) > limit and len(raw := block.raw(index)) > limit:
                    reason = f"line of {len(raw)} bytes is larger than max_record_bytes ({limit}); its first {limit} bytes are kept"
                    reject = line_reject(
                        name, number, raw[:limit], reason, block.encoding, block.offset_of(index)
                    )
                    chunk.rejects.append(reject)
                    continue
                try:
                    value = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    chunk.rejects.append(block.reject(name, index, f"invalid JSON: {exc}"))
                else:
                    if isinstance(value, dict):
                        chunk.records.append((value, f"{name}:{number}"))
                    else:
                        reason = f"line is a JSON {type(value).__name__}, not an object"
                        chunk.rejects.append(block.reject(name, index, reason))
                if len(chunk) >= self.chunk_rows:
                    yield fields.check(chunk)
                    chunk = Chunk()
        if len(chunk):
            yield fields.check(chunk)

    def _read_parquet(self, source: SourceFile, entity: FilesEntity) -> Iterator[Chunk]:
        import pyarrow.parquet as pq

        if source.path is not None:
            with self._open_binary(source) as handle:
                yield from _parquet_chunks(pq.ParquetFile(handle), source.name, self.chunk_rows, entity)
            return
        with tempfile.NamedTemporaryFile(prefix="atlas-", suffix=".parquet") as spool:
            try:
                self.s3_hook.get_conn().download_fileobj(source.bucket, source.key, spool)
            except Exception as exc:
                raise ConnectorError(f"cannot read {source.name}: {exc}") from exc
            spool.flush()
            yield from _parquet_chunks(pq.ParquetFile(spool.name), source.name, self.chunk_rows, entity)


def _parquet_chunks(parquet: Any, name: str, chunk_rows: int, entity: FilesEntity) -> Iterator[Chunk]:
    import pyarrow as pa

    notes = check_fields(list(parquet.schema_arrow.names), entity, f"{name} schema")

    convert = [
        field.name
        for field in parquet.schema_arrow
        if not (
            pa.types.is_integer(field.type)
            or pa.types.is_floating(field.type)
            or pa.types.is_string(field.type)
            or pa.types.is_large_string(field.type)
            or pa.types.is_boolean(field.type)
            or pa.types.is_null(field.type)
        )
    ]
    row = 0
    for batch in parquet.iter_batches(batch_size=chunk_rows):
        rows = batch.to_pylist()
        for record in rows:
            for column in convert:
                record[column] = jsonable(record[column])
        chunk = Chunk(
            records=[(record, f"{name}#{row + i}") for i, record in enumerate(rows, 1)], notes=notes
        )
        notes = []
        row += len(rows)
        yield chunk


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex matching what ``pattern`` globs: ``*`` and ``?`` stop at ``/``, ``**`` does not."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


class _BodyReader(io.RawIOBase):
    """A raw stream over a botocore ``StreamingBody`` so ``io.BufferedReader`` can wrap it."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._body.close()
        finally:
            super().close()
