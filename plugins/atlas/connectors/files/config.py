"""Configuration of the files connector: the ``connector:`` section and where each entity's files are."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import StringConstraints

from atlas.config.connectors import ConnectorConfig
from atlas.config.source import Entity
from atlas.config.types import ConnId


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


class FilesConnector(ConnectorConfig):
    """Files (CSV, JSON lines, Parquet) in a local folder or under an S3 prefix."""

    type: Literal["files"] = "files"
    format: FileFormat
    location: str
    """A local folder (relative paths are relative to the project root) or ``s3://bucket/prefix``."""
    s3_conn_id: ConnId = "atlas_s3"
    """The ``aws`` connection used when ``location`` is an ``s3://`` URL."""
    select: FileSelection = FileSelection.PATH
    delimiter: Annotated[str, StringConstraints(min_length=1, max_length=1)] = ","
    """csv: field delimiter."""
    encoding: str = "utf-8"
    """csv / jsonl: text encoding; undecodable lines are quarantined."""

    @property
    def is_s3(self) -> bool:
        return self.location.startswith("s3://")

    def summary(self) -> str:
        return f"files: {self.format.value} from `{self.location}` (select by {self.select.value})"


class FilesEntity(Entity):
    """An entity read from files."""

    path: str
    """A glob under the connector's location; with ``select: path`` it is formatted with the
    interval, e.g. ``customers/{start:%Y-%m}/*.csv`` (``start``/``end`` are the interval bounds)."""

    def location(self) -> str:
        return self.path
