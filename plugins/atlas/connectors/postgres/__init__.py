"""The PostgreSQL connector: a table or query on any Airflow ``postgres`` connection, by interval
of a watermark column.

``config.py`` holds its models, ``reader.py`` reads a data interval's rows, ``README.md``
documents it for source authors.
"""

from __future__ import annotations

from typing import Any

from atlas.connectors.base import ConnectorSpec
from atlas.connectors.postgres.config import PostgresConnector, PostgresEntity


def _reader(config: PostgresConnector) -> Any:
    from atlas.connectors.postgres.reader import PostgresSourceConnector

    return PostgresSourceConnector(config)


SPEC = ConnectorSpec(
    name="postgres", config_model=PostgresConnector, entity_model=PostgresEntity, reader=_reader
)
