"""Stage ``navigate``: the pseudonym key installed, then the source's dbt models, tests and snapshots
(a Cosmos task group)."""

from __future__ import annotations

from atlas.config.source import SourceConfig
from atlas.stages import Stage, StageContext, StageTasks


def add_tasks(context: StageContext) -> StageTasks | None:
    from atlas.dbt.task_group import build_navigate_group
    from atlas.operators.pseudonym_key import InstallPseudonymKeyOperator

    group = build_navigate_group(context.config, dag=context.dag)
    if group is None:
        return None
    # the staging models pseudonymise identifiers with the key this installs (sql/V023)
    key = InstallPseudonymKeyOperator(task_id="install_pseudonym_key")
    key >> group
    return StageTasks(first=[key], last=[group])


def describe(config: SourceConfig) -> str:
    return (
        "`install_pseudonym_key` (the key of the identifiers' pseudonyms from the connection "
        "`atlas_pseudonym_key`), then `navigate`: the source's dbt models and snapshots (tag `source_"
        f"{config.name}`) with their tests, through Cosmos, into `navigate`"
    )


STAGE = Stage(name="navigate", add_tasks=add_tasks, describe=describe, after=("promote",))
