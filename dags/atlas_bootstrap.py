"""atlas_bootstrap: migrate the warehouse and sync the source registry.

Run it once after deploying (or trigger it after adding migrations): it applies ``sql/`` to the
``atlas_warehouse`` connection through the migrations ledger — a no-op when up to date — and
upserts every valid source YAML into ``explore.source_systems``.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import dag, task

from atlas.alerts import task_callbacks
from atlas.constants import Layer


@dag(
    dag_id="atlas_bootstrap",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    tags=["atlas", "global", f"layer:{Layer.EXPLORE}"],
    default_args={
        "owner": "atlas-platform",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=1),
        **task_callbacks(None),  # the project's default alert routes (include/alerts.yaml)
    },
    doc_md=__doc__,
)
def atlas_bootstrap() -> None:
    @task
    def migrate() -> list[str]:
        """Apply pending migrations; refuse if an applied file changed."""
        from atlas.migrations import migrate as apply_migrations
        from atlas.migrations import warehouse_dsn

        return apply_migrations(warehouse_dsn())

    @task
    def sync_sources() -> list[str]:
        """Upsert every valid source YAML into explore.source_systems."""
        from atlas.hooks.warehouse import WarehouseHook

        return WarehouseHook().sync_source_systems()

    migrate() >> sync_sources()


atlas_bootstrap()
