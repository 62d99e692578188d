"""ExploreToChartOperator: validate one entity's batch of the data interval into ``chart``.

Thin by design: it loads the source YAML at run time (never at DAG parse time), works out the
interval and calls ``ChartHook.promote``, which does everything set-based in one transaction
(see ``atlas.hooks.chart``). Valid rows reach ``chart.<source>__<entity>``, the others
``chart.quarantine`` with every rule they failed; ``pipeline.batches`` gets the counts. Rows of
earlier batches quarantined only because their referenced row (e.g. their order) had not arrived
yet are retried and promoted once it has.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from atlas.batches import Interval
from atlas.hooks.chart import ChartHook
from atlas.operators.base import SourceEntityOperator

log = logging.getLogger(__name__)


class ExploreToChartOperator(SourceEntityOperator):
    """Promote the interval's batch of ``entity`` from ``explore.raw_data`` to its chart table.

    :param source_path: the source YAML (relative paths are relative to the project root).
    :param entity: the entity to promote; entities it references must be promoted first.
    :param warehouse_conn_id: the warehouse connection.
    """

    ui_color = "#c6e2ff"

    @cached_property
    def hook(self) -> ChartHook:
        return ChartHook(warehouse_conn_id=self.warehouse_conn_id)

    def execute(self, context: Any) -> dict[str, Any]:
        source = self.load_config()
        interval = Interval.from_context(context)
        ti = context["ti"]
        log.info("promoting %s.%s for [%s, %s)", source.name, self.entity, interval.start, interval.end)
        result = self.hook.promote(
            source, self.entity, interval, dag_id=ti.dag_id, run_id=ti.run_id, task_id=self.task_id
        )
        self._promoted = (source, result)
        return {
            "table": result.table,
            "batch_id": str(result.batch_id),
            "rows_landed": result.rows_landed,
            "rows_promoted": result.rows_promoted,
            "rows_rejected": result.rows_rejected,
            "rows_written": result.rows_written,
            "rows_removed": result.rows_removed,
            "columns_added": list(result.columns_added),
            "rows_retried": result.rows_retried,
            "rows_recovered": result.rows_recovered,
        }

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """``explore.raw_data`` → ``chart.<source>__<entity>`` (rows promoted) and ``chart.quarantine``."""
        from atlas.lineage import CHART_QUARANTINE, EXPLORE_RAW, fail_soft, operator_lineage, warehouse_table

        promoted = getattr(self, "_promoted", None)
        if promoted is None:
            return None
        source, result = promoted

        def build() -> Any:
            entity = source.entity(self.entity)
            schema, _, table = result.table.rpartition(".")
            columns = {column.name: column.type.value for column in entity.columns}
            return operator_lineage(
                inputs=[warehouse_table(self.warehouse_conn_id, EXPLORE_RAW)],
                outputs=[
                    warehouse_table(
                        self.warehouse_conn_id, (schema or "chart", table), columns, result.rows_promoted
                    ),
                    warehouse_table(self.warehouse_conn_id, CHART_QUARANTINE, rows=result.rows_rejected),
                ],
            )

        return fail_soft(build, self.task_id)
