"""Build the Airflow DAG of one source system from its validated ``SourceConfig``.

The DAG is the registered stages in order (``atlas.stages``): each adds its tasks for the
source, and the builder runs each stage's first tasks after the previous stage's last ones.
With the built-in stages, per data interval::

    ensure_partitions >> land_<entity>… >> promote_<entity>… (reference order)
        >> navigate (dbt via Cosmos) >> publish (Asset)

Building reads the source's own YAML file (rendered into ``doc_md``) and, for ``navigate``, the
source's dbt manifest slice (``atlas.dbt.manifest``): no database, no network, no dbt process.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, AssetAny, AssetOrTimeSchedule, CronDataIntervalTimetable

from atlas.alerts import task_callbacks
from atlas.batches import interval_macro
from atlas.config.source import SourceConfig
from atlas.constants import Layer
from atlas.factory.docs import render_doc_md
from atlas.stages import Stage, StageContext, ordered_stages
from atlas.stages.publish import navigate_asset_uri

log = logging.getLogger(__name__)

DEFAULT_RETRIES = 2
RETRY_DELAY = dt.timedelta(minutes=2)
RETRY_BACKOFF = 2.0
"""Multiplier of the retry delay: 2 min, then 4 min (capped by ``MAX_RETRY_DELAY``)."""
MAX_RETRY_DELAY = dt.timedelta(minutes=30)
EXECUTION_TIMEOUT = dt.timedelta(hours=2)
DAGRUN_TIMEOUT = dt.timedelta(hours=12)


def navigate_asset(source: str) -> Asset:
    """The Asset a source DAG updates when its interval reached ``navigate``; schedule on it downstream."""
    return Asset(navigate_asset_uri(source))


def timetable_for(schedule: str | None) -> CronDataIntervalTimetable | None:
    """A timetable with real data intervals (start < end) for a cron or preset; ``None`` = manual only.

    Airflow 3 turns a plain cron string into ``CronTriggerTimetable`` whose runs have
    ``data_interval_start == data_interval_end``; Atlas batches are intervals, so it asks for
    ``CronDataIntervalTimetable`` explicitly (which resolves Airflow's presets like ``@daily``).
    """
    if schedule is None:
        return None
    return CronDataIntervalTimetable(schedule.strip(), timezone="UTC")


def schedule_for(config: SourceConfig) -> Any:
    """The DAG's schedule: its cron timetable, and with ``trigger_on_assets`` an event on any of
    those assets as well (``AssetOrTimeSchedule``; the assets alone when ``schedule`` is null)."""
    timetable = timetable_for(config.schedule)
    if not config.trigger_on_assets:
        return timetable
    assets = AssetAny(*(Asset(uri) for uri in config.trigger_on_assets))
    if timetable is None:
        return assets
    return AssetOrTimeSchedule(timetable=timetable, assets=assets)


def dag_tags(config: SourceConfig) -> list[str]:
    """``atlas``, ``source:<name>``, the layers the DAG writes, then the YAML's own tags."""
    tags = ["atlas", f"source:{config.name}", *(f"layer:{layer}" for layer in Layer), *config.tags]
    return list(dict.fromkeys(tags))


def build_dag(config: SourceConfig, source_path: Path) -> DAG:
    """The DAG ``atlas_<name>`` of one source; ``source_path`` is its YAML file."""
    yaml_text = source_path.read_text(encoding="utf-8")
    dag = DAG(
        dag_id=config.dag_id,
        description=(config.description or f"Atlas source {config.name}")[:200],
        schedule=schedule_for(config),
        start_date=dt.datetime.combine(config.start_date, dt.time(), tzinfo=dt.UTC),
        catchup=config.catchup,
        max_active_runs=1,  # intervals land in order, as a source delivers them
        dagrun_timeout=DAGRUN_TIMEOUT,
        default_args=_default_args(config),
        tags=dag_tags(config),
        # {{ atlas_interval('start') }}: the run's interval, asset-triggered runs included
        user_defined_macros={"atlas_interval": interval_macro},
    )
    built: list[Stage] = []
    with dag:
        context = StageContext(config=config, source_path=source_path, dag=dag)
        previous: list[Any] = []
        for stage in ordered_stages():
            tasks = stage.add_tasks(context)
            if tasks is None:
                log.debug("%s: stage %s adds no task", dag.dag_id, stage.name)
                continue
            for upstream in previous:
                upstream >> list(tasks.first)
            previous = list(tasks.last)
            built.append(stage)
    dag.doc_md = render_doc_md(config, source_path, yaml_text, [stage.describe(config) for stage in built])
    return dag


def _default_args(config: SourceConfig) -> dict[str, Any]:
    return {
        "owner": config.owner,
        "retries": DEFAULT_RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": RETRY_BACKOFF,
        "max_retry_delay": MAX_RETRY_DELAY,
        "execution_timeout": EXECUTION_TIMEOUT,
        # a failed task alerts the source's routes (YAML `alerts` over include/alerts.yaml)
        **task_callbacks(config.name, config.alerts),
    }
