"""ChartHook: promote one batch of an entity from ``explore.raw_data`` to its typed chart table.

Everything happens in one transaction, set-based in SQL (``include/sql/chart/``):

1. lock the chart table (advisory lock), create it from the YAML if missing, add new columns;
2. stage the batch's rows (one partition of ``explore.raw_data``) as typed columns (each read
   from its source field and trimmed or not as its column says, see :mod:`atlas.sql.chart`)
   plus the names of every rule each row fails, in an unlogged table of the transaction's own
   (``chart._stage_<batch>``: no WAL, and unlike a temporary table it lets PostgreSQL compute
   it with parallel workers; dropped before the commit);
3. replace the batch's rows in ``chart.quarantine`` with its failing rows;
4. remove keys an earlier run of this batch promoted that the batch no longer holds as valid
   rows (the chart then reflects the batch as it is now; an older version of such a key from an
   earlier batch is not restored: re-promote that batch to get it back);
5. write the valid rows, latest record wins (last ``raw_id`` per key in the batch, deduplicated
   only when the batch has duplicate keys; never over a row from a newer interval): an UPDATE of
   existing keys then an INSERT of new ones (the advisory lock serialises writers, so this is
   as safe as INSERT ... ON CONFLICT and skips its per-row speculative insertion);
6. retry the entity's rows other batches quarantined for a reference (a failed rule such as
   ``reference:orders(order_id)``, alone or with others: the source lands an order updated a
   day later in a later batch than its lines). They are re-validated with the same rules against
   the chart tables as they are now (this batch's rows included); those that pass are written,
   latest record wins (never over a newer interval's row, nor over a later raw row of their own
   interval), leave ``chart.quarantine`` and move from rows_rejected to rows_promoted of their
   original batch; the others stay quarantined with the rules they fail now (a reference
   satisfied since leaves ``failed_rules``, as a clean re-run of their batch would record it,
   whatever order the intervals ran in). Only batches whose promotion is
   recorded are retried, so a re-run changes nothing, and a re-run of an original batch recounts
   it from scratch (its rows that now pass are promoted again, idempotently);
7. record the counts in ``pipeline.batches``.

Counting (so that ``rows_landed = rows_promoted + rows_rejected`` holds exactly): every row of
the batch is either rejected (it failed at least one rule: one ``chart.quarantine`` row) or
promoted (it passed every rule). Rows are counted, not keys: a row superseded by a later row of
the same key in the batch, or one that does not overwrite newer data from a later interval,
still counts as promoted. ``rows_written`` reports how many chart rows were actually inserted or
updated. A retried row that passes counts the same way, in its own batch's counts (not in this
batch's ``rows_written``, which the log line and ``rows_recovered`` report separately).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airflow.providers.postgres.hooks.postgres import PostgresHook
from psycopg import Cursor, errors, sql

from atlas.audit import record_action
from atlas.batches import Interval, batch_id
from atlas.config import Entity, SourceConfig
from atlas.constants import WAREHOUSE_CONN_ID, Schema
from atlas.exceptions import PromotionError
from atlas.hooks import psycopg_connection
from atlas.hooks.locks import advisory_xact_lock
from atlas.sql import chart as chart_sql

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_WORK_MEM = "256MB"
"""work_mem of the promotion transaction: the per-batch sort (DISTINCT ON) stays in memory."""
DEFAULT_TEMP_BUFFERS = "64MB"
"""temp_buffers of the promotion transaction: the temporary tables of a retry stay in memory."""
DEFAULT_PARALLEL_WORKERS = 2
"""max_parallel_workers_per_gather of the promotion transaction (the staging query's workers)."""


@dataclass(frozen=True, slots=True)
class PromotionResult:
    """What one promotion did."""

    table: str
    """``chart.<source>__<entity>``."""
    batch_id: uuid.UUID
    rows_landed: int
    """Rows of the batch in ``explore.raw_data``."""
    rows_promoted: int
    """Rows that passed every rule."""
    rows_rejected: int
    """Rows written to ``chart.quarantine``."""
    rows_written: int
    """Chart rows inserted or updated (≤ rows_promoted: duplicates within the batch, rows older than
    the table's and rows already promoted unchanged from the same raw row are not written)."""
    rows_removed: int
    """Keys an earlier run of the batch promoted that it no longer holds."""
    columns_added: tuple[str, ...]
    """Columns added to an existing table because the YAML declares them now."""
    seconds: float
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: prepare (connect, settings, lock, DDL), stage, quarantine,
    remove_stale, upsert, retry, commit."""
    rows_retried: int = 0
    """Rows of other batches quarantined for a reference, re-validated."""
    rows_recovered: int = 0
    """Of those, rows that passed now: promoted and counted in their own batch."""

    @property
    def rows_per_second(self) -> float:
        return self.rows_landed / self.seconds if self.seconds > 0 else 0.0


class ChartHook(PostgresHook):
    """The warehouse as seen by promotion to ``chart``; one call, one transaction."""

    hook_name = "Atlas chart"

    def __init__(
        self,
        *args: Any,
        warehouse_conn_id: str = WAREHOUSE_CONN_ID,
        work_mem: str = DEFAULT_WORK_MEM,
        temp_buffers: str = DEFAULT_TEMP_BUFFERS,
        parallel_workers: int = DEFAULT_PARALLEL_WORKERS,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("postgres_conn_id", warehouse_conn_id)
        super().__init__(*args, **kwargs)
        self.work_mem = work_mem
        self.temp_buffers = temp_buffers
        self.parallel_workers = parallel_workers

    def promote(
        self,
        source: SourceConfig,
        entity_name: str,
        interval: Interval,
        *,
        dag_id: str | None = None,
        run_id: str | None = None,
        task_id: str | None = None,
    ) -> PromotionResult:
        """Promote the batch of ``entity_name`` for ``interval``; idempotent per batch."""
        entity = source.entity(entity_name)
        table_name = chart_sql.chart_table_name(source.name, entity.name)
        if len(table_name.encode()) > 63:
            raise PromotionError(
                f"chart table name {table_name!r} is longer than PostgreSQL's 63 bytes: "
                f"shorten the source or entity name in include/sources/{source.name}.yaml"
            )
        batch = batch_id(source.name, entity.name, interval)
        params: dict[str, Any] = {
            "batch_id": batch,
            "source_name": source.name,
            "entity_name": entity.name,
            "interval_start": interval.start,
            "interval_end": interval.end,
            "dag_id": dag_id,
            "run_id": run_id,
        }
        phases: dict[str, float] = {}
        started = time.perf_counter()
        with closing(psycopg_connection(self)) as conn:
            conn.autocommit = False
            with conn.transaction(), conn.cursor() as cur:
                counts = self._promote_batch(cur, source, entity, params, phases, started)
                record_action(
                    cur,
                    "promote.batch",
                    f"{Schema.CHART.value}.{table_name}",
                    counts["rows_promoted"],
                    dag_id=dag_id,
                    run_id=run_id,
                    task_id=task_id,
                    details={
                        "batch_id": str(batch),
                        "interval_start": interval.start.isoformat(),
                        "interval_end": interval.end.isoformat(),
                        "rows_landed": counts["rows_landed"],
                        "rows_rejected": counts["rows_rejected"],
                    },
                )
                commit_started = time.perf_counter()
            phases["commit"] = time.perf_counter() - commit_started
        result = PromotionResult(
            table=f"{Schema.CHART.value}.{table_name}",
            batch_id=batch,
            seconds=time.perf_counter() - started,
            phases=phases,
            **counts,
        )
        _log_result(result)
        return result

    def _promote_batch(
        self,
        cur: Cursor,
        source: SourceConfig,
        entity: Entity,
        params: dict[str, Any],
        phases: dict[str, float],
        started: float,
    ) -> dict[str, Any]:
        """Every step of a promotion inside its transaction; the counts of :class:`PromotionResult`."""
        table_name = chart_sql.chart_table_name(source.name, entity.name)
        settings = {
            "work_mem": self.work_mem,
            "temp_buffers": self.temp_buffers,
            "parallel_workers": str(self.parallel_workers),
        }
        cur.execute(chart_sql.load("session"), settings)
        advisory_xact_lock(cur, f"chart.{table_name}")
        added = self._ensure_tables(cur, source, entity)
        phases["prepare"] = time.perf_counter() - started
        stage = chart_sql.stage_table(params["batch_id"])
        landed, valid = self._timed(phases, "stage", self._stage, cur, source, entity, params, stage)
        rejected = self._timed(phases, "quarantine", self._quarantine, cur, params, stage)
        stale = chart_sql.delete_stale(source.name, entity, stage)
        removed = self._timed(phases, "remove_stale", self._execute, cur, stale, params)
        written = self._timed(phases, "upsert", self._upsert, cur, source, entity, params, stage, bool(added))
        cur.execute(chart_sql.on_stage("drop_stage", stage))
        retried, recovered = self._timed(phases, "retry", self._retry, cur, source, entity, params)
        if landed != valid + rejected:  # would be a bug in the rules: fail loudly
            raise PromotionError(
                f"{table_name}: batch {params['batch_id']} does not reconcile: {landed} rows, "
                f"{valid} valid + {rejected} quarantined"
            )
        self._record(cur, params, landed, valid, rejected)
        return {
            "rows_landed": landed,
            "rows_promoted": valid,
            "rows_rejected": rejected,
            "rows_written": written,
            "rows_removed": removed,
            "columns_added": tuple(added),
            "rows_retried": retried,
            "rows_recovered": recovered,
        }

    def _ensure_tables(self, cur: Cursor, source: SourceConfig, entity: Entity) -> list[str]:
        """The entity's table and those of the entities it references (whose chart may be empty)."""
        for ref in entity.references:
            if ref.entity != entity.name:
                self._ensure_table(cur, source.name, source.entity(ref.entity))
        return self._ensure_table(cur, source.name, entity)

    def _ensure_table(self, cur: Cursor, source: str, entity: Entity) -> list[str]:
        """Create the table when missing, else add the YAML columns it lacks; returns those added."""
        table_name = chart_sql.chart_table_name(source, entity.name)
        cur.execute(chart_sql.load("table_columns"), {"schema": Schema.CHART.value, "table": table_name})
        existing: dict[str, str] = dict(cur.fetchall())
        if not existing:
            cur.execute(chart_sql.create_table(source, entity))
            cur.execute(chart_sql.create_batch_index(source, entity.name))
            log.info("created table chart.%s with %s columns", table_name, len(entity.columns))
            return []
        added = []
        for column in entity.columns:
            have = existing.get(column.name)
            if have is None:
                cur.execute(chart_sql.add_column(source, entity.name, column))
                added.append(column.name)
                log.info("added column %s %s to chart.%s", column.name, column.type.pg_type, table_name)
            elif have != column.type.catalog_type:
                raise PromotionError(
                    f"chart.{table_name}.{column.name} is {have} but the YAML declares "
                    f"{column.type.value} ({column.type.pg_type}): change the column with a migration "
                    "(sql/) or restore the declared type"
                )
        return added

    def _stage(
        self,
        cur: Cursor,
        source: SourceConfig,
        entity: Entity,
        params: dict[str, Any],
        stage: sql.Identifier,
    ) -> tuple[int, int]:
        """Build the staging table; returns (rows of the batch, rows passing every rule)."""
        statement, rule_params = chart_sql.stage(source, entity, stage)
        cur.execute(statement, {**rule_params, **params})
        for check, check_params in chart_sql.self_reference_checks(source, entity, stage):
            cur.execute(check, check_params)
        cur.execute(chart_sql.analyze_stage(entity, stage))
        cur.execute(chart_sql.on_stage("stage_counts", stage))
        row = cur.fetchone()
        if row is None:  # an aggregate always returns a row
            raise PromotionError(f"stage_counts of {stage.as_string()} returned no row")
        landed, valid = row
        return int(landed), int(valid)

    @staticmethod
    def _timed(phases: dict[str, float], name: str, step: Callable[..., T], *args: Any) -> T:
        """Run one phase, adding its seconds to ``phases[name]``."""
        started = time.perf_counter()
        try:
            return step(*args)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started

    @staticmethod
    def _execute(cur: Cursor, statement: sql.Composed, params: dict[str, Any]) -> int:
        cur.execute(statement, params)
        return cur.rowcount

    @staticmethod
    def _quarantine(cur: Cursor, params: dict[str, Any], stage: sql.Identifier) -> int:
        """Replace the batch's ``chart.quarantine`` rows with its failing rows; returns how many."""
        cur.execute(chart_sql.load("delete_quarantine"), params)
        cur.execute(chart_sql.on_stage("quarantine", stage), params)
        return cur.rowcount

    @staticmethod
    def _upsert(
        cur: Cursor,
        source: SourceConfig,
        entity: Entity,
        params: dict[str, Any],
        stage: sql.Identifier,
        refresh: bool = False,
        retry: bool = False,
    ) -> int:
        """Write the valid staged rows, latest record wins; returns the chart rows written.

        Duplicate keys within the batch are rare, so the delete that keeps the last row of a key
        runs only when a unique index on the keys cannot be built (unique_stage_keys.sql, in a
        savepoint).
        """
        try:
            with cur.connection.transaction():
                cur.execute(chart_sql.unique_stage_keys(entity, stage))
        except errors.UniqueViolation:
            cur.execute(chart_sql.dedupe_stage(entity, stage))
            log.info(
                "batch %s: %s superseded rows of duplicate keys skipped", params["batch_id"], cur.rowcount
            )
        cur.execute(chart_sql.update(source.name, entity, stage, retry=retry), {**params, "refresh": refresh})
        updated = cur.rowcount
        cur.execute(chart_sql.insert(source.name, entity, stage), params)
        return updated + cur.rowcount

    def _retry(
        self, cur: Cursor, source: SourceConfig, entity: Entity, params: dict[str, Any]
    ) -> tuple[int, int]:
        """Re-validate other batches' rows quarantined for a reference; returns (retried, promoted).

        Those that pass every rule now are promoted; the others keep their quarantine row with
        the rules they fail now (a reference satisfied since is dropped from ``failed_rules``).
        """
        reference_rules = [chart_sql.reference_rule(ref) for ref in entity.references]
        if not reference_rules:
            return 0, 0
        cur.execute(chart_sql.retry_candidates(), {**params, "reference_rules": reference_rules})
        retried = cur.rowcount
        if retried <= 0:
            return 0, 0
        stage = chart_sql.RETRY_STAGE
        statement, rule_params = chart_sql.stage(source, entity, stage, retry=True)
        cur.execute(statement, {**rule_params, **params})
        for check, check_params in chart_sql.self_reference_checks(source, entity, stage):
            cur.execute(check, check_params)
        cur.execute(chart_sql.on_stage("refresh_quarantine", stage), params)
        cur.execute(chart_sql.on_stage("recover_quarantine", stage), params)
        per_batch = cur.fetchall()
        recovered = sum(int(n) for _, n in per_batch)
        written = 0
        if recovered:
            written = self._upsert(cur, source, entity, params, stage, retry=True)
        log.info(
            "%s.%s: retried %s rows other batches quarantined for a reference: %s promoted "
            "(%s chart rows written) across %s batches, %s still quarantined",
            source.name,
            entity.name,
            retried,
            recovered,
            written,
            len(per_batch),
            retried - recovered,
        )
        return retried, recovered

    def _record(self, cur: Cursor, params: dict[str, Any], landed: int, valid: int, rejected: int) -> None:
        """Write the reconciliation into ``pipeline.batches`` (checked against what landing recorded)."""
        cur.execute(chart_sql.load("batch_landed"), params)
        row = cur.fetchone()
        if row is not None and row[0] is not None and row[0] != landed:
            raise PromotionError(
                f"batch {params['batch_id']} ({params['source_name']}.{params['entity_name']}): "
                f"pipeline.batches says {row[0]} rows landed but explore.raw_data holds {landed}; "
                "re-run the interval's landing task before promoting it"
            )
        cur.execute(
            chart_sql.load("record_batch"),
            {**params, "rows_landed": landed, "rows_promoted": valid, "rows_rejected": rejected},
        )


def _log_result(result: PromotionResult) -> None:
    log.info(
        "promoted batch %s into %s: %s landed = %s promoted + %s rejected; %s written, "
        "%s stale removed; %s quarantined rows of other batches retried, %s promoted; "
        "in %.2fs (%.0f rows/s; %s)",
        result.batch_id,
        result.table,
        result.rows_landed,
        result.rows_promoted,
        result.rows_rejected,
        result.rows_written,
        result.rows_removed,
        result.rows_retried,
        result.rows_recovered,
        result.seconds,
        result.rows_per_second,
        ", ".join(f"{name} {seconds:.2f}s" for name, seconds in result.phases.items()),
    )
