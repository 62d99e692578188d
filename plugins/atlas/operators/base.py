"""What the per-entity operators of a source DAG share: which source, which entity, which warehouse."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator

from atlas.config import SourceConfig
from atlas.constants import ROOT, WAREHOUSE_CONN_ID


class SourceEntityOperator(BaseOperator):
    """Base of the operators that work on one entity of a source, for the task's data interval.

    The source YAML is read at run time, never at DAG parse time.

    :param source_path: the source YAML (relative paths are relative to the project root).
    :param entity: the entity of that source.
    :param warehouse_conn_id: the Airflow connection of the warehouse.
    """

    template_fields: Sequence[str] = ("source_path", "entity", "warehouse_conn_id")

    def __init__(
        self,
        *,
        source_path: str,
        entity: str,
        warehouse_conn_id: str = WAREHOUSE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source_path = source_path
        self.entity = entity
        self.warehouse_conn_id = warehouse_conn_id

    def load_config(self) -> SourceConfig:
        """The validated source configuration."""
        from atlas.config.loader import load_source

        path = Path(self.source_path)
        return load_source(path if path.is_absolute() else ROOT / path)
