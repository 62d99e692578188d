"""``PublishOperator``: the last task of a source DAG; its outlet Asset event triggers downstream DAGs."""

from __future__ import annotations

import json
import logging
from typing import Any

from airflow.sdk import BaseOperator

from atlas.constants import WAREHOUSE_CONN_ID

log = logging.getLogger(__name__)


class PublishOperator(BaseOperator):
    """Mark the source's interval published (the Asset event of ``outlets``).

    Its OpenLineage datasets are the source's chart tables → the navigate tables its dbt nodes
    built, read from the source's manifest slice: the edge Cosmos's dbt events leave out, as they
    name the ephemeral staging models (``navigate.stg_*``) as navigate's inputs.

    :param source: the source's name.
    :param dbt_tag: the tag of the source's dbt nodes (``source_<name>``); ``None`` or a tag without
        nodes in the manifest: no lineage.
    :param warehouse_conn_id: the warehouse connection (for the datasets' namespace).
    """

    ui_color = "#d8f3dc"

    def __init__(
        self, *, source: str, dbt_tag: str | None, warehouse_conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.dbt_tag = dbt_tag
        self.warehouse_conn_id = warehouse_conn_id

    def execute(self, context: Any) -> None:
        log.info("source %s: interval published to %s", self.source, ", ".join(str(o) for o in self.outlets))

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The source's chart tables → its navigate tables (non-ephemeral models and snapshots)."""
        from atlas.lineage import fail_soft, operator_lineage, warehouse_table

        tag = self.dbt_tag
        if tag is None:
            return None

        def build() -> Any:
            from atlas.dbt.manifest import built_relations, resolve_slices

            slices = resolve_slices()
            if not slices.tags.get(tag):
                return None
            manifest = json.loads(slices.path(tag).read_text(encoding="utf-8"))
            sources = sorted({(s["schema"], s["identifier"]) for s in manifest.get("sources", {}).values()})
            built = built_relations(manifest, tag)
            return operator_lineage(
                inputs=[warehouse_table(self.warehouse_conn_id, table) for table in sources],
                outputs=[warehouse_table(self.warehouse_conn_id, table) for table in built],
            )

        return fail_soft(build, self.task_id)
