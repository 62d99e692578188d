"""The partitioned tables of the warehouse and their grains: the one registry of them.

Migrations create the partitioned parents (``sql/``); this module says at which grain each is
partitioned, for ``pipeline.ensure_partition`` callers: the source DAGs' ``ensure_partitions``
task (the tables a source writes) and the maintenance DAG (every known table).
"""

from __future__ import annotations

import datetime as dt

from atlas.constants import PartitionGrain, Schema

RAW_DATA = f"{Schema.EXPLORE}.raw_data"
"""Where every source lands: partitioned by the batch's interval start."""

PARTITION_GRAINS: dict[str, PartitionGrain] = {
    RAW_DATA: PartitionGrain.MONTH,
    f"{Schema.COMPLIANCE}.audit_log": PartitionGrain.QUARTER,
    f"{Schema.QUALITY}.check_results": PartitionGrain.YEAR,
}
"""Grain of each partitioned table the migrations create (docs/design.md, "Partitions")."""
SCHEMA_GRAINS: dict[str, PartitionGrain] = {Schema.NAVIGATE.value: PartitionGrain.YEAR}
"""Grain of partitioned tables not listed above, by schema: dbt's navigate facts are yearly."""
SOURCE_TABLES: tuple[str, ...] = (RAW_DATA,)
"""The partitioned tables a source DAG writes before anything else can (its ``ensure_partitions``)."""

_MONTHS = {PartitionGrain.MONTH: 1, PartitionGrain.QUARTER: 3, PartitionGrain.YEAR: 12}


def partition_grain(table: str) -> PartitionGrain | None:
    """The partition grain of ``schema.table`` from the registry, or ``None`` if unknown."""
    if table in PARTITION_GRAINS:
        return PARTITION_GRAINS[table]
    return SCHEMA_GRAINS.get(table.partition(".")[0])


def source_plan() -> tuple[tuple[str, str], ...]:
    """``(table, grain)`` of :data:`SOURCE_TABLES`, as ``EnsurePartitionsOperator`` takes them."""
    return tuple((table, PARTITION_GRAINS[table].value) for table in SOURCE_TABLES)


def add_grains(at: dt.datetime, grain: PartitionGrain | str, count: int) -> dt.datetime:
    """``at`` moved ``count`` partitions of ``grain`` later (day clamped to the month's end)."""
    months = at.month - 1 + count * _MONTHS[PartitionGrain(grain)]
    year, month = at.year + months // 12, months % 12 + 1
    day = at.day
    while True:
        try:
            return at.replace(year=year, month=month, day=day)
        except ValueError:
            day -= 1
