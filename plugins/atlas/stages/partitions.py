"""Stage ``partitions``: create the partitions of the interval before anything lands in it."""

from __future__ import annotations

from atlas.config.source import SourceConfig
from atlas.partitions import source_plan
from atlas.stages import Stage, StageContext, StageTasks


def add_tasks(context: StageContext) -> StageTasks:
    from atlas.operators.partitions import EnsurePartitionsOperator

    ensure = EnsurePartitionsOperator(task_id="ensure_partitions", tables=source_plan(), ahead=0)
    return StageTasks(first=[ensure], last=[ensure])


def describe(config: SourceConfig) -> str:
    tables = ", ".join(f"`{table}` ({grain}ly)" for table, grain in source_plan())
    return f"`ensure_partitions`: the partitions of the data interval in {tables}"


STAGE = Stage(name="partitions", add_tasks=add_tasks, describe=describe)
