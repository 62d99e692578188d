"""The printed summary of ``make demo``: what each layer of the warehouse holds after the run."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import sql

# Every statement here is a fixed read-only query of the warehouse catalog and Atlas's own tables.
_LAYER_TABLES = """
SELECT n.nspname, count(*) FILTER (WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition),
       count(*) FILTER (WHERE c.relispartition)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('explore', 'chart', 'navigate', 'pipeline', 'quality', 'compliance', 'archive')
  AND c.relkind IN ('r', 'p')
GROUP BY n.nspname ORDER BY array_position(
  ARRAY['explore','chart','navigate','pipeline','quality','compliance','archive']::name[], n.nspname)
"""
_LANDED = """
SELECT source_name, entity_name, count(*) FROM explore.raw_data GROUP BY 1, 2 ORDER BY 1, 2
"""
_QUARANTINE = """
SELECT source_name, entity_name, reason, count(*) FROM explore.quarantine
GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
"""
_PARTITIONS = """
SELECT tableoid::regclass::text, count(*), min(interval_start)::date, max(interval_start)::date
FROM explore.raw_data GROUP BY 1 ORDER BY 1
"""
_BATCHES = """
SELECT source_name, entity_name, interval_start::date, rows_read, rows_landed, rows_quarantined,
       rows_promoted, rows_rejected,
       CASE WHEN rows_read = rows_landed + rows_quarantined
             AND (rows_promoted IS NULL OR rows_landed = rows_promoted + rows_rejected)
            THEN 'ok' ELSE 'MISMATCH' END
FROM pipeline.batches ORDER BY 1, 2, 3
"""
_CHART_REJECTS = """
SELECT source_name, entity_name, rule, count(*)
FROM chart.quarantine, unnest(failed_rules) AS rule GROUP BY 1, 2, 3 ORDER BY 1, 2, 4 DESC, 3
"""
_LAYER_COUNTS = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v') AND NOT c.relispartition
  AND c.relname NOT LIKE '\\_%%' ORDER BY 1
"""
_COUNT = sql.SQL("SELECT count(*) FROM {}")
_FACT_PARTITIONS = """
SELECT inhparent::regclass::text, inhrelid::regclass::text
FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
WHERE n.nspname = 'navigate' AND p.relkind = 'p' ORDER BY 1, 2
"""
_CUSTOMER_HISTORY = """
SELECT customer_id, street, city, change_hash, valid_from, valid_to, is_current
FROM navigate.dim_customer WHERE customer_id = 1 ORDER BY valid_from
"""


_QUALITY = """
SELECT table_name, dimension_name,
       count(*) FILTER (WHERE outcome = 'pass') AS pass, count(*) FILTER (WHERE outcome = 'warn') AS warn,
       count(*) FILTER (WHERE outcome IN ('fail', 'error')) AS fail
FROM (SELECT DISTINCT ON (table_name, check_name) table_name, check_name, dimension_name, outcome
      FROM quality.check_results ORDER BY table_name, check_name, executed_at DESC) AS latest
GROUP BY 1, 2 ORDER BY 1, 2
"""
_NOT_PASSED = """
SELECT table_name, check_name, dimension_name, outcome, metric_value,
       coalesce(details ->> 'engine', 'sql')
FROM (SELECT DISTINCT ON (table_name, check_name) * FROM quality.check_results
      ORDER BY table_name, check_name, executed_at DESC) AS latest
WHERE outcome <> 'pass' ORDER BY 1, 2
"""
_SCORECARDS = """
SELECT table_name, scorecard_date, score, grade, checks_passed || ' of ' || checks_total, dimension_scores::text
FROM quality.latest_scorecards ORDER BY table_name
"""
_ANOMALIES = """
SELECT table_name, metric_name, observed_at::date, value, round(mean, 3), round(stddev, 3), direction
FROM quality.anomalies ORDER BY detected_at DESC LIMIT 10
"""
_AUDIT = """
SELECT action, object_schema || '.' || object_name, count(*), sum(rows_affected), max(actor), max(event_time)::timestamp(0)
FROM compliance.audit_log GROUP BY 1, 2 ORDER BY 1, 2
"""
_PII = """
SELECT DISTINCT ON (table_name, column_name, presidio_entity)
       table_name, column_name, presidio_entity, CASE WHEN declared THEN 'yes' ELSE 'no' END,
       rows_matched || ' of ' || rows_scanned, max_score
FROM compliance.pii_detections ORDER BY table_name, column_name, presidio_entity, detected_at DESC
"""
_RAW_AND_MASKED = """
SELECT 'chart (raw)', first_name, email, phone, birth_date::text FROM chart.crm__customers WHERE customer_id = 1
UNION ALL
SELECT 'navigate (masked)', first_name, email, phone, birth_date::text FROM navigate.crm__customers WHERE customer_id = 1
"""
_TICKET_RAW_AND_ANONYMISED = """
SELECT * FROM (
    SELECT 'chart (raw)', ticket_id, left(body, 70) FROM chart.support__tickets WHERE body ~ '@' ORDER BY ticket_id LIMIT 1
) AS raw
UNION ALL
SELECT 'navigate (anonymised)', n.ticket_id, left(n.body, 70) FROM navigate.support__tickets AS n
WHERE n.ticket_id = (SELECT min(ticket_id) FROM chart.support__tickets WHERE body ~ '@')
"""


