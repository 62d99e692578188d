"""Render the set-based promotion SQL of one entity from its columns and rules.

The statement texts live in ``include/sql/chart/<verb>.sql``; this module fills their
``{placeholders}`` with ``psycopg.sql`` objects built from the entity (identifiers always through
``sql.Identifier``) and collects the source field names and the rule constants (patterns,
bounds, allowed values, rule names) as bound parameters. Nothing here talks to the database.

Rule names, collected per row in ``chart.quarantine.failed_rules``:

=========================  ==================================================================
``required:<col>``         the field is missing or JSON null; or, when the column's
                           ``empty_as_null`` is on, empty (after trimming when ``trim`` is on,
                           so a value of only spaces too). Off, ``''`` passes
``type:<col>(<type>)``     the value does not cast to the column's type (``type:birth_date(date)``);
                           a ``''`` kept as a value (``empty_as_null`` off) fails it
``pattern:<col>``          the text value does not match the column's ``pattern``
``range:<col>``            the typed value is below ``min`` or above ``max``
``allowed_values:<col>``   the text value is not one of ``allowed_values``
``key:<col>``              a key column has no (valid) value
``reference:<entity>(<cols>)``  the referenced key is not in ``<entity>``'s chart table (or, for a
                           self-reference, among this batch's otherwise valid rows)
=========================  ==================================================================

Each column is read from the payload's field ``column.field`` (its ``source_field``, else its
name; bound as a parameter, never SQL text) into the chart column ``column.name``; rules always
name the column. Its text is normalised per column (``Entity.trims`` / ``Entity.empties_are_null``,
both on by default): ``trim`` strips surrounding spaces (``btrim``) before any rule and stores the
value stripped, ``empty_as_null`` turns ``''`` into NULL; with both off a text column stores the
payload's string byte for byte. Typed columns are cast from the text with surrounding spaces
stripped whatever ``trim`` says, as PostgreSQL's own casts ignore them (the ``pipeline.try_*``
casts expect trimmed input), so ``' 12 '`` is 12; ``trim`` then only decides what the text rules
(``pattern``, ``allowed_values``) see. A NULL reference column is no reference (SQL foreign-key
semantics).

The text rules (``pattern``, ``allowed_values``) pass a personal column (one navigate masks)
holding :data:`~atlas.dsr.targets.ERASED_TEXT`: an erased data subject's record, landed erased
(``atlas.dsr.landing``), is promoted as erasure left its chart row, not quarantined.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from atlas.config import Column, ColumnType, Entity, Reference, SourceConfig
from atlas.constants import Schema
from atlas.dsr.targets import ERASED_TEXT, holds_erased_text
from atlas.sql import load_sql

log = logging.getLogger(__name__)

LAYER = "chart"
RETRY_STAGE = sql.Identifier("_atlas_chart_retry")
"""The staging table of the quarantined rows a promotion retries (temporary, ON COMMIT DROP)."""
RETRY_ROWS = sql.Identifier("_atlas_chart_retry_rows")
"""The raw rows of those quarantined rows (retry_candidates.sql; temporary, ON COMMIT DROP)."""

_NOT_NEWER = sql.SQL("c._interval_start <= s._interval_start")
"""A batch's row overwrites a chart row whose interval is not newer (a re-run rewrites its own)."""
_OLDER = sql.SQL("(c._interval_start, c._raw_id) < (s._interval_start, s._raw_id)")
"""A retried row overwrites only an older interval's row or an earlier raw row of its interval."""

_CASTS: dict[ColumnType, str] = {
    ColumnType.INTEGER: "try_integer",
    ColumnType.BIGINT: "try_bigint",
    ColumnType.NUMERIC: "try_numeric",
    ColumnType.BOOLEAN: "try_boolean",
    ColumnType.DATE: "try_date",
    ColumnType.TIMESTAMP: "try_timestamptz",
}
"""Safe casts of ``sql/V050__chart_functions.sql`` (schema ``pipeline``) per column type."""

