"""Build the Airflow DAG of one source system from its validated ``SourceConfig``.

Per data interval the DAG runs::

    ensure_partitions >> land_<entity>…  >> [PII scan seam] >> promote_<entity>… (reference order)
        >> [quality gate seam] >> navigate (dbt via Cosmos, when available) >> publish (Asset)

Building does no I/O beyond reading the source's own YAML file (rendered into ``doc_md``): no
database, no network, no dbt. The operators are imported inside :func:`build_dag` so that merely
importing the factory stays cheap.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import DAG, Asset, CronDataIntervalTimetable, task

from atlas.config.models import AlertRoute, ConnectorType, Entity, SourceConfig
from atlas.constants import ROOT, Layer, PartitionGrain, Schema

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, TaskGroup

log = logging.getLogger(__name__)

CRON_PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}
"""Presets of the source YAML and the cron expression each stands for (UTC)."""

RAW_PARTITIONS: dict[str, PartitionGrain] = {f"{Schema.EXPLORE}.raw_data": PartitionGrain.MONTH}
"""Partitioned tables a source DAG writes, and their grain; ``ensure_partitions`` covers the interval."""

DEFAULT_RETRIES = 2
RETRY_DELAY = dt.timedelta(minutes=2)
RETRY_BACKOFF = 2.0
"""Multiplier of the retry delay: 2 min, then 4 min (capped by ``MAX_RETRY_DELAY``)."""
MAX_RETRY_DELAY = dt.timedelta(minutes=30)
EXECUTION_TIMEOUT = dt.timedelta(hours=2)
DAGRUN_TIMEOUT = dt.timedelta(hours=12)


def navigate_asset_uri(source: str) -> str:
    """The URI of :func:`navigate_asset` (no Asset object: the first one costs a providers scan)."""
    return f"atlas://warehouse/navigate/{source}"


def navigate_asset(source: str) -> Asset:
    """The Asset a source DAG updates when its interval reached ``navigate``; schedule on it downstream."""
    return Asset(navigate_asset_uri(source))


def timetable_for(schedule: str | None) -> CronDataIntervalTimetable | None:
    """A timetable with real data intervals (start < end) for a cron or preset; ``None`` = manual only.

    Airflow 3 turns a plain cron string into ``CronTriggerTimetable`` whose runs have
    ``data_interval_start == data_interval_end``; Atlas batches are intervals, so it asks for
    ``CronDataIntervalTimetable`` explicitly.
    """
    if schedule is None:
        return None
    expression = schedule.strip()
    return CronDataIntervalTimetable(CRON_PRESETS.get(expression, expression), timezone="UTC")


def dag_tags(config: SourceConfig) -> list[str]:
    """``atlas``, ``source:<name>``, the layers the DAG writes, then the YAML's own tags."""
    tags = ["atlas", f"source:{config.name}", *(f"layer:{layer}" for layer in Layer), *config.tags]
    return list(dict.fromkeys(tags))


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


def build_dag(config: SourceConfig, source_path: Path) -> DAG:
    """The DAG ``atlas_<name>`` of one source; ``source_path`` is its YAML file."""
    from atlas.operators.explore_to_chart import ExploreToChartOperator
    from atlas.operators.partitions import EnsurePartitionsOperator
    from atlas.operators.source_to_explore import SourceToExploreOperator

    yaml_text = source_path.read_text(encoding="utf-8")
    timetable = timetable_for(config.schedule)
    dag = DAG(
        dag_id=config.dag_id,
        description=(config.description or f"Atlas source {config.name}")[:200],
        schedule=timetable,
        start_date=dt.datetime.combine(config.start_date, dt.time(), tzinfo=dt.UTC),
        catchup=config.catchup,
        max_active_runs=1,  # intervals land in order: incremental watermarks advance monotonically
        dagrun_timeout=DAGRUN_TIMEOUT,
        default_args=_default_args(config),
        tags=dag_tags(config),
        doc_md=render_doc_md(config, source_path, yaml_text),
    )
    with dag:
        ensure = EnsurePartitionsOperator(
            task_id="ensure_partitions",
            tables=tuple((t, g.value) for t, g in RAW_PARTITIONS.items()),
            ahead=0,
        )
        lands = {
            e.name: SourceToExploreOperator(
                task_id=f"land_{e.name}", source_path=str(source_path), entity=e.name
            )
            for e in config.entities
        }
        ensure >> list(lands.values())
        landed = _after_land(config, lands)

        promotes: dict[str, BaseOperator] = {}
        for name in promotion_order(config):
            promote = ExploreToChartOperator(
                task_id=f"promote_{name}", source_path=str(source_path), entity=name
            )
            landed >> promote
            for ref in config.entity(name).references:
                if ref.entity != name:
                    promotes[ref.entity] >> promote
            promotes[name] = promote
        promoted = _after_promote(config, promotes)

        publish = task(task_id="publish", outlets=[navigate_asset(config.name)])(_publish)(source=config.name)
        navigate = _navigate_group(config, dag)
        if navigate is not None:
            promoted >> navigate >> publish
        else:
            promoted >> publish
    return dag


