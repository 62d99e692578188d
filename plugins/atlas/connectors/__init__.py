"""Connectors: files (local or S3), PostgreSQL (incremental), HTTP JSON APIs (paginated).

``get_connector(config)`` returns the ``SourceConnector`` of a source; implementations are
imported lazily so that parsing a DAG never imports boto3, psycopg or requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atlas.config.models import ConnectorType

if TYPE_CHECKING:
    from atlas.config.models import SourceConfig
    from atlas.connectors.base import SourceConnector


def get_connector(config: SourceConfig) -> SourceConnector:
    """The connector reading ``config``'s source system (one instance per extract)."""
    connector = config.connector
    if connector.type is ConnectorType.FILES:
        from atlas.connectors.files.reader import FilesSourceConnector

        return FilesSourceConnector(connector)
    if connector.type is ConnectorType.POSTGRES:
        from atlas.connectors.postgres.reader import PostgresSourceConnector

        return PostgresSourceConnector(connector)
    if connector.type is ConnectorType.HTTP:
        from atlas.connectors.http.reader import HttpSourceConnector

        return HttpSourceConnector(connector)
    raise ValueError(f"unknown connector type {connector.type!r}")
