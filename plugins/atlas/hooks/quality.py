"""QualityHook: runs a source's checks for an interval and records every outcome in ``quality``.

One call (:meth:`QualityHook.check_interval`) generates the checks from the YAML
(``atlas.quality.checks``), runs the Soda ones in one scan (``atlas.hooks.soda``), runs the
row-count reconciliations itself (``include/sql/quality/reconcile_*.sql``), and writes each
check's definition (``quality.check_definitions``) and result with its metric value
(``quality.check_results``, linked to the entity's batch and the DAG run) in one transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from airflow.providers.postgres.hooks.postgres import PostgresHook
from psycopg import sql

from atlas.batches import Interval, batch_id
from atlas.config.source import SourceConfig
from atlas.constants import WAREHOUSE_CONN_ID, Schema
from atlas.hooks import psycopg_connection
from atlas.hooks.soda import SodaHook
from atlas.quality.checks import Check, generate_checks
from atlas.quality.results import CheckResult
from atlas.quality.sodacl import hand_written_files, render_sodacl
from atlas.sql import load_sql
from atlas.sql.chart import chart_table

log = logging.getLogger(__name__)

LAYER = "quality"


@dataclass(frozen=True)
class IntervalQuality:
    """What the checks of one interval found."""

    results: list[CheckResult]
    severities: dict[str, str]
    """Severity per check name (generated checks; a hand-written check's is its Soda outcome)."""
    scan_seconds: float

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.outcome == "fail"]

    @property
    def warned(self) -> list[CheckResult]:
        return [r for r in self.results if r.outcome == "warn"]


class QualityHook(PostgresHook):
    """The warehouse as the quality stages see it."""

    hook_name = "Atlas quality"

    def __init__(self, *args: Any, warehouse_conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        kwargs.setdefault("postgres_conn_id", warehouse_conn_id)
        super().__init__(*args, **kwargs)
        self.warehouse_conn_id = warehouse_conn_id

    @cached_property
    def soda(self) -> SodaHook:
        return SodaHook(self.warehouse_conn_id)

    def check_interval(
        self, config: SourceConfig, interval: Interval, *, dag_id: str | None, run_id: str | None
    ) -> IntervalQuality:
        """Run every check of the source's chart tables for ``interval`` and record the results."""
        batches = self._batches(config, interval)
        landed = {name for name, row in batches.items() if row and (row[1] or 0) > 0}
        checks = generate_checks(config, landed=landed)
        results = self._reconcile(config, interval, [c for c in checks if c.engine == "sql"], batches)
        hand = hand_written_files(config)
        report = self.soda.scan(
            render_sodacl(checks),
            {"interval_start": interval.start.isoformat(), "interval_end": interval.end.isoformat()},
            [f.path for f in hand],
        )
        results += report.results
        self.record(config, interval, checks, results, dag_id=dag_id, run_id=run_id)
        severities = {c.name: c.severity.value for c in checks}
        return IntervalQuality(results, severities, report.seconds)

    def _batches(self, config: SourceConfig, interval: Interval) -> dict[str, tuple[Any, ...] | None]:
        out: dict[str, tuple[Any, ...] | None] = {}
        with closing(psycopg_connection(self)) as conn:
            for entity in config.entities:
                row = conn.execute(
                    load_sql(LAYER, "batch"), {"batch_id": batch_id(config.name, entity.name, interval)}
                ).fetchone()
                out[entity.name] = tuple(row) if row else None
        return out

    def _reconcile(
        self,
        config: SourceConfig,
        interval: Interval,
        checks: Sequence[Check],
        batches: dict[str, tuple[Any, ...] | None],
    ) -> list[CheckResult]:
        """The row-count reconciliations of the promoted batches (a batch not promoted has none)."""
        results = []
        with closing(psycopg_connection(self)) as conn:
            for check in checks:
                batch = batches.get(check.entity)
                if batch is None or batch[2] is None:
                    continue
                verb = f"reconcile_{check.params['reconcile']}"
                statement = sql.SQL(load_sql(LAYER, verb)).format(
                    table=chart_table(config.name, check.entity)
                )
                params = {"batch_id": batch[0], "interval_start": interval.start}
                expected, actual = conn.execute(statement, params).fetchone() or (None, None)
                difference = None if expected is None or actual is None else actual - expected
                outcome = "pass" if difference == 0 else check.severity.value
                results.append(
                    CheckResult(
                        name=check.name,
                        table=check.table,
                        dimension=check.dimension.value,
                        outcome=outcome,
                        metric_value=None if difference is None else float(difference),
                        check_type=f"reconcile_{check.params['reconcile']}",
                        details={"engine": "sql", "expected": expected, "actual": actual},
                    )
                )
        return results

    def record(
        self,
        config: SourceConfig,
        interval: Interval,
        checks: Sequence[Check],
        results: Sequence[CheckResult],
        *,
        dag_id: str | None,
        run_id: str | None,
    ) -> None:
        """Each result and its check's definition, in one transaction."""
        by_name = {c.name: c for c in checks}
        entities = {f"{config.name}__{e.name}": e.name for e in config.entities}
        with closing(psycopg_connection(self)) as conn, conn.transaction():
            conn.execute(load_sql(LAYER, "ensure_results_partition"))
            for result in results:
                check = by_name.get(result.name)
                entity = check.entity if check else entities.get(result.table)
                table = f"{Schema.CHART.value}.{result.table}"
                definition: dict[str, Any] = (
                    {"params": check.params, "engine": check.engine}
                    if check
                    else {"engine": "soda", "sodacl": result.details.get("definition")}
                )
                row = conn.execute(
                    load_sql(LAYER, "upsert_definition"),
                    {
                        "check_name": result.name,
                        "source_name": config.name,
                        "entity_name": entity,
                        "table_name": table,
                        "column_name": check.column if check else result.column,
                        "dimension_name": result.dimension,
                        "check_type": check.kind.value if check else result.check_type,
                        "definition": json.dumps(definition, default=str),
                        "severity": check.severity.value if check else _hand_severity(result),
                    },
                ).fetchone()
                conn.execute(
                    load_sql(LAYER, "insert_result"),
                    {
                        "check_id": row[0] if row else None,
                        "batch_id": batch_id(config.name, entity, interval) if entity else None,
                        "dag_id": dag_id,
                        "run_id": run_id,
                        "table_name": table,
                        "check_name": result.name,
                        "dimension_name": result.dimension,
                        "outcome": result.outcome,
                        "metric_value": result.metric_value,
                        "details": json.dumps(dict(result.details), default=str),
                    },
                )
        log.info("recorded %s check results of %s for %s", len(results), config.name, interval)


def _hand_severity(result: CheckResult) -> str:
    """A hand-written check's severity as far as its outcome tells (a warn never blocks)."""
    return "warn" if result.outcome == "warn" else "fail"
