"""Stage ``quality_gate``: the interval's quality checks after ``promote``, before ``navigate``.

Reads the YAML section ``quality`` (:class:`atlas.config.quality.QualityConfig`). A failed
``fail`` check fails the task ``quality_gate``, so ``navigate`` and ``publish`` do not run.
"""

from __future__ import annotations

from atlas.config.quality import QualityConfig
from atlas.config.source import SourceConfig
from atlas.stages import Stage, StageContext, StageTasks


def add_tasks(context: StageContext) -> StageTasks:
    from atlas.operators.quality import QualityGateOperator

    gate = QualityGateOperator(task_id="quality_gate", source_path=str(context.source_path))
    return StageTasks(first=[gate], last=[gate])


def describe(config: SourceConfig) -> str:
    return (
        "`quality_gate`: the SodaCL checks generated from the YAML (and `include/soda/"
        f"{config.name}/`) plus row-count reconciliation on the interval's chart rows, recorded in "
        "`quality.check_results`; a failed `fail` check stops the run before navigate"
    )


STAGE = Stage(
    name="quality_gate",
    add_tasks=add_tasks,
    describe=describe,
    after=("promote",),
    before=("navigate",),
    sections={"quality": QualityConfig},
)