def _table(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    print(f"\n{title}")
    if not rows:
        print("  (none)")
        return
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in cells:
        print("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (relation,)).fetchone()[0]


def print_report(dsn: str) -> None:
    """Print the state of every layer of the warehouse at ``dsn``."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        _table(
            "warehouse schemas", ["schema", "tables", "partitions"], conn.execute(_LAYER_TABLES).fetchall()
        )
        _table("explore: rows landed", ["source", "entity", "rows"], conn.execute(_LANDED).fetchall())
        _table(
            "explore: quarantined at ingest (unparsable input)",
            ["source", "entity", "reason", "rows"],
            conn.execute(_QUARANTINE).fetchall(),
        )
        _table(
            "explore: partitions used",
            ["partition", "rows", "first interval", "last interval"],
            conn.execute(_PARTITIONS).fetchall(),
        )
        _table(
            "pipeline: batches and reconciliation (read = landed + quarantined; landed = promoted + rejected)",
            [
                "source",
                "entity",
                "interval",
                "read",
                "landed",
                "quarantined",
                "promoted",
                "rejected",
                "check",
            ],
            conn.execute(_BATCHES).fetchall(),
        )
        if _exists(conn, "chart.quarantine"):
            _table(
                "chart: rows quarantined by validation, per failed rule",
                ["source", "entity", "rule", "rows"],
                conn.execute(_CHART_REJECTS).fetchall(),
            )
        for layer in ("chart", "navigate"):
            counts = [
                (f"{schema}.{name}", conn.execute(_COUNT.format(sql.Identifier(schema, name))).fetchone()[0])
                for schema, name in conn.execute(_LAYER_COUNTS, (layer,)).fetchall()
            ]
            _table(f"{layer}: rows per table", ["table", "rows"], counts)
        _table(
            "navigate: yearly fact partitions",
            ["table", "partition"],
            conn.execute(_FACT_PARTITIONS).fetchall(),
        )
        if _exists(conn, "quality.check_results"):
            _table(
                "quality: latest outcome of each check (quality gate, dbt tests of navigate), per table and dimension",
                ["table", "dimension", "pass", "warn", "fail"],
                conn.execute(_QUALITY).fetchall(),
            )
            _table(
                "quality: checks whose latest outcome is not pass (metric: failing rows or share, lag, "
                "difference); tickets.customer_known is the demo's deliberately failing warn check "
                "(include/soda/support/)",
                ["table", "check", "dimension", "outcome", "metric", "engine"],
                conn.execute(_NOT_PASSED).fetchall(),
            )
        if _exists(conn, "quality.latest_scorecards"):
            _table(
                "quality scorecards (A >= 90, B >= 80, C >= 70, D >= 60, else F)",
                ["table", "day", "score", "grade", "checks passed", "per dimension"],
                conn.execute(_SCORECARDS).fetchall(),
            )
            _table(
                "quality anomalies (a batch metric outside mean ± 2 sd of its history, by default after 7 "
                "batches; support asks for 3 and ran 3 earlier days: its ticket burst of 2026-01-01 is "
                "flagged by the detector of the quality gate)",
                ["table", "metric", "interval", "value", "mean", "sd", "direction"],
                conn.execute(_ANOMALIES).fetchall(),
            )
        _table(
            "compliance: personal data the PII scan found (latest batch per column)",
            ["table", "column", "entity", "declared", "values matched", "max score"],
            conn.execute(_PII).fetchall(),
        )
        _table(
            "compliance.audit_log: the governed actions recorded (every demo run appends)",
            ["action", "object", "entries", "rows", "actor", "last"],
            conn.execute(_AUDIT).fetchall(),
        )
        if _exists(conn, "navigate.crm__customers"):
            _table(
                "customer 1: its raw chart row next to what navigate shows (masked by classification)",
                ["layer", "first_name", "email", "phone", "birth_date"],
                conn.execute(_RAW_AND_MASKED).fetchall(),
            )
        if _exists(conn, "navigate.support__tickets"):
            _table(
                "a support ticket's free-text body in chart and in navigate (anonymised by the PII stage)",
                ["layer", "ticket_id", "body"],
                conn.execute(_TICKET_RAW_AND_ANONYMISED).fetchall(),
            )
        if _exists(conn, "navigate.dim_customer"):
            _table(
                "navigate.dim_customer: SCD2 history of customer 1 (moved on the second day; PII masked)",
                ["customer_id", "street", "city", "change_hash", "valid_from", "valid_to", "is_current"],
                conn.execute(_CUSTOMER_HISTORY).fetchall(),
            )
