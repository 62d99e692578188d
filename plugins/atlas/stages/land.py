"""Stage ``land``: extract each entity's data interval with the source's connector into ``explore``."""

from __future__ import annotations

from atlas.config.source import SourceConfig
from atlas.stages import Stage, StageContext, StageTasks


def add_tasks(context: StageContext) -> StageTasks:
    from atlas.operators.source_to_explore import SourceToExploreOperator

    lands = [
        SourceToExploreOperator(task_id=f"land_{e.name}", source_path=str(context.source_path), entity=e.name)
        for e in context.config.entities
    ]
    return StageTasks(first=lands, last=lands)


def describe(config: SourceConfig) -> str:
    return (
        f"`land_<entity>` ({len(config.entities)}): the {config.connector.type} connector's records of the "
        "interval into `explore.raw_data`, unparsable ones into `explore.quarantine`"
    )


STAGE = Stage(name="land", add_tasks=add_tasks, describe=describe, after=("partitions",))