def _default_args(config: SourceConfig) -> dict[str, Any]:
    args: dict[str, Any] = {
        "owner": config.owner,
        "retries": DEFAULT_RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": RETRY_BACKOFF,
        "max_retry_delay": MAX_RETRY_DELAY,
        "execution_timeout": EXECUTION_TIMEOUT,
    }
    callbacks = _failure_callbacks(config)
    if callbacks:
        args["on_failure_callback"] = callbacks
    return args


def _after_land(config: SourceConfig, lands: dict[str, BaseOperator]) -> Sequence[BaseOperator]:
    """Seam for the PII scan: tasks that must finish after landing and before any promotion.

    The PII-scan issue adds its ``scan_<entity>`` tasks here (``lands[e] >> scan``) and returns
    them; today promotions wait on the land tasks themselves.
    """
    return list(lands.values())


def _after_promote(config: SourceConfig, promotes: dict[str, BaseOperator]) -> Sequence[BaseOperator]:
    """Seam for the quality gate: tasks between the chart promotions and ``navigate``.

    The quality issue adds its gate here (``promotes >> gate``) and returns it, so a failed gate
    stops the run before anything reaches ``navigate``; today it returns the promotions.
    """
    return list(promotes.values())


def _navigate_group(config: SourceConfig, dag: DAG) -> TaskGroup | None:
    """The dbt (Cosmos) task group promoting to ``navigate``, when ``atlas.dbt.task_group`` provides one."""
    try:
        from atlas.dbt.task_group import build_navigate_group
    except ModuleNotFoundError as exc:
        if exc.name not in ("atlas.dbt.task_group",):
            raise
        log.warning("%s: atlas.dbt.task_group is not installed; the DAG has no navigate task group", dag.dag_id)
        return None
    return build_navigate_group(config, dag=dag)


def _failure_callbacks(config: SourceConfig) -> list[Any]:
    """Failure callbacks from ``atlas.alerts.failure_callbacks(config)`` once that module exists."""
    try:
        alerts = importlib.import_module("atlas.alerts")
    except ModuleNotFoundError as exc:
        if exc.name != "atlas.alerts":
            raise
        return []
    factory = getattr(alerts, "failure_callbacks", None)
    if factory is None:
        log.warning("atlas.alerts has no failure_callbacks(config); %s gets no failure alerts", config.dag_id)
        return []
    return list(factory(config))


def _publish(source: str) -> None:
    """Mark the interval published; the task's outlet Asset event triggers downstream DAGs."""
    log.info("source %s: interval published to %s", source, navigate_asset_uri(source))


# --- doc_md ---------------------------------------------------------------------------------------


def render_doc_md(config: SourceConfig, source_path: Path, yaml_text: str) -> str:
    """A readable summary of the source (connector, entities, alerts) followed by its YAML."""
    try:
        shown_path = source_path.resolve().relative_to(ROOT)
    except ValueError:
        shown_path = source_path
    lines = [
        f"# {config.dag_id}",
        "",
        config.description or f"Atlas source `{config.name}`.",
        "",
        "| | |",
        "|---|---|",
        f"| owner | {config.owner} |",
        f"| schedule | `{config.schedule}` (UTC data intervals) |"
        if config.schedule
        else "| schedule | none: triggered runs only |",
        f"| start date | {config.start_date.isoformat()} (catchup {'on' if config.catchup else 'off'}) |",
        f"| connector | {_connector_summary(config)} |",
        f"| retention | {config.retention.explore_months} months in explore, "
        f"{'archived to S3' if config.retention.archive else 'not archived'} |",
        f"| publishes | `{navigate_asset_uri(config.name)}` |",
        f"| file | `{shown_path}` |",
        "",
        "Tasks: `ensure_partitions` → `land_<entity>` → `promote_<entity>` (in reference order) "
        "→ navigate → `publish`.",
        "",
        "## Entities",
    ]
    for entity in config.entities:
        lines += _entity_doc(entity)
    lines += ["", "## Alert routes", ""]
    lines += [_route_doc(route) for route in config.alerts] or ["- none configured"]
    fence = "`" * max(3, _longest_backtick_run(yaml_text) + 1)
    lines += ["", "## Source YAML", "", f"{fence}yaml", yaml_text.rstrip("\n"), fence, ""]
    return "\n".join(lines)


def _connector_summary(config: SourceConfig) -> str:
    c = config.connector
    if c.type is ConnectorType.FILES:
        return f"files: {c.format.value} from `{c.location}` (select by {c.select.value})"
    if c.type is ConnectorType.POSTGRES:
        return f"postgres: connection `{c.conn_id}`, incremental by watermark"
    return f"http: connection `{c.conn_id}`, {c.pagination.value} pagination, {c.page_size} per page"


def _entity_doc(entity: Entity) -> list[str]:
    where = entity.path or entity.table or entity.endpoint or ("query" if entity.query else "")
    lines = ["", f"### {entity.name}", ""]
    if entity.description:
        lines += [entity.description, ""]
    summary = f"key `{', '.join(entity.key)}`"
    if where:
        summary += f"; read from `{where}`"
    if entity.watermark_column:
        summary += f"; incremental by `{entity.watermark_column}`"
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


def _route_doc(route: AlertRoute) -> str:
    target = ", ".join(route.to) if route.type == "email" else f"connection `{route.conn_id}`"
    return f"- {route.type} → {target}"


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest
