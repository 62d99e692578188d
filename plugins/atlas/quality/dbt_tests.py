"""The outcomes of navigate's dbt tests, recorded in ``quality`` like the gate's checks.

Navigate runs as one ``dbt build`` per source interval in Cosmos's producer task
(:mod:`atlas.dbt.task_group`). Cosmos calls the producer's ``callback`` with the build's temporary
project folder after dbt ran and before it judges dbt's result, so also when a test failed;
:func:`record_build_tests` is that callback. It reads dbt's own artifacts there
(``target/run_results.json``: each test's status and failing-row count; ``target/manifest.json``:
what each test is) and stores every test like a quality check: its definition in
``quality.check_definitions`` and its result in ``quality.check_results`` with the failing rows as
metric value, linked to the entity's batch and the DAG run, so the daily scorecard counts it.

Dimension of a test, by its type (dbt's ``test_metadata.name``), :data:`DIMENSION_BY_TEST`:
``not_null`` completeness, ``unique`` uniqueness, ``accepted_values`` validity, ``relationships``
and Atlas's ``relationships_across_sources`` consistency, Atlas's ``scd2_versions`` (a version
ending before it starts, ``is_current`` disagreeing with ``valid_to``) consistency. A test can name
its own with ``config: {meta: {dimension: <one of the six>}}``; any other test counts as validity
(it checks rows against a rule). Severity: dbt's ``error`` is ``fail``, ``warn`` is ``warn``.
A test dbt skipped (its model failed) measured nothing and is not recorded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from atlas.batches import Interval, batch_id
from atlas.exceptions import QualityError
from atlas.quality.checks import Dimension
from atlas.sql import load_sql

log = logging.getLogger(__name__)

DIMENSION_BY_TEST: Mapping[str, Dimension] = {
    "not_null": Dimension.COMPLETENESS,
    "unique": Dimension.UNIQUENESS,
    "accepted_values": Dimension.VALIDITY,
    "relationships": Dimension.CONSISTENCY,
    "relationships_across_sources": Dimension.CONSISTENCY,
    "scd2_versions": Dimension.CONSISTENCY,
}
DEFAULT_DIMENSION = Dimension.VALIDITY
"""A custom test without ``meta.dimension`` checks rows against a rule: validity."""
RECORDED_STATUSES = frozenset({"pass", "warn", "fail", "error"})
"""dbt's test statuses that measured something (``skipped`` did not)."""


@dataclass(frozen=True)
class DbtTestOutcome:
    """One dbt test of a build, as a quality check."""

    name: str
    """dbt's test name (``accepted_values_shop__orders__status__…``)."""
    table: str
    """The tested relation, schema-qualified (``navigate.shop__orders``)."""
    entity: str | None
    """The source entity the tested model is built from, when there is exactly one."""
    column: str | None
    test_type: str
    dimension: str
    severity: str
    outcome: str
    failures: int | None
    details: dict[str, Any] = field(default_factory=dict)


def outcomes_of_build(
    run_results: Mapping[str, Any], manifest: Mapping[str, Any], source: str
) -> list[DbtTestOutcome]:
    """The recorded outcomes of the tests in a build's ``run_results`` (skipped ones left out)."""
    nodes = manifest.get("nodes") or {}
    outcomes = []
    for result in run_results.get("results") or []:
        unique_id = str(result.get("unique_id") or "")
        node = nodes.get(unique_id)
        if not unique_id.startswith("test.") or node is None:
            continue
        status = str(result.get("status"))
        if status not in RECORDED_STATUSES:
            log.info("dbt test %s was %s: not recorded", unique_id, status)
            continue
        tested = nodes.get(node.get("attached_node") or "") or _last_parent(node, nodes)
        test_type = str((node.get("test_metadata") or {}).get("name") or "singular")
        config = node.get("config") or {}
        outcomes.append(
            DbtTestOutcome(
                name=str(node["name"]),
                table=f"{tested['schema']}.{tested.get('alias') or tested['name']}" if tested else "navigate",
                entity=_entity(tested, nodes, source) if tested else None,
                column=_column(node.get("column_name")),
                test_type=test_type,
                dimension=_dimension(test_type, config, unique_id),
                severity="warn" if str(config.get("severity", "error")).lower() == "warn" else "fail",
                outcome=status,
                failures=result.get("failures"),
                details={
                    "engine": "dbt",
                    "unique_id": unique_id,
                    "message": result.get("message"),
                    "failures": result.get("failures"),
                },
            )
        )
    return outcomes


def _last_parent(node: Mapping[str, Any], nodes: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A test without ``attached_node`` (a singular test) tests the last node it reads."""
    parents = [nodes[p] for p in (node.get("depends_on") or {}).get("nodes") or [] if p in nodes]
    return parents[-1] if parents else None


def _entity(tested: Mapping[str, Any], nodes: Mapping[str, Any], source: str) -> str | None:
    """The tested model's entity: its own meta, else that of the source's staging models it reads
    (the ephemeral ``stg_<s>__<e>``; a fact joins dimensions too), when they name exactly one."""
    meta = tested.get("meta") or {}
    if meta.get("entity_name"):
        return str(meta["entity_name"])
    parents = [nodes.get(p) or {} for p in (tested.get("depends_on") or {}).get("nodes") or []]
    ours = [p for p in parents if (p.get("meta") or {}).get("source_name") == source]
    staging = [p for p in ours if (p.get("config") or {}).get("materialized") == "ephemeral"]
    entities = {str(p["meta"]["entity_name"]) for p in staging or ours if p["meta"].get("entity_name")}
    return entities.pop() if len(entities) == 1 else None


def _column(name: Any) -> str | None:
    return str(name).strip('"') if name else None


def _dimension(test_type: str, config: Mapping[str, Any], unique_id: str) -> str:
    declared = (config.get("meta") or {}).get("dimension")
    if declared is None:
        return DIMENSION_BY_TEST.get(test_type, DEFAULT_DIMENSION).value
    try:
        return Dimension(declared).value
    except ValueError:
        raise QualityError(
            f"dbt test {unique_id}: meta.dimension {declared!r} is not one of "
            f"{', '.join(d.value for d in Dimension)}"
        ) from None


def record_test_outcomes(
    conn: psycopg.Connection[Any],
    source: str,
    outcomes: Iterable[DbtTestOutcome],
    interval: Interval,
    *,
    dag_id: str | None,
    run_id: str | None,
) -> int:
    """Each outcome's definition and result, in one transaction; how many were recorded."""
    count = 0
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(load_sql("quality", "ensure_results_partition"))
        for outcome in outcomes:
            row = cur.execute(
                load_sql("quality", "upsert_definition"),
                {
                    "check_name": outcome.name,
                    "source_name": source,
                    "entity_name": outcome.entity,
                    "table_name": outcome.table,
                    "column_name": outcome.column,
                    "dimension_name": outcome.dimension,
                    "check_type": outcome.test_type,
                    "definition": Jsonb({"engine": "dbt", "unique_id": outcome.details.get("unique_id")}),
                    "severity": outcome.severity,
                },
            ).fetchone()
            cur.execute(
                load_sql("quality", "insert_result"),
                {
                    "check_id": row[0] if row else None,
                    "batch_id": batch_id(source, outcome.entity, interval) if outcome.entity else None,
                    "dag_id": dag_id,
                    "run_id": run_id,
                    "table_name": outcome.table,
                    "check_name": outcome.name,
                    "dimension_name": outcome.dimension,
                    "outcome": outcome.outcome,
                    "metric_value": outcome.failures,
                    "details": Jsonb(outcome.details),
                },
            )
            count += 1
    return count


def record_build_tests(
    project_dir: str, *, context: Mapping[str, Any], source: str, warehouse_conn_id: str, **_: Any
) -> None:
    """Cosmos callback of the producer task: the build's test outcomes into ``quality``.

    Without ``run_results.json`` dbt failed before running anything (a compile error): nothing to
    record, and Cosmos raises dbt's error right after this returns.
    """
    from atlas.hooks import psycopg_connection
    from atlas.hooks.quality import QualityHook

    target = Path(project_dir) / "target"
    if not (target / "run_results.json").is_file():
        log.warning("no dbt run_results.json in %s: no test outcome to record", target)
        return
    outcomes = outcomes_of_build(
        json.loads((target / "run_results.json").read_text()),
        json.loads((target / "manifest.json").read_text()),
        source,
    )
    ti = context["ti"]
    with psycopg_connection(QualityHook(warehouse_conn_id=warehouse_conn_id)) as conn:
        count = record_test_outcomes(
            conn, source, outcomes, Interval.from_context(context), dag_id=ti.dag_id, run_id=ti.run_id
        )
    for outcome in outcomes:
        if outcome.outcome != "pass":
            log.warning(
                "dbt test %s on %s: %s (%s, %s failing rows)",
                outcome.name,
                outcome.table,
                outcome.outcome,
                outcome.dimension,
                outcome.failures,
            )
    log.info("recorded %s dbt test outcomes of %s in quality.check_results", count, source)
