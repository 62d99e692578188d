"""Stage ``pii``: classify each entity's landed batch for personal data, between land and promote."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atlas.config.source import SourceConfig
from atlas.stages import Stage, StageContext, StageTasks


class PiiPolicy(BaseModel):
    """The source YAML's ``pii`` section."""

    model_config = ConfigDict(extra="forbid")

    on_undeclared: Literal["mask_and_alert", "alert", "fail"] = "mask_and_alert"
    """Personal data found in a column the YAML does not declare: ``mask_and_alert`` (default: the
    run goes on, an alert is sent, and navigate masks the column from the next dbt run on, the
    current run's included; see :func:`atlas.dbt.rules.detection_masked`), ``alert`` (the run goes
    on, the column stays as it is) or ``fail`` (the scan task fails and the batch is not promoted)."""
    sample_size: int = Field(default=500, ge=10, le=100_000)
    """Records sampled per column and batch (``free_text`` columns are read in full)."""


def add_tasks(context: StageContext) -> StageTasks:
    from atlas.operators.scan_pii import ScanPiiOperator

    scans = [
        ScanPiiOperator(task_id=f"scan_pii_{e.name}", source_path=str(context.source_path), entity=e.name)
        for e in context.config.entities
    ]
    return StageTasks(first=scans, last=scans)


def describe(config: SourceConfig) -> str:
    policy = getattr(config, "pii", PiiPolicy())
    return (
        f"`scan_pii_<entity>` ({len(config.entities)}): Presidio classifies each text and date column from "
        f"up to {policy.sample_size} records of the batch into `compliance.pii_detections` and the "
        f"data-asset inventory, and anonymises confidential free text (`<ENTITY>` placeholders) into "
        f"`chart.anonymised_text`; undeclared personal data: {policy.on_undeclared}"
    )


STAGE = Stage(
    name="pii",
    add_tasks=add_tasks,
    describe=describe,
    after=("land",),
    before=("promote",),
    sections={"pii": PiiPolicy},
)
