"""Stage ``promote``: validate each entity's batch into its typed ``chart`` table, in reference order."""

from __future__ import annotations

from typing import Any

from atlas.config.source import SourceConfig
from atlas.stages import Stage, StageContext, StageTasks


def promotion_order(config: SourceConfig) -> list[str]:
    """Entity names so that a referenced entity comes before every entity referencing it.

    Ties keep the YAML order; self-references are ignored (the models refuse other cycles).
    """
    pending = [e.name for e in config.entities]
    needs = {e.name: {r.entity for r in e.references if r.entity != e.name} for e in config.entities}
    order: list[str] = []
    while pending:
        ready = next((n for n in pending if needs[n] <= set(order)), None)
        if ready is None:  # unreachable for a validated config; never build a cyclic DAG
            raise ValueError(f"{config.name}: entity references form a cycle among {pending}")
        order.append(ready)
        pending.remove(ready)
    return order


def add_tasks(context: StageContext) -> StageTasks:
    from atlas.operators.explore_to_chart import ExploreToChartOperator

    config = context.config
    promotes: dict[str, Any] = {}
    for name in promotion_order(config):
        promote = ExploreToChartOperator(
            task_id=f"promote_{name}", source_path=str(context.source_path), entity=name
        )
        for ref in config.entity(name).references:
            if ref.entity != name:
                promotes[ref.entity] >> promote
        promotes[name] = promote
    return StageTasks(first=list(promotes.values()), last=list(promotes.values()))


def describe(config: SourceConfig) -> str:
    return (
        f"`promote_<entity>` ({' → '.join(promotion_order(config))}): typed and validated into "
        "`chart.<source>__<entity>`, failing rows into `chart.quarantine` with every rule they fail"
    )


STAGE = Stage(name="promote", add_tasks=add_tasks, describe=describe, after=("land",))
