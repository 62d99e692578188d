"""``SourceToExploreOperator``: extract one entity's data interval and land it in ``explore``."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from atlas.batches import Interval
from atlas.config import SourceConfig
from atlas.connectors.base import SourceConnector
from atlas.hooks.warehouse import WarehouseHook
from atlas.operators.base import SourceEntityOperator

log = logging.getLogger(__name__)


class SourceToExploreOperator(SourceEntityOperator):
    """Land one (source, entity, data interval) batch in ``explore.raw_data``, replacing any earlier
    landing of the same interval, and sync the source's row in ``explore.source_systems``. An
    entity with a ``subject`` lands the records of erased data subjects erased (``atlas.dsr.landing``).

    Returns ``{"batch_id", "rows_read", "rows_landed", "rows_quarantined", "checksum", "notes",
    "rows_erased"}`` as XCom.

    :param source_path: the source YAML (relative paths are relative to the project root).
    :param entity: the entity of that source to land.
    :param warehouse_conn_id: the Airflow connection of the warehouse.
    """

    ui_color = "#fdf0d5"

    @cached_property
    def hook(self) -> WarehouseHook:
        return WarehouseHook(warehouse_conn_id=self.warehouse_conn_id)

    def get_connector(self, config: SourceConfig) -> SourceConnector:
        from atlas.connectors import open_connector

        return open_connector(config)

    def execute(self, context: Any) -> dict[str, Any]:
        config = self.load_config()
        entity = config.entity(self.entity)
        interval = Interval.from_context(context)
        connector = self.get_connector(config)
        subject = None
        if entity.subject is not None:
            from atlas.dsr.targets import Target

            subject = Target(config, entity)
        log.info(
            "landing %s.%s for [%s, %s) with the %s connector",
            config.name,
            entity.name,
            interval.start,
            interval.end,
            config.connector.type,
        )
        result = self.hook.land_batch(
            source=config.name,
            entity=entity.name,
            interval=interval,
            key_columns=entity.key_fields,
            chunks=connector.extract(entity, interval),
            dag_id=context["ti"].dag_id,
            run_id=context["run_id"],
            task_id=self.task_id,
            subject=subject,
        )
        self.hook.sync_source_system(config)
        self._landed = (config, entity, result)
        log.info(
            "%s.%s batch %s: read %s, landed %s, quarantined %s (%s of erased data subjects landed erased) in %.1fs",
            config.name,
            entity.name,
            result.batch_id,
            result.rows_read,
            result.rows_landed,
            result.rows_quarantined,
            result.rows_erased,
            result.seconds,
        )
        return result.as_xcom()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """The source's dataset → ``explore.raw_data`` (rows landed) and ``explore.quarantine``."""
        from atlas.lineage import (
            EXPLORE_QUARANTINE,
            EXPLORE_RAW,
            RAW_DATA_COLUMNS,
            DatasetRef,
            fail_soft,
            operator_lineage,
            warehouse_table,
        )

        landed = getattr(self, "_landed", None)
        if landed is None:
            return None
        config, entity, result = landed

        def build() -> Any:
            namespace, name = config.connector.lineage_dataset(entity)
            columns = {column.name: column.type.value for column in entity.columns}
            return operator_lineage(
                inputs=[DatasetRef(namespace, name, columns)],
                outputs=[
                    warehouse_table(
                        self.warehouse_conn_id, EXPLORE_RAW, RAW_DATA_COLUMNS, result.rows_landed
                    ),
                    warehouse_table(self.warehouse_conn_id, EXPLORE_QUARANTINE, rows=result.rows_quarantined),
                ],
            )

        return fail_soft(build, self.task_id)
