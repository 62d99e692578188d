"""The HTTP connector: a paginated JSON API behind an Airflow ``http`` connection.

``config.py`` holds its models, ``reader.py`` reads a data interval's pages, ``README.md``
documents it for source authors.
"""

from __future__ import annotations

from typing import Any

from atlas.connectors.base import ConnectorSpec
from atlas.connectors.http.config import HttpConnector, HttpEntity


def _reader(config: HttpConnector) -> Any:
    from atlas.connectors.http.reader import HttpSourceConnector

    return HttpSourceConnector(config)


SPEC = ConnectorSpec(name="http", config_model=HttpConnector, entity_model=HttpEntity, reader=_reader)
