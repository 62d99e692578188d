"""The files connector: CSV, JSON lines and Parquet from a local folder or an S3 prefix.

``config.py`` holds its models, ``reader.py`` (with ``csv_reader.py``) reads a data interval's
files, ``README.md`` documents it for source authors.
"""

from __future__ import annotations

from typing import Any

from atlas.connectors.base import ConnectorSpec
from atlas.connectors.files.config import FilesConnector, FilesEntity


def _reader(config: FilesConnector) -> Any:
    from atlas.connectors.files.reader import FilesSourceConnector

    return FilesSourceConnector(config)


SPEC = ConnectorSpec(name="files", config_model=FilesConnector, entity_model=FilesEntity, reader=_reader)
