"""Source configuration: typed models and the YAML loader."""

from __future__ import annotations

from atlas.config.loader import load_source, parse_source, source_files
from atlas.config.models import (
    Column,
    ColumnType,
    ConnectorType,
    Entity,
    FileFormat,
    FilesConnector,
    HttpConnector,
    PostgresConnector,
    SourceConfig,
)

__all__ = [
    "Column",
    "ColumnType",
    "ConnectorType",
    "Entity",
    "FileFormat",
    "FilesConnector",
    "HttpConnector",
    "PostgresConnector",
    "SourceConfig",
    "load_source",
    "parse_source",
    "source_files",
]
