"""``EnsurePartitionsOperator``: create the range partitions a data interval needs, and more ahead."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator

from atlas.batches import Interval
from atlas.constants import WAREHOUSE_CONN_ID
from atlas.exceptions import AtlasError
from atlas.hooks.warehouse import WarehouseHook
from atlas.partitions import add_grains, source_plan

log = logging.getLogger(__name__)


def context_interval(context: Any) -> Interval:
    """The run's interval; a run without one (manual, unscheduled) covers its logical date: the
    partitions it needs are made, and the tasks after this one say why the run cannot go on."""
    try:
        return Interval.from_context(context)
    except AtlasError:
        pass
    at = context.get("logical_date") or dt.datetime.now(dt.UTC)
    at = dt.datetime.fromtimestamp(at.timestamp(), tz=dt.UTC)
    return Interval(at, at)


class EnsurePartitionsOperator(BaseOperator):
    """Ensure the partitions holding the task's data interval exist, plus ``ahead`` more of each table.

    :param tables: ``(schema.table, grain)`` pairs; ``None`` means every range-partitioned table of
        the seven Atlas schemas whose grain the registry knows (``atlas.partitions``).
    :param ahead: how many partitions past the one holding the interval's end to create as well.
    :param warehouse_conn_id: the Airflow connection of the warehouse.
    """

    template_fields: Sequence[str] = ("warehouse_conn_id",)
    ui_color = "#e8f1fb"

    def __init__(
        self,
        *,
        tables: Sequence[tuple[str, str]] | None = source_plan(),
        ahead: int = 0,
        warehouse_conn_id: str = WAREHOUSE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tables = tables
        self.ahead = ahead
        self.warehouse_conn_id = warehouse_conn_id

    @cached_property
    def hook(self) -> WarehouseHook:
        return WarehouseHook(warehouse_conn_id=self.warehouse_conn_id)

    def execute(self, context: Any) -> dict[str, list[str]]:
        interval = context_interval(context)
        last = (
            interval.end - dt.timedelta(microseconds=1) if interval.end > interval.start else interval.start
        )
        tables = list(self.tables) if self.tables is not None else self.hook.partition_plan()
        log.info(
            "ensuring partitions for [%s, %s) + %s ahead: %s",
            interval.start,
            interval.end,
            self.ahead,
            tables,
        )
        return {
            table: self.hook.ensure_partitions(
                table, grain, interval.start, add_grains(last, grain, self.ahead)
            )
            for table, grain in tables
        }
