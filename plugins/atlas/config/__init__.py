"""Source configuration: typed models of a source YAML and the loader.

``types`` (safe names, column types, closed choices), ``source`` (the connector-independent
models: source, entity, column, reference), ``connectors`` (the base of every connector's
models; each connector's own are in ``atlas/connectors/<type>/config.py``) and ``loader``
(YAML files to validated objects, errors naming file, key and value).
"""

from __future__ import annotations

from atlas.config.loader import load_source, parse_source, source_adapter, source_files, sources_folder
from atlas.config.source import Column, Entity, Reference, SourceConfig
from atlas.config.types import Classification, ColumnType, History, OnUnknownColumns

__all__ = [
    "Classification",
    "Column",
    "ColumnType",
    "Entity",
    "History",
    "OnUnknownColumns",
    "Reference",
    "SourceConfig",
    "load_source",
    "parse_source",
    "source_adapter",
    "source_files",
    "sources_folder",
]