_BOUND_TYPES: dict[ColumnType, str] = {
    ColumnType.INTEGER: "numeric",
    ColumnType.BIGINT: "numeric",
    ColumnType.NUMERIC: "numeric",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamptz",
}
"""The type ``min`` / ``max`` are compared as (numeric bounds may have decimals on integers)."""


def stage_table(batch: uuid.UUID) -> sql.Identifier:
    """``chart._stage_<batch>``: the staging table of a batch's promotion.

    An UNLOGGED regular table, not a temporary one: PostgreSQL runs no parallel plan that writes
    or reads a temporary table, and the staging query is the promotion's main cost. It is
    created and dropped inside the promotion's transaction, so no other session ever sees it,
    and it writes no WAL.
    """
    return sql.Identifier(Schema.CHART.value, f"_stage_{batch.hex}")


def chart_table_name(source: str, entity: str) -> str:
    """``<source>__<entity>``, the entity's table in schema ``chart``."""
    return f"{source}__{entity}"


def chart_table(source: str, entity: str) -> sql.Identifier:
    """``chart.<source>__<entity>`` as a quoted, schema-qualified identifier."""
    return sql.Identifier(Schema.CHART.value, chart_table_name(source, entity))


def batch_index_name(table_name: str) -> str:
    """Name of the ``_batch_id`` index, kept under PostgreSQL's 63 bytes."""
    name = f"{table_name}_batch_idx"
    if len(name) <= 63:
        return name
    digest = hashlib.md5(table_name.encode(), usedforsecurity=False).hexdigest()[:12]
    return f"{table_name[:40]}_{digest}_batch_idx"


def reference_rule(ref: Reference) -> str:
    """``reference:orders(order_id)``."""
    return f"reference:{ref.entity}({','.join(ref.columns)})"


def load(verb: str, **parts: sql.Composable) -> sql.Composed:
    """``include/sql/chart/<verb>.sql`` with its ``{placeholders}`` filled."""
    return sql.SQL(load_sql(LAYER, verb)).format(**parts)


def _text(name: str) -> sql.Identifier:
    return sql.Identifier(f"_v_{name}")


def _json(name: str) -> sql.Identifier:
    return sql.Identifier(f"_j_{name}")


def _join(items: Sequence[sql.Composable], sep: str = ", ") -> sql.Composed:
    return sql.SQL(sep).join(items)


@dataclass
class _Params:
    """Bound parameters collected while rendering: rule constants ``%(p0)s``, ``%(p1)s`` … and
    source field names ``%(f0)s``, ``%(f1)s`` …"""

    values: dict[str, Any] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict, init=False, repr=False)

    def add(self, value: Any, cast: str | None = None, *, prefix: str = "p") -> sql.Composable:
        number = self._counts.get(prefix, 0)
        self._counts[prefix] = number + 1
        name = f"{prefix}{number}"
        self.values[name] = value
        placeholder = sql.Placeholder(name)
        return sql.SQL("{}::{}").format(placeholder, sql.SQL(cast)) if cast else placeholder

    def source_field(self, name: str) -> sql.Composable:
        """A payload field name, as a bound ``text`` parameter (field names are arbitrary text)."""
        return self.add(name, "text", prefix="f")


def create_table(source: str, entity: Entity) -> sql.Composed:
    """CREATE TABLE IF NOT EXISTS of the entity's typed table."""
    columns = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type.pg_type)) for c in entity.columns
    ]
    return load(
        "create_table",
        table=chart_table(source, entity.name),
        columns=_join(columns),
        key=_join([sql.Identifier(k) for k in entity.key]),
    )


def add_column(source: str, entity_name: str, column: Column) -> sql.Composed:
    """ALTER TABLE … ADD COLUMN IF NOT EXISTS for a column declared after the table was made."""
    return load(
        "add_column",
        table=chart_table(source, entity_name),
        column=sql.Identifier(column.name),
        column_type=sql.SQL(column.type.pg_type),
    )


def create_batch_index(source: str, entity_name: str) -> sql.Composed:
    """The ``_batch_id`` index of a chart table."""
    return load(
        "create_batch_index",
        table=chart_table(source, entity_name),
        index=sql.Identifier(batch_index_name(chart_table_name(source, entity_name))),
    )


