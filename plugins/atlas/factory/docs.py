"""The ``doc_md`` of a generated source DAG: what it runs, its entities, and the YAML it came from."""

from __future__ import annotations

from pathlib import Path

from atlas.config.source import Entity, SourceConfig
from atlas.constants import ROOT


def render_doc_md(config: SourceConfig, source_path: Path, yaml_text: str, steps: list[str]) -> str:
    """A summary of the source, ``steps`` (one line per stage that added tasks), then its YAML."""
    try:
        shown_path = source_path.resolve().relative_to(ROOT)
    except ValueError:
        shown_path = source_path
    schedule = (
        f"| schedule | `{config.schedule}` (UTC data intervals; a run at D processes the interval ending at D) |"
        if config.schedule
        else "| schedule | none: triggered runs only |"
    )
    lines = [
        f"# {config.dag_id}",
        "",
        config.description or f"Atlas source `{config.name}`.",
        "",
        "| | |",
        "|---|---|",
        f"| owner | {config.owner} |",
        schedule,
        f"| start date | {config.start_date.isoformat()} (catchup {'on' if config.catchup else 'off'}) |",
        f"| connector | {config.connector.summary()} |",
        f"| file | `{shown_path}` |",
        "",
        "## What each run does, for its data interval",
        "",
        *(f"{n}. {step}" for n, step in enumerate(steps, 1)),
        "",
        "## Entities",
    ]
    for entity in config.entities:
        lines += _entity_doc(entity)
    fence = "`" * max(3, _longest_backtick_run(yaml_text) + 1)
    lines += ["", "## Source YAML", "", f"{fence}yaml", yaml_text.rstrip("\n"), fence, ""]
    return "\n".join(lines)


def _entity_doc(entity: Entity) -> list[str]:
    lines = ["", f"### {entity.name}", ""]
    if entity.description:
        lines += [entity.description, ""]
    summary = f"key `{', '.join(entity.key)}`"
    locate = getattr(entity, "location", None)
    if callable(locate):
        summary += f"; read from `{locate()}`"
    if entity.history.value != "none":
        summary += f"; {entity.history.value} history in navigate"
    lines += [summary, ""]
    if entity.references:
        lines += [f"- references `{r.entity}` via `{', '.join(r.columns)}`" for r in entity.references]
        lines.append("")
    lines += ["| column | type | required | rules | PII | classification |", "|---|---|---|---|---|---|"]
    for col in entity.columns:
        rules = []
        if col.pattern:
            rules.append(f"matches `{col.pattern}`".replace("|", "\\|"))
        if col.min is not None:
            rules.append(f"≥ {_number(col.min)}")
        if col.max is not None:
            rules.append(f"≤ {_number(col.max)}")
        if col.allowed_values:
            rules.append("one of " + ", ".join(col.allowed_values))
        lines.append(
            f"| {col.name} | {col.type.value} | {'yes' if col.required else ''} | {'; '.join(rules)} "
            f"| {col.pii or ''} | {col.classification.value} |"
        )
    return lines


def _number(value: object) -> object:
    """``1`` rather than ``1.0`` for whole-number bounds."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest
