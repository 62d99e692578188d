"""Stage ``publish``: mark the interval published with an Asset event downstream DAGs schedule on."""

from __future__ import annotations

from atlas.config.source import SourceConfig
from atlas.stages import Stage, StageContext, StageTasks


def navigate_asset_uri(source: str) -> str:
    """The URI of the Asset a source DAG updates once its interval reached ``navigate``."""
    return f"atlas://warehouse/navigate/{source}"


def add_tasks(context: StageContext) -> StageTasks:
    from airflow.sdk import Asset

    from atlas.dbt.task_group import source_tag
    from atlas.operators.publish import PublishOperator

    name = context.config.name
    publish = PublishOperator(
        task_id="publish",
        source=name,
        dbt_tag=source_tag(context.config),
        outlets=[Asset(navigate_asset_uri(name))],
    )
    return StageTasks(first=[publish], last=[publish])


def describe(config: SourceConfig) -> str:
    return f"`publish`: an event of the Asset `{navigate_asset_uri(config.name)}`"


STAGE = Stage(name="publish", add_tasks=add_tasks, describe=describe, after=("navigate",))
