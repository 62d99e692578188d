"""Configuration of the files connector: the ``connector:`` section and where each entity's files are.

A local ``location`` must stay below the source roots (``$ATLAS_SOURCE_ROOT``, default
``include/``) and a ``path`` below its location or bucket prefix; both are refused on load
otherwise (``confine.py``), and checked again when the files are read.
"""

from __future__ import annotations

import codecs
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from atlas.config.connectors import ConnectorConfig
from atlas.config.source import Entity
from atlas.config.templates import SAMPLE_END, SAMPLE_START, IntervalTemplate, render
from atlas.config.types import ConnId
from atlas.connectors.files.confine import location_problem, path_problem


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


class FileSelection(StrEnum):
    """How the files of a data interval are chosen."""

    PATH = "path"
    """The entity's ``path`` template, formatted with the interval, names them."""
    MODIFIED = "modified"
    """Every file under ``path`` modified within the interval ``[start, end)``."""


class OnMissing(StrEnum):
    """What an interval with no file, an empty file or a file without records means."""

    FAIL = "fail"
    """Fail the land task: a late or missing delivery is never taken for a quiet day."""
    WARN = "warn"
    """Land what there is, log a warning and record it in the batch's ``pipeline.batches.notes``."""
    SKIP = "skip"
    """A quiet day: land what there is and say so in the task log only."""


MAX_RECORD_BYTES = 16 << 20
"""Default ``max_record_bytes``: 16 MiB."""


class FilesConnector(ConnectorConfig):
    """Files (CSV, JSON lines, Parquet) in a local folder or under an S3 prefix."""

    type: Literal["files"] = "files"
    """This connector."""
    format: FileFormat
    """``csv``, ``jsonl`` (one JSON object per line) or ``parquet``."""
    location: str
    """A local folder or ``s3://bucket/prefix``. A local folder is relative to the project root
    unless absolute, and must lie below the source roots: ``$ATLAS_SOURCE_ROOT`` (folders separated
    by ``:``, relative ones under the project root; default ``include/``), symlinks followed; a
    ``..`` segment, or a folder (or symlink) leading out of the roots, is refused."""
    s3_conn_id: ConnId = "atlas_s3"
    """The ``aws`` connection used when ``location`` is an ``s3://`` URL."""
    select: FileSelection = FileSelection.PATH
    """How an interval's files are chosen: ``path`` (the entity's path template names them) or
    ``modified`` (every file under ``path`` modified within the interval)."""
    delimiter: Annotated[str, StringConstraints(min_length=1, max_length=1)] = ","
    """csv: field delimiter."""
    encoding: str = "utf-8"
    """csv / jsonl: text encoding (a UTF-8, UTF-16 or UTF-32 byte order mark overrides it);
    undecodable lines are quarantined with their exact bytes and byte offset."""
    max_record_bytes: int = Field(default=MAX_RECORD_BYTES, ge=1024, le=1 << 30)
    """csv / jsonl: the largest record (a CSV record over several lines counts whole) that lands;
    a larger one is one reject naming this limit, with its first ``max_record_bytes`` bytes kept."""

    @field_validator("location")
    @classmethod
    def _location_confined(cls, value: str) -> str:
        if value.startswith("s3://"):
            bucket, _, prefix = value.removeprefix("s3://").partition("/")
            if not bucket:
                raise ValueError("names no bucket: write s3://bucket or s3://bucket/prefix")
            problem = "has a '..' segment in its prefix: remove it" if ".." in prefix.split("/") else None
        else:
            problem = location_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                "is not an encoding Python knows (e.g. utf-8, latin-1, cp1252, utf-16)"
            ) from None
        return value

    @property
    def is_s3(self) -> bool:
        return self.location.startswith("s3://")

    def summary(self) -> str:
        return f"files: {self.format.value} from `{self.location}` (select by {self.select.value})"

    def lineage_dataset(self, entity: Any) -> tuple[str, str]:
        """``s3://bucket`` and the key pattern, or ``file`` and the local path pattern."""
        if self.is_s3:
            bucket, _, prefix = self.location[len("s3://") :].partition("/")
            return f"s3://{bucket}", "/".join(part for part in (prefix.strip("/"), entity.path) if part)
        from atlas.connectors.files.confine import local_path  # as the reader resolves it

        return "file", str(local_path(self.location).resolve() / entity.path)


class FilesEntity(Entity):
    """An entity read from files."""

    path: IntervalTemplate
    """A glob below the connector's location (or bucket prefix); with ``select: path`` it is
    formatted with the interval, e.g. ``customers/{start:%Y-%m}/*.csv``: only the fields
    ``start`` and ``end`` (the interval bounds), each with an optional strftime format. A leading
    ``/`` or a ``..`` segment is refused: a path never leaves its location."""
    on_missing: OnMissing | None = None
    """What an interval with no file, an empty file or a file without records (a CSV header only)
    means: ``fail``, ``warn`` or ``skip``; default ``fail`` with ``select: path`` (the path names
    the interval's file, so it must be there) and ``warn`` with ``select: modified``."""

    @field_validator("path")
    @classmethod
    def _path_below_location(cls, value: str) -> str:
        problem = path_problem(render(value, SAMPLE_START, SAMPLE_END))
        if problem:
            raise ValueError(problem)
        return value

    def location(self) -> str:
        return self.path
