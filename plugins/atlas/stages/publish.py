"""Stage ``publish``: mark the interval published with an Asset event downstream DAGs schedule on."""

from __future__ import annotations

import logging

from atlas.config.source import SourceConfig
from atlas.stages import Stage, StageContext, StageTasks

log = logging.getLogger(__name__)


def navigate_asset_uri(source: str) -> str:
    """The URI of the Asset a source DAG updates once its interval reached ``navigate``."""
    return f"atlas://warehouse/navigate/{source}"


def _publish(source: str) -> None:
    """Mark the interval published; the task's outlet Asset event triggers downstream DAGs."""
    log.info("source %s: interval published to %s", source, navigate_asset_uri(source))


def add_tasks(context: StageContext) -> StageTasks:
    from airflow.sdk import Asset, task

    name = context.config.name
    publish = task(task_id="publish", outlets=[Asset(navigate_asset_uri(name))])(_publish)(source=name)
    return StageTasks(first=[publish], last=[publish])


def describe(config: SourceConfig) -> str:
    return f"`publish`: an event of the Asset `{navigate_asset_uri(config.name)}`"


STAGE = Stage(name="publish", add_tasks=add_tasks, describe=describe, after=("navigate",))
