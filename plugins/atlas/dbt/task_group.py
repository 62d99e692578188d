"""The navigate step of a source DAG: the source's dbt models and snapshots, rendered by Cosmos.

Every model and snapshot of ``include/atlas_dbt`` carries the tag ``source_<name>``; a source's
DAG renders only its own nodes (``select=["tag:source_<name>"]``) from its slice of the manifest
built at setup (``LoadMode.DBT_MANIFEST``: no ``dbt ls`` at DAG-parse time; one small manifest per
source, :mod:`atlas.dbt.manifest`, so parsing N source DAGs does not cost N full manifests).

The group runs in ``ExecutionMode.WATCHER``: the task ``dbt_producer_watcher`` runs one
``dbt build --select tag:source_<name> --indirect-selection cautious`` in-process
(``InvocationMode.DBT_RUNNER``: dbt is installed with Airflow), and each model, snapshot and test
(``TestBehavior.AFTER_EACH``) is a sensor task that succeeds or fails as dbt reports its node, so
the UI still shows every node while dbt starts once per source interval (docs/design.md has the
figures). A failing test at severity error fails its task and so the DAG run; every test's outcome
is also recorded in ``quality`` (:func:`record_tests_in_quality`). The build gets the
run's data interval as the environment variables ``ATLAS_INTERVAL_START`` / ``ATLAS_INTERVAL_END``
(:data:`INTERVAL_ENV`) and the DAG run as ``ATLAS_DAG_ID`` / ``ATLAS_RUN_ID`` / ``ATLAS_TASK_ID``
(:data:`RUN_ENV`, for the audit entries dbt writes).

The warehouse connection is ``atlas_warehouse``. Cosmos's ``PostgresUserPasswordProfileMapping``
refuses a connection without a password (the ``trust`` / peer setups of local and test servers,
``postgresql://postgres@127.0.0.1:5432/atlas``); :class:`WarehouseProfileMapping` passes an empty
password through instead, and behaves exactly like its parent when a password is set.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import airflow  # noqa: F401  - imported before cosmos: cosmos first would hit a circular import (1.15)
from airflow.sdk import TriggerRule
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    ExecutionMode,
    InvocationMode,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
    TestBehavior,
    TestIndirectSelection,
)
from cosmos.operators._watcher.base import BaseConsumerSensor
from cosmos.operators.watcher import DbtProducerWatcherOperator
from cosmos.profiles import PostgresUserPasswordProfileMapping

from atlas.batches import interval_macro
from atlas.config import SourceConfig
from atlas.constants import WAREHOUSE_CONN_ID, Schema
from atlas.dbt.manifest import resolve_slices
from atlas.dbt.project import dbt_project_dir

if TYPE_CHECKING:
    from airflow.sdk import DAG

log = logging.getLogger(__name__)

NAVIGATE_GROUP_ID = "navigate"
DBT_PROFILE_NAME = "atlas"
DBT_TARGET_NAME = "warehouse"
INTERVAL_ENV = {
    "ATLAS_INTERVAL_START": "{{ atlas_interval('start') }}",
    "ATLAS_INTERVAL_END": "{{ atlas_interval('end') }}",
}
"""The run's interval for dbt, templated by Airflow at run time (macros/interval_filter.sql)
through the DAG's ``atlas_interval`` macro (:func:`atlas.batches.interval_macro`), which also
covers asset-triggered runs (no data interval of their own).