def stage(
    source: SourceConfig, entity: Entity, stage: sql.Identifier, *, retry: bool = False
) -> tuple[sql.Composed, dict[str, Any]]:
    """The CREATE TABLE … AS of the rows' typed values and their failed rules.

    The rows are the batch's, into the unlogged ``stage`` (the caller binds ``batch_id`` and
    ``interval_start``) or, with ``retry``, the quarantined rows of ``retry_candidates.sql``
    into a temporary ``stage``. Returns the statement and its parameters (field names, rule
    constants).
    """
    params = _Params()
    texts, casts, typed = _column_parts(entity, params)
    rules: list[sql.Composable] = []
    for col in entity.columns:
        rules.extend(_column_rules(col, col.name in entity.key, params))
    joins, reference_rules = _reference_parts(source, entity, params)
    rules.extend(reference_rules)
    create = "CREATE TEMPORARY TABLE {} ON COMMIT DROP" if retry else "CREATE UNLOGGED TABLE {}"
    statement = load(
        "stage",
        create=sql.SQL(create).format(stage),
        rows=load("retry_rows", candidates=RETRY_ROWS) if retry else load("batch_rows"),
        typed_columns=_join(typed),
        rules=_join(rules) if rules else sql.SQL("NULL"),
        casts=_join(casts),
        texts=_join(texts),
        reference_joins=_join(joins, "\n  "),
    )
    return statement, params.values


def _column_parts(
    entity: Entity, params: _Params
) -> tuple[list[sql.Composable], list[sql.Composable], list[sql.Composable]]:
    """Per column: its text from the payload (level 1), its typed value (level 2), its staged name."""
    texts: list[sql.Composable] = []
    casts: list[sql.Composable] = []
    typed: list[sql.Composable] = []
    for col in entity.columns:
        key = params.source_field(col.field)
        raw = sql.SQL("r.payload ->> {}").format(key)
        texts.append(
            sql.SQL("{} AS {}").format(
                _normalised(raw, trim=entity.trims(col), empty_as_null=entity.empties_are_null(col)),
                _text(col.name),
            )
        )
        if col.type is ColumnType.JSON:
            texts.append(sql.SQL("nullif(r.payload -> {}, 'null'::jsonb) AS {}").format(key, _json(col.name)))
            casts.append(sql.SQL("v.{} AS {}").format(_json(col.name), sql.Identifier(col.name)))
        elif col.type is ColumnType.TEXT:
            casts.append(sql.SQL("v.{} AS {}").format(_text(col.name), sql.Identifier(col.name)))
        else:
            value = sql.SQL("v.{}").format(_text(col.name))
            if not entity.trims(col):  # the safe casts expect trimmed text, as PostgreSQL's ignore spaces
                value = sql.SQL("btrim({})").format(value)
            casts.append(
                sql.SQL("pipeline.{}({}) AS {}").format(
                    sql.Identifier(_CASTS[col.type]), value, sql.Identifier(col.name)
                )
            )
        typed.append(sql.SQL("t.{}").format(sql.Identifier(col.name)))
    return texts, casts, typed


def _reference_parts(
    source: SourceConfig, entity: Entity, params: _Params
) -> tuple[list[sql.Composable], list[sql.Composable]]:
    """The LEFT JOINs of the referenced chart tables and the reference rules on them."""
    joins: list[sql.Composable] = []
    rules: list[sql.Composable] = []
    for i, ref in enumerate(entity.references):
        if ref.entity == entity.name:
            continue  # checked against the staged rows afterwards: self_reference_checks()
        alias = sql.Identifier(f"_ref{i}")
        target = source.entity(ref.entity)
        on = _join(
            [
                sql.SQL("{}.{} = t.{}").format(alias, sql.Identifier(k), sql.Identifier(c))
                for k, c in zip(target.key, ref.columns, strict=True)
            ],
            " AND ",
        )
        joins.append(
            sql.SQL("LEFT JOIN {} AS {} ON {}").format(chart_table(source.name, ref.entity), alias, on)
        )
        present = _join([sql.SQL("t.{} IS NOT NULL").format(sql.Identifier(c)) for c in ref.columns], " AND ")
        rules.append(
            sql.SQL("CASE WHEN {} AND {}.{} IS NULL THEN {} END").format(
                present, alias, sql.Identifier(target.key[0]), params.add(reference_rule(ref), "text")
            )
        )
    return joins, rules


