"""The stages of a source DAG, as a registry: each stage is one module that adds its tasks.

A source DAG is assembled from the registered stages in order (:func:`ordered_stages`): every
stage declares what it runs ``after`` (and, to slot in between two others, ``before``), and
adds its tasks for a source through ``add_tasks``. The builder wires each stage's first tasks
after the previous stage's last ones, so a new stage (a PII scan between ``land`` and
``promote``, a quality gate before ``navigate``) is one new module here plus one line in
:data:`BUILTIN_STAGES`, with no edit to the builder. A stage that reads a top-level section of
the source YAML declares its model in ``sections``; the YAML accepts the section from then on
(until then ``atlas.config.source.PLANNED_SECTIONS`` refuses it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from atlas.exceptions import RegistryError
from atlas.registry import Registry

if TYPE_CHECKING:
    from airflow.sdk import DAG
    from pydantic import BaseModel

    from atlas.config.source import SourceConfig

BUILTIN_STAGES = (
    "partitions",
    "land",
    "pii",
    "promote",
    "quality_gate",
    "navigate",
    "quality_navigate",
    "publish",
)
"""The stage modules of ``atlas.stages``, each exposing ``STAGE``: one line per stage."""


@dataclass(frozen=True)
class StageContext:
    """What a stage adds its tasks for: one source, its YAML file, the DAG being built."""

    config: SourceConfig
    source_path: Path
    dag: DAG


@dataclass(frozen=True)
class StageTasks:
    """The tasks a stage added: ``first`` run after the previous stage, ``last`` before the next."""

    first: Sequence[Any]
    last: Sequence[Any]


@dataclass(frozen=True)
class Stage:
    """One step of every source DAG."""

    name: str
    """Unique; other stages name it in ``after`` / ``before``."""
    add_tasks: Callable[[StageContext], StageTasks | None]
    """Adds the stage's tasks to ``context.dag`` (already the active DAG); ``None`` = none for this
    source (the stage is then skipped and its neighbours are wired together)."""
    describe: Callable[[SourceConfig], str]
    """One line for the DAG's docs: what the stage does for this source."""
    after: tuple[str, ...] = ()
    """Stages this one runs after (unknown names are ignored: that stage is not registered)."""
    before: tuple[str, ...] = ()
    """Stages this one runs before."""
    sections: Mapping[str, type[BaseModel]] = field(default_factory=dict)
    """Top-level YAML sections this stage reads, and their models."""


STAGES: Registry[Stage] = Registry("stage", __name__, BUILTIN_STAGES, "STAGE", lambda stage: stage.name)


def ordered_stages(stages: Mapping[str, Stage] | None = None) -> list[Stage]:
    """The stages in an order that satisfies every ``after`` / ``before``; ties keep registration order."""
    stages = dict(STAGES.all() if stages is None else stages)
    needs: dict[str, set[str]] = {
        name: {a for a in stage.after if a in stages} for name, stage in stages.items()
    }
    for name, stage in stages.items():
        for later in stage.before:
            if later in needs:
                needs[later].add(name)
    order: list[Stage] = []
    done: set[str] = set()
    while len(order) < len(stages):
        ready = next((n for n in stages if n not in done and needs[n] <= done), None)
        if ready is None:
            pending = sorted(set(stages) - done)
            raise RegistryError(f"the stages {', '.join(pending)} wait on each other: fix their after/before")
        order.append(stages[ready])
        done.add(ready)
    return order