Environment variables, not dbt ``--vars``: dbt keeps its parsed project between invocations
(partial parse, ``partial_parse.msgpack``, which Cosmos caches per worker) only while the vars
stay the same, and the interval changes with every run; the macro reads these at execution only.
"""
RUN_ENV = {
    "ATLAS_DAG_ID": "{{ dag.dag_id }}",
    "ATLAS_RUN_ID": "{{ run_id }}",
    "ATLAS_TASK_ID": "{{ task.task_id }}",
}
"""The DAG run building navigate, for the audit entries dbt writes (``masking.policy_change``,
macros/masking_policy.sql reads them through ``atlas_audit_run``): environment variables, not
vars, for the same reason as :data:`INTERVAL_ENV`. Without them (a ``dbt build`` at a shell) the
entries name no DAG run."""
DBT_ENV = {**INTERVAL_ENV, **RUN_ENV}
"""The environment the producer gives dbt: the interval and the DAG run."""


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
    group = render_navigate_group(tag, dag=dag, manifest=slices.path(tag), group_id=group_id)
    record_tests_in_quality(group, config)
    return group


def record_tests_in_quality(group: DbtTaskGroup, config: SourceConfig) -> None:
    """The build's test outcomes go to ``quality`` like the quality gate's checks.

    Cosmos calls the producer's ``callback`` with the build's project folder after dbt ran, failed
    tests included (:func:`atlas.quality.dbt_tests.record_build_tests`).
    """
    producer = next(task for task in group.iter_tasks() if isinstance(task, DbtProducerWatcherOperator))
    producer.callback = "atlas.quality.dbt_tests.record_build_tests"
    producer.callback_args = {"source": config.name, "warehouse_conn_id": WAREHOUSE_CONN_ID}


def render_navigate_group(
    tag: str, *, dag: DAG, manifest: Path, group_id: str = NAVIGATE_GROUP_ID
) -> DbtTaskGroup:
    """The Cosmos group of the nodes tagged ``tag``, rendered from ``manifest`` as given (full or slice)."""
    # INTERVAL_ENV's macro, on whichever DAG the group joins (build_dag sets it too)
    dag.user_defined_macros = {**(dag.user_defined_macros or {}), "atlas_interval": interval_macro}
    group = DbtTaskGroup(
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
            # a test on two models (an order line's product) counts in both models' test tasks:
            # dbt runs it once, after both are built, and every node task reads the result after
            # the build. (Cosmos 1.15's task of a detached test never gets a result in WATCHER.)
            should_detach_multiple_parents_tests=False,
            invocation_mode=InvocationMode.DBT_RUNNER,
            # No per-model Assets (this RenderConfig field overrides operator_args): Cosmos builds
            # each from the connection's host, and a Unix-socket host (``/run/postgresql``) gives
            # ``postgres:///…``, which Airflow's postgres asset sanitizer rejects, failing the
            # task. The DAG publishes one Asset per source once navigate is built (``publish``);
            # OpenLineage events still name every table.
            emit_datasets=False,
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.DBT_RUNNER,
            # a test of two sources' models is tagged with the child's source (models/navigate/
            # schema.yml, checked by atlas.dbt.manifest): only the DAG building the child selects
            # it, never the parent's. The producer runs the build; the test tasks' retries too.
            test_indirect_selection=TestIndirectSelection.CAUTIOUS,
            setup_operator_args={"indirect_selection": TestIndirectSelection.CAUTIOUS.value},
        ),
        operator_args={"env": dict(DBT_ENV), "install_deps": False},
    )
    producer = next(task for task in group.iter_tasks() if isinstance(task, DbtProducerWatcherOperator))
    watch_after_the_build(group, producer)
    count_tests_once(producer, manifest)
    return group


def count_tests_once(producer: DbtProducerWatcherOperator, manifest: Path) -> None:
    """A test on two models counts in the test task of the model it is defined on only.

    Cosmos lists it under both parents (``tests_per_model``), so a product dimension's test task
    would fail when the order lines' check of their product did not run because the order lines
    failed. Each model's test task then reports that model's own tests.
    """
    nodes = json.loads(manifest.read_text()).get("nodes", {})
    producer.tests_per_model = {
        model: [test for test in tests if nodes.get(test, {}).get("attached_node") in (None, model)]
        for model, tests in producer.tests_per_model.items()
    }


CONSUMER_POKE_SECONDS = 2
"""How long a node's task waits between two looks for its node's result (poke mode)."""
CONSUMER_TIMEOUT_SECONDS = 120
"""A node's task starts after the build, so its result is there at once; missing after this, it fails."""


def watch_after_the_build(group: DbtTaskGroup, producer: DbtProducerWatcherOperator) -> None:
    """Start the node tasks once the build (the producer) is done, and let them poke, never defer.

    Cosmos starts a task group's node tasks alongside the producer and has them wait for it in the
    triggerer (or by rescheduling). ``dag.test()`` (``make run``, ``make demo``, the tests) runs one
    task at a time: a node task picked before the producer would wait forever for a build that
    cannot start, and rescheduling a task deadlocks Airflow 3.3's in-process API client. So each
    node task none of whose upstream tasks is another node task gets the producer upstream, with
    ``all_done_min_one_success``: it runs after the build whether dbt failed or not (a failed
    build still reports each node: the tasks of passing nodes turn green, a failing test's task
    red, and dbt's skipped dependents upstream-failed), and not when the stage before navigate
    failed (then nothing upstream succeeded). Node results are in XCom by then: the first poke
    finds them, so no slot is held and no triggerer is needed.
    """
    watchers = {task.task_id: task for task in group.iter_tasks() if isinstance(task, BaseConsumerSensor)}
    for task in watchers.values():
        task.deferrable = False
        task.mode = "poke"
        task.poke_interval = CONSUMER_POKE_SECONDS
        task.timeout = CONSUMER_TIMEOUT_SECONDS
        if not task.upstream_task_ids & watchers.keys():
            producer >> task
            task.trigger_rule = TriggerRule.ALL_DONE_MIN_ONE_SUCCESS


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