def payload_text(entity: Entity, column: Column) -> str:
    """SQL of ``column``'s value as text, read from the ``explore.raw_data`` row ``r`` as promotion
    normalises and casts it (so equal to ``chart.<column>::text``), with the field as a literal:
    for dbt's SQL, which binds no parameters (the history's re-masking, macros/masking_policy.sql)."""
    raw = sql.SQL("r.payload ->> {}").format(sql.Literal(column.field))
    text = _normalised(raw, trim=entity.trims(column), empty_as_null=entity.empties_are_null(column))
    if column.type not in (ColumnType.TEXT, ColumnType.JSON):
        text = sql.SQL("(btrim({})::{})::text").format(text, sql.SQL(column.type.pg_type))
    return text.as_string(None)


def _normalised(raw: sql.Composable, *, trim: bool, empty_as_null: bool) -> sql.Composable:
    """The column's text as the rules see it: ``btrim`` with ``trim``, ``''`` as NULL with
    ``empty_as_null``, else the payload's value exactly (``->>`` gives NULL for JSON null)."""
    if trim:
        raw = sql.SQL("btrim({})").format(raw)
    if empty_as_null:
        raw = sql.SQL("nullif({}, '')").format(raw)
    return raw


def _erased(col: Column, text: sql.Composable, params: _Params) -> sql.Composable:
    """``AND <text> <> '[erased]'`` for a personal column (see the module docstring), else nothing."""
    if not holds_erased_text(col):
        return sql.SQL("")
    return sql.SQL(" AND {} <> {}").format(text, params.add(ERASED_TEXT, "text"))


def _column_rules(col: Column, is_key: bool, params: _Params) -> list[sql.Composable]:
    """One ``CASE WHEN <failed> THEN '<rule>' END`` per rule declared on the column."""
    text, value = sql.SQL("t.{}").format(_text(col.name)), sql.SQL("t.{}").format(sql.Identifier(col.name))
    checks: list[tuple[sql.Composable, str]] = []
    if col.required:
        checks.append((sql.SQL("{} IS NULL").format(text), f"required:{col.name}"))
    if col.type not in (ColumnType.TEXT, ColumnType.JSON):
        checks.append(
            (
                sql.SQL("{} IS NOT NULL AND {} IS NULL").format(text, value),
                f"type:{col.name}({col.type.value})",
            )
        )
    erased = _erased(col, text, params)
    if col.pattern is not None:
        checks.append(
            (
                sql.SQL("{} !~ {}{}").format(text, params.add(col.pattern, "text"), erased),
                f"pattern:{col.name}",
            )
        )
    if col.min is not None or col.max is not None:
        bound_type = _BOUND_TYPES[col.type]
        bounds = []
        if col.min is not None:
            bounds.append(sql.SQL("{} < {}").format(value, params.add(str(col.min), bound_type)))
        if col.max is not None:
            bounds.append(sql.SQL("{} > {}").format(value, params.add(str(col.max), bound_type)))
        checks.append((_join(bounds, " OR "), f"range:{col.name}"))
    if col.allowed_values is not None:
        checks.append(
            (
                sql.SQL("{} <> ALL({}){}").format(
                    text, params.add(list(col.allowed_values), "text[]"), erased
                ),
                f"allowed_values:{col.name}",
            )
        )
    if is_key:
        checks.append((sql.SQL("{} IS NULL").format(value), f"key:{col.name}"))
    return [
        sql.SQL("CASE WHEN {} THEN {} END").format(condition, params.add(rule, "text"))
        for condition, rule in checks
    ]


