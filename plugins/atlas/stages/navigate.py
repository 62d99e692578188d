"""Stage ``navigate``: the source's dbt models, tests and snapshots, as a Cosmos task group."""

from __future__ import annotations

from atlas.config.source import SourceConfig
from atlas.stages import Stage, StageContext, StageTasks


def add_tasks(context: StageContext) -> StageTasks | None:
    from atlas.dbt.task_group import build_navigate_group

    group = build_navigate_group(context.config, dag=context.dag)
    return None if group is None else StageTasks(first=[group], last=[group])


def describe(config: SourceConfig) -> str:
    return (
        "`navigate`: the source's dbt models and snapshots (tag `source_"
        f"{config.name}`) with their tests, through Cosmos, into `navigate`"
    )


STAGE = Stage(name="navigate", add_tasks=add_tasks, describe=describe, after=("promote",))
