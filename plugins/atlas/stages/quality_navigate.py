"""Stage ``quality_navigate``: navigate checked against chart after the build, before ``publish``."""

from __future__ import annotations

from atlas.config.source import SourceConfig
from atlas.stages import Stage, StageContext, StageTasks


def add_tasks(context: StageContext) -> StageTasks:
    from atlas.operators.quality import NavigateCheckOperator

    check = NavigateCheckOperator(task_id="quality_navigate", source_path=str(context.source_path))
    return StageTasks(first=[check], last=[check])


def describe(config: SourceConfig) -> str:
    return (
        "`quality_navigate`: the interval's chart keys are in `navigate.<source>__<entity>` with the same "
        "sums of each numeric column (consistency, accuracy); a difference fails it and nothing is published"
    )


STAGE = Stage(
    name="quality_navigate", add_tasks=add_tasks, describe=describe, after=("navigate",), before=("publish",)
)
