"""Connectors: where a source's records come from. Each is one package, registered here.

``CONNECTORS`` holds them by name (the YAML's ``connector.type``). The built-in packages below
are imported on first use; a connector shipped elsewhere calls ``CONNECTORS.register(spec)``.
A connector package holds ``__init__.py`` (its ``SPEC``), ``config.py`` (its models),
``reader.py`` (what reads an interval) and ``README.md`` (its YAML, for source authors).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlas.registry import Registry

if TYPE_CHECKING:
    from atlas.config.source import SourceConfig
    from atlas.connectors.base import ConnectorSpec, SourceConnector

BUILTIN_CONNECTORS = (
    "files",
    "postgres",
    "http",
)
"""The connector packages of ``atlas.connectors``: one line per connector."""

CONNECTORS: Registry[ConnectorSpec] = Registry(
    "connector", __name__, BUILTIN_CONNECTORS, "SPEC", lambda spec: spec.name
)


def open_connector(config: SourceConfig) -> SourceConnector:
    """The reader of ``config``'s source system (one instance per extract)."""
    return CONNECTORS.get(config.connector.type).reader(config.connector)
