"""The PII scan of one landed batch: classify its columns, record detections and the inventory.

Per entity and interval: a sample of the batch's records (``sample_size``; every value of
``free_text`` columns) is read from ``explore.raw_data``, each text or date column classified
(:func:`atlas.pii.classify.classify_column`), and in one transaction the batch's detections are
replaced in ``compliance.pii_detections`` and the chart columns' rows of the data-asset inventory
(``compliance.data_assets``) updated: classification level, entity, last scan. A re-run of the
interval leaves the same rows. Personal data in a column the YAML does not declare as such is
reported as *undeclared*; a declared hint the data does not bear out as *unconfirmed*. The
confidential free-text columns' values are anonymised in the same transaction
(:mod:`atlas.pii.anonymize`, ``chart.anonymised_text``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from atlas.audit import record_action
from atlas.batches import Interval, batch_id
from atlas.config.source import SourceConfig
from atlas.config.types import Classification, ColumnType
from atlas.pii.anonymize import anonymise_batch
from atlas.pii.classify import ColumnClassification, classify_column

log = logging.getLogger(__name__)

SCANNED_TYPES = frozenset({ColumnType.TEXT, ColumnType.DATE})
"""Column types scanned: numbers, booleans, timestamps and JSON are not read as personal data."""


@dataclass
class ScanReport:
    """What the scan of one batch found."""

    source: str
    entity: str
    records: int
    columns: dict[str, ColumnClassification] = field(default_factory=dict)
    undeclared: list[tuple[str, str]] = field(default_factory=list)
    """``(column, entity)``: personal data the YAML does not declare."""
    unconfirmed: list[tuple[str, str]] = field(default_factory=list)
    """``(column, hint)``: a declared hint the sample does not bear out."""
    anonymised: int = 0
    """Free-text values anonymised into ``chart.anonymised_text``."""

    def summary(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "classified": {c: sorted(r.entities) for c, r in self.columns.items() if r.entities},
            "undeclared": [f"{c}: {e}" for c, e in self.undeclared],
            "unconfirmed": [f"{c}: {h}" for c, h in self.unconfirmed],
            "anonymised": self.anonymised,
        }


def scan_batch(
    conn: psycopg.Connection[Any],
    config: SourceConfig,
    entity_name: str,
    interval: Interval,
    *,
    sample_size: int,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
) -> ScanReport:
    """Classify the columns of the batch of ``entity_name`` for ``interval`` and record it."""
    entity = config.entity(entity_name)
    batch = batch_id(config.name, entity_name, interval)
    table = f"{config.name}__{entity_name}"
    columns = [c for c in entity.columns if c.type in SCANNED_TYPES]
    names = [c.name for c in entity.columns]
    with conn.cursor() as cur:
        records = cur.execute(
            "SELECT count(*) FROM explore.raw_data WHERE batch_id = %s AND interval_start = %s",
            (batch, interval.start),
        ).fetchone()
        report = ScanReport(config.name, entity_name, int(records[0]) if records else 0)
        sampled, _ = _column_values(
            cur, [c for c in columns if not c.free_text], batch, interval, sample_size
        )
        free_text, rows = _column_values(cur, [c for c in columns if c.free_text], batch, interval, None)
        values = {**sampled, **free_text}
        for column in columns:
            result = classify_column(
                column.name,
                values[column.name],
                hint=column.pii,
                free_text=column.free_text,
                other_columns=[n for n in names if n != column.name],
            )
            report.columns[column.name] = result
            if not column.pii:
                report.undeclared += [(column.name, e) for e in sorted(result.entities)]
            if column.pii and result.sampled and not result.entities:
                report.unconfirmed.append((column.name, column.pii))
        with conn.transaction():
            cur.execute("DELETE FROM compliance.pii_detections WHERE batch_id = %s", (batch,))
            for column in columns:
                result = report.columns[column.name]
                _record(cur, config, entity_name, table, column, result, batch)
            anonymised = {  # what navigate shows of confidential free text (atlas.pii.anonymize)
                c.name: [
                    (raw_id, start, value)
                    for (raw_id, start), value in zip(rows, free_text[c.name], strict=True)
                ]
                for c in columns
                if c.free_text and c.classification is Classification.CONFIDENTIAL
            }
            report.anonymised = anonymise_batch(cur, config.name, entity_name, batch, anonymised)
            record_action(
                cur,
                "pii.scan",
                f"chart.{table}",
                report.records,
                dag_id=dag_id,
                run_id=run_id,
                task_id=task_id,
                details={"batch_id": str(batch), **report.summary()},
            )
    for name, found in report.undeclared:
        log.warning("%s.%s: undeclared personal data: %s", table, name, found)
    for name, hint in report.unconfirmed:
        log.warning("%s.%s: declared %s, but the sampled values do not look like it", table, name, hint)
    return report


def _column_values(
    cur: psycopg.Cursor[Any], columns: list[Any], batch: Any, interval: Interval, limit: int | None
) -> tuple[dict[str, list[str | None]], list[tuple[int, Any]]]:
    """The values of ``columns`` in the batch's first ``limit`` records (all for ``None``), read
    in one pass over the batch rather than one per column; and each record's raw id and interval."""
    if not columns:
        return {}, []
    fields = sql.SQL(", ").join(sql.SQL("payload ->> {}").format(sql.Literal(c.field)) for c in columns)
    rows = cur.execute(
        sql.SQL(
            "SELECT raw_id, interval_start, {} FROM explore.raw_data WHERE batch_id = %s AND interval_start = %s"
            " ORDER BY raw_id LIMIT %s"
        ).format(fields),
        (batch, interval.start, limit),
    ).fetchall()
    values = {column.name: [row[i + 2] for row in rows] for i, column in enumerate(columns)}
    return values, [(row[0], row[1]) for row in rows]


def _record(
    cur: psycopg.Cursor[Any],
    config: SourceConfig,
    entity_name: str,
    table: str,
    column: Any,
    result: ColumnClassification,
    batch: Any,
) -> None:
    """The column's detections of this batch, and its row of the data-asset inventory."""
    for found in sorted(result.entities):
        matched = round(result.shares[found] * result.sampled)
        cur.execute(
            "INSERT INTO compliance.pii_detections (batch_id, source_name, entity_name, schema_name, table_name,"
            " column_name, presidio_entity, recognizer, rows_scanned, rows_matched, max_score, declared)"
            " VALUES (%s, %s, %s, 'chart', %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                batch,
                config.name,
                entity_name,
                table,
                column.name,
                found,
                "atlas.pii.classify",
                result.sampled,
                matched,
                round(result.max_scores[found], 3),
                found == column.pii,
            ),
        )
    level = Classification(column.classification)
    entity = column.pii or result.entity
    if result.entities and not column.pii and level in (Classification.PUBLIC, Classification.INTERNAL):
        level = Classification.CONFIDENTIAL  # what undeclared personal data needs at least
    cur.execute(
        "INSERT INTO compliance.data_assets AS a (schema_name, table_name, column_name, classification,"
        " pii_entity, source_name, entity_name, owner, last_scanned_at)"
        " VALUES ('chart', %s, %s, %s, %s, %s, %s, %s, now())"
        " ON CONFLICT (schema_name, table_name, column_name) DO UPDATE SET"
        " classification = EXCLUDED.classification, pii_entity = EXCLUDED.pii_entity,"
        " owner = EXCLUDED.owner, last_scanned_at = EXCLUDED.last_scanned_at, updated_at = now()",
        (table, column.name, level.value, entity, config.name, entity_name, config.owner),
    )
