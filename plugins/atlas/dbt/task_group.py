"""The navigate step of a source DAG: the source's dbt models and snapshots, rendered by Cosmos.

Every model and snapshot of ``include/atlas_dbt`` carries the tag ``source_<name>``; a source's
DAG renders only its own nodes (``select=["tag:source_<name>"]``) from its slice of the manifest
built at setup (``LoadMode.DBT_MANIFEST``: no ``dbt ls`` at DAG-parse time; one small manifest per
source, :mod:`atlas.dbt.manifest`, so parsing N source DAGs does not cost N full manifests). dbt lives in its own venv,
so Cosmos invokes it as a subprocess. Tests run after each model (``TestBehavior.AFTER_EACH``):
a failing test at severity error fails its test task and so the DAG run. Each task passes the
run's data interval as the dbt vars ``interval_start`` / ``interval_end``.

The warehouse connection is ``atlas_warehouse``. Cosmos's ``PostgresUserPasswordProfileMapping``
refuses a connection without a password (the ``trust`` / peer setups of local and test servers,
``postgresql://postgres@127.0.0.1:5432/atlas``); :class:`WarehouseProfileMapping` passes an empty
password through instead, and behaves exactly like its parent when a password is set.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import airflow  # noqa: F401  - imported before cosmos: cosmos first would hit a circular import (1.15)
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    InvocationMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
)
from cosmos.profiles import PostgresUserPasswordProfileMapping

from atlas.config import SourceConfig
from atlas.constants import WAREHOUSE_CONN_ID, Schema
from atlas.dbt.manifest import resolve_slices
from atlas.dbt.project import dbt_executable, dbt_project_dir

if TYPE_CHECKING:
    from airflow.sdk import DAG

log = logging.getLogger(__name__)

NAVIGATE_GROUP_ID = "navigate"
DBT_PROFILE_NAME = "atlas"
DBT_TARGET_NAME = "warehouse"
INTERVAL_VARS = {
    "interval_start": "{{ data_interval_start }}",
    "interval_end": "{{ data_interval_end }}",
}
"""dbt vars of every navigate task, templated by Airflow at run time (see macros/interval_filter.sql)."""


def source_tag(config: SourceConfig) -> str:
    """The dbt tag of a source's models and snapshots."""
    return f"source_{config.name}"


def build_navigate_group(
    config: SourceConfig, *, dag: DAG, manifest: Path | None = None, group_id: str = NAVIGATE_GROUP_ID
) -> DbtTaskGroup | None:
    """The Cosmos task group of the source's dbt nodes, or ``None`` when it has none.

    ``manifest`` defaults to ``include/atlas_dbt/target/manifest.json``; Cosmos reads the
    source's slice of it (``target/manifests/source_<name>.json``, see :mod:`atlas.dbt.manifest`),
    not the whole project. A missing manifest raises :class:`~atlas.exceptions.DbtProjectError`
    telling to run ``make setup``.
    """
    tag = source_tag(config)
    slices = resolve_slices(manifest)
    if not slices.tags.get(tag):
        log.info("source %s: no dbt models or snapshots tagged %s, no navigate group", config.name, tag)
        return None
    return render_navigate_group(tag, dag=dag, manifest=slices.path(tag), group_id=group_id)


def render_navigate_group(
    tag: str, *, dag: DAG, manifest: Path, group_id: str = NAVIGATE_GROUP_ID
) -> DbtTaskGroup:
    """The Cosmos group of the nodes tagged ``tag``, rendered from ``manifest`` as given (full or slice)."""
    executable = str(dbt_executable())
    return DbtTaskGroup(
        group_id=group_id,
        dag=dag,
        project_config=ProjectConfig(dbt_project_path=dbt_project_dir(), manifest_path=manifest),
        profile_config=ProfileConfig(
            profile_name=DBT_PROFILE_NAME,
            target_name=DBT_TARGET_NAME,
            profile_mapping=warehouse_profile_mapping(),
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=[f"tag:{tag}"],
            test_behavior=TestBehavior.AFTER_EACH,
            # a test on two models (an order line's product) runs once, after both: attached to
            # one parent it would run before the other is built (and fail on a first run)
            should_detach_multiple_parents_tests=True,
            dbt_executable_path=executable,
            invocation_mode=InvocationMode.SUBPROCESS,
            # No per-model Assets (this RenderConfig field overrides operator_args): Cosmos builds
            # each from the connection's host, and a Unix-socket host (``/run/postgresql``) gives
            # ``postgres:///…``, which Airflow's postgres asset sanitizer rejects, failing the
            # task. The DAG publishes one Asset per source once navigate is built (``publish``);
            # OpenLineage events still name every table.
            emit_datasets=False,
        ),
        execution_config=ExecutionConfig(
            dbt_executable_path=executable,
            invocation_mode=InvocationMode.SUBPROCESS,
        ),
        operator_args={"vars": dict(INTERVAL_VARS), "install_deps": False},
    )


LIBPQ_DEFAULT_PORT = 5432


class WarehouseProfileMapping(PostgresUserPasswordProfileMapping):
    """``PostgresUserPasswordProfileMapping`` that accepts a connection without a password or port.

    Cosmos reads the password through ``get_dbt_value``, which treats an empty value as missing
    and then fails with "Could not find a value for secret field password". An empty password
    is what a ``trust`` / peer server needs; dbt then receives it as ''. dbt also requires a
    port, which a URI without one (a Unix socket directory as host) leaves out: libpq's default
    5432 applies, as it does for every other client of the connection. With both set this
    behaves exactly like the parent class.
    """

    def get_dbt_value(self, name: str) -> Any:
        value = super().get_dbt_value(name)
        if value is None and name == "password":
            return self.conn.password or ""
        if value is None and name == "port":
            return LIBPQ_DEFAULT_PORT
        return value


def warehouse_profile_mapping(conn_id: str = WAREHOUSE_CONN_ID) -> WarehouseProfileMapping:
    """The dbt profile of the warehouse connection, writing to ``navigate``."""
    return WarehouseProfileMapping(conn_id=conn_id, profile_args={"schema": Schema.NAVIGATE.value})