def self_reference_checks(
    source: SourceConfig, entity: Entity, stage: sql.Identifier
) -> list[tuple[sql.Composed, dict[str, Any]]]:
    """UPDATEs of the staging table for references of the entity to itself (usually none)."""
    statements = []
    for ref in entity.references:
        if ref.entity != entity.name:
            continue
        pairs = list(zip(entity.key, ref.columns, strict=True))
        statement = load(
            "check_self_reference",
            stage=stage,
            table=chart_table(source.name, entity.name),
            present=_join(
                [sql.SQL("s.{} IS NOT NULL").format(sql.Identifier(c)) for c in ref.columns], " AND "
            ),
            chart_match=_match("c", "s", pairs),
            stage_match=_match("v", "s", pairs),
        )
        statements.append((statement, {"rule": reference_rule(ref)}))
    return statements


def _match(left: str, right: str, pairs: list[tuple[str, str]]) -> sql.Composed:
    return _join(
        [
            sql.SQL("{}.{} = {}.{}").format(
                sql.Identifier(left), sql.Identifier(k), sql.Identifier(right), sql.Identifier(c)
            )
            for k, c in pairs
        ],
        " AND ",
    )


def delete_stale(source: str, entity: Entity, stage: sql.Identifier) -> sql.Composed:
    """DELETE of keys an earlier run of the batch promoted that the batch no longer holds."""
    return load(
        "delete_stale",
        table=chart_table(source, entity.name),
        stage=stage,
        key_match=_match("s", "c", [(k, k) for k in entity.key]),
    )


def _record_key(entity: Entity) -> sql.Composed:
    return sql.SQL("concat_ws('|', {})").format(
        _join([sql.SQL("s.{}::text").format(sql.Identifier(k)) for k in entity.key])
    )


def unique_stage_keys(entity: Entity, stage: sql.Identifier) -> sql.Composed:
    """CREATE UNIQUE INDEX on the valid staged rows' key: fails when the batch has duplicate keys."""
    return load(
        "unique_stage_keys",
        stage=stage,
        stage_key=_join([sql.Identifier(k) for k in entity.key]),
    )


def dedupe_stage(entity: Entity, stage: sql.Identifier) -> sql.Composed:
    """DELETE of the valid staged rows superseded by a later valid row of the same key."""
    return load(
        "dedupe_stage",
        stage=stage,
        key_match=_match("d", "s", [(k, k) for k in entity.key]),
    )


def update(source: str, entity: Entity, stage: sql.Identifier, *, retry: bool = False) -> sql.Composed:
    """UPDATE of existing keys from the valid staged rows, latest record wins."""
    non_key = [c.name for c in entity.columns if c.name not in entity.key]
    return load(
        "update",
        table=chart_table(source, entity.name),
        stage=stage,
        key_match=_match("c", "s", [(k, k) for k in entity.key]),
        record_key=_record_key(entity),
        not_newer=_OLDER if retry else _NOT_NEWER,
        updates=_join([sql.SQL("{0} = s.{0}").format(sql.Identifier(n)) for n in non_key or entity.key]),
    )


def insert(source: str, entity: Entity, stage: sql.Identifier) -> sql.Composed:
    """INSERT of the valid staged rows whose key the table does not hold yet."""
    names = [c.name for c in entity.columns]
    return load(
        "insert",
        table=chart_table(source, entity.name),
        stage=stage,
        columns=_join([sql.Identifier(n) for n in names]),
        stage_columns=_join([sql.SQL("s.{}").format(sql.Identifier(n)) for n in names]),
        record_key=_record_key(entity),
        key_match=_match("c", "s", [(k, k) for k in entity.key]),
    )


def analyze_stage(entity: Entity, stage: sql.Identifier) -> sql.Composed:
    """ANALYZE of the staging table's columns the later plans depend on."""
    return load("analyze_stage", stage=stage, key=_join([sql.Identifier(k) for k in entity.key]))


def on_stage(verb: str, stage: sql.Identifier) -> sql.Composed:
    """A statement whose only placeholder is the staging table."""
    return load(verb, stage=stage)


def retry_candidates() -> sql.Composed:
    """CREATE TEMPORARY TABLE of the raw rows of the quarantined rows a promotion retries."""
    return load("retry_candidates", candidates=RETRY_ROWS)
