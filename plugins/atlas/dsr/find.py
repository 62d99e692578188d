"""A data subject's records in every layer: who the subject is (:func:`resolve`) and which rows of
which table are theirs (:func:`selections`), for the access export and for erasure alike.

Rows are found by keys and lineage, never by masked values: explore by the raw payload's subject
key field (``record_key`` when the subject key is the entity's key, which the index of V025
serves), chart by its typed subject key column, chart's quarantine by the payload's key field,
navigate by a column named like the subject key in every navigate table (current state, SCD2
history and facts), explore's quarantine (raw text that never parsed) by the subject's
identifier values appearing in it as whole values, without case (``compliance.line_names``,
sql/V031: ``joanna@x.org`` is no line of ``anna@x.org``). Entities without a subject of their own that reference an
entity with one (an order line its order, by the YAML's ``references``) hold the subject's records
too: :func:`related_selections` finds them through the referenced rows' keys, for the access export
(erasure has nothing to overwrite there: their personal data, if any, is their own entity's).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from atlas.config import Column
from atlas.dsr.targets import Target
from atlas.exceptions import SubjectRequestError
from atlas.sql import load_sql

MIN_QUARANTINE_MATCH = 5
"""Shortest identifier value searched for in explore's quarantine text (shorter ones match strangers)."""


@dataclass
class Subject:
    """Who a request is about: subject key values (as text) per key name, and identifier values."""

    keys: dict[str, list[str]] = field(default_factory=dict)
    """``{"customer_id": ["42"]}``: the subject's ids, canonical text of the key column's type."""
    identifiers: list[str] = field(default_factory=list)
    """Values of the subject's identifier columns (``email``), as requested and as recorded."""

    @property
    def found(self) -> bool:
        return any(self.keys.values())


@dataclass(frozen=True)
class Selection:
    """The subject's rows of one table: ``SELECT … FROM relation WHERE where``."""

    layer: str
    relation: str
    where: sql.Composed
    params: tuple[Any, ...]
    target: Target | None = None
    """The entity the rows belong to (None for navigate tables, found by column name). For a
    related entity (:func:`related_selections`, access only) one without a ``subject`` of its own."""
    key: str = ""
    """The subject key column (navigate) ."""
    personal: tuple[str, ...] = ()
    """Navigate: the personal columns (data dictionary); explore and chart take the target's."""
    via: str = ""
    """A related entity's rows: the reference they are the subject's by (``shop.order_lines.order_id -> orders``)."""

    @property
    def table(self) -> sql.Composable:
        return sql.Identifier(*self.relation.split(".", 1))


def _canonical(cur: psycopg.Cursor[Any], target: Target, values: set[str]) -> list[str]:
    """``values`` through the key column's type (``042`` -> ``42``); a value of the wrong type is refused."""
    if not values:
        return []
    pg_type = sql.SQL(target.key.type.pg_type)
    try:
        with cur.connection.transaction():
            cur.execute(
                sql.SQL("SELECT DISTINCT v::{}::text FROM unnest(%s::text[]) AS v ORDER BY 1").format(
                    pg_type
                ),
                (sorted(values),),
            )
            return [row[0] for row in cur.fetchall()]
    except psycopg.errors.DataError as err:
        raise SubjectRequestError(
            f"subject {target.key.name} {sorted(values)!r}: not a valid {target.key.type.value} "
            f"({err.diag.message_primary})"
        ) from None


def resolve(cur: psycopg.Cursor[Any], found: list[Target], given: Mapping[str, str | int]) -> Subject:
    """The subject's keys: those given, plus those of the records holding a given identifier."""
    raw: dict[str, set[str]] = {t.key.name: set() for t in found}
    for name, value in given.items():
        if name in raw:
            raw[name].add(str(value))
    identifiers = {str(v) for n, v in given.items() if any(n == c.name for t in found for c in t.identifiers)}
    for target in found:
        for column in target.identifiers:
            if column.name in given:
                raw[target.key.name] |= _keys_by_identifier(cur, target, column, str(given[column.name]))
    keys = {target.key.name: _canonical(cur, target, raw[target.key.name]) for target in found}
    for target in found:
        identifiers |= _identifier_values(cur, target, keys[target.key.name])
    return Subject(keys=keys, identifiers=sorted(v for v in identifiers if len(v) >= MIN_QUARANTINE_MATCH))


def _chart(target: Target) -> sql.Identifier:
    return sql.Identifier(*target.chart_table.split("."))


def _keys_by_identifier(cur: psycopg.Cursor[Any], target: Target, column: Column, value: str) -> set[str]:
    """Subject keys of the target's records (chart, raw, chart's quarantine) whose ``column`` is ``value``."""
    keys: set[str] = set()
    if _exists(cur, target.chart_table):
        query = sql.SQL("SELECT {}::text FROM {} WHERE lower({}::text) = lower(%s)").format(
            sql.Identifier(target.key.name), _chart(target), sql.Identifier(column.name)
        )
        keys |= {r[0] for r in cur.execute(query, (value,)) if r[0] is not None}
    for table in ("explore.raw_data", "chart.quarantine"):
        query = sql.SQL(
            "SELECT payload ->> {} FROM {} WHERE source_name = %s AND entity_name = %s"
            " AND lower(payload ->> {}) = lower(%s)"
        ).format(sql.Literal(target.key.field), sql.Identifier(*table.split(".")), sql.Literal(column.field))
        keys |= {r[0] for r in cur.execute(query, (target.source, target.entity.name, value)) if r[0]}
    return keys


def _identifier_values(cur: psycopg.Cursor[Any], target: Target, keys: list[str]) -> set[str]:
    """Every value the subject's identifier columns hold (chart and raw), to find their quarantined lines."""
    values: set[str] = set()
    if not keys:
        return values
    for column in target.identifiers:
        if _exists(cur, target.chart_table):
            query = sql.SQL("SELECT DISTINCT {}::text FROM {} WHERE {} = ANY(%s::{}[])").format(
                sql.Identifier(column.name),
                _chart(target),
                sql.Identifier(target.key.name),
                sql.SQL(target.key.type.pg_type),
            )
            values |= {r[0] for r in cur.execute(query, (keys,)) if r[0]}
        query = sql.SQL(
            "SELECT DISTINCT payload ->> {} FROM explore.raw_data WHERE source_name = %s AND entity_name = %s AND "
        ).format(sql.Literal(column.field)) + _raw_match(target)
        values |= {r[0] for r in cur.execute(query, (target.source, target.entity.name, keys)) if r[0]}
    return values


def _exists(cur: psycopg.Cursor[Any], relation: str) -> bool:
    return cur.execute("SELECT to_regclass(%s) IS NOT NULL", (relation,)).fetchone() == (True,)


def _raw_match(target: Target) -> sql.Composed:
    """The raw rows of the subject (bound parameter: the key values as text)."""
    if target.key_is_record_key:
        return sql.Composed([sql.SQL("record_key = ANY(%s)")])
    return sql.SQL("payload ->> {} = ANY(%s)").format(sql.Literal(target.key.field))


def selections(cur: psycopg.Cursor[Any], found: list[Target], subject: Subject) -> list[Selection]:
    """Every table's rows of the subject, in layer order: explore, chart, navigate."""
    out: list[Selection] = []
    same = sql.SQL("source_name = %s AND entity_name = %s AND ")
    for target in found:
        values = subject.keys.get(target.key.name) or []
        if not values:
            continue
        ids = (target.source, target.entity.name)
        out.append(
            Selection("explore", "explore.raw_data", same + _raw_match(target), (*ids, values), target)
        )
        if target.identifiers and subject.identifiers:
            out.append(
                Selection(
                    "explore",
                    "explore.quarantine",
                    same
                    + sql.SQL(
                        # strpos first: the whole-value check (sql/V031) only runs on candidate lines
                        "EXISTS (SELECT 1 FROM unnest(%s::text[]) AS v WHERE strpos(lower(raw_record), lower(v)) > 0"
                        " AND compliance.line_names(raw_record, v))"
                    ),
                    (*ids, subject.identifiers),
                    target,
                )
            )
        if _exists(cur, target.chart_table):
            where = sql.SQL("{} = ANY(%s::{}[])").format(
                sql.Identifier(target.key.name), sql.SQL(target.key.type.pg_type)
            )
            out.append(Selection("chart", target.chart_table, where, (values,), target))
        where = same + sql.SQL("payload ->> {} = ANY(%s)").format(sql.Literal(target.key.field))
        out.append(Selection("chart", "chart.quarantine", where, (*ids, values), target))
    for name, values in subject.keys.items():
        if not values:
            continue
        for table, pg_type, personal in navigate_tables(cur, name):
            where = sql.SQL("{} = ANY(%s::{}[])").format(sql.Identifier(name), sql.SQL(pg_type))
            out.append(
                Selection(
                    "navigate", f"navigate.{table}", where, (values,), key=name, personal=tuple(personal)
                )
            )
    return out


def related_selections(cur: psycopg.Cursor[Any], found: list[Target], subject: Subject) -> list[Selection]:
    """The rows of entities referencing an entity with a subject, by the subject's rows of that entity.

    Per reference of a subject-less entity to a target (``order_lines`` -> ``orders`` by ``order_id``):
    its raw payloads, chart rows, chart quarantine payloads and the navigate tables having the
    referencing columns but not the subject key (``fact_order_lines``), each matching the keys of
    the subject's rows in the target's chart table (the subject's order ids).
    """
    out: list[Selection] = []
    for target in found:
        values = subject.keys.get(target.key.name) or []
        if not values or not _exists(cur, target.chart_table):
            continue
        for entity in target.config.entities:
            for ref in (r for r in entity.references if r.entity == target.entity.name):
                if entity.subject is not None:
                    continue  # its own subject key finds its rows
                related = Target(target.config, entity)
                via = f"{related.source}.{entity.name}.{'+'.join(ref.columns)} -> {target.entity.name}"
                out += _referencing(cur, target, related, ref.columns, values, via)
    return out


def _referencing(
    cur: psycopg.Cursor[Any], target: Target, related: Target, columns: list[str], values: list[str], via: str
) -> list[Selection]:
    keys = sql.SQL(", ").join(map(sql.Identifier, target.entity.key))
    subjects = sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s::{}[])").format(
        keys, _chart(target), sql.Identifier(target.key.name), sql.SQL(target.key.type.pg_type)
    )
    as_text = sql.SQL("SELECT {} FROM ({}) AS s").format(
        sql.SQL(", ").join(sql.SQL("s.{}::text").format(sql.Identifier(k)) for k in target.entity.key),
        subjects,
    )
    fields = sql.SQL(", ").join(
        sql.SQL("payload ->> {}").format(sql.Literal(related.entity.column(c).field)) for c in columns
    )
    typed = sql.SQL(", ").join(map(sql.Identifier, columns))
    in_payload = sql.SQL("source_name = %s AND entity_name = %s AND ({}) IN ({})").format(fields, as_text)
    in_table = sql.SQL("({}) IN ({})").format(typed, subjects)
    ids = (related.source, related.entity.name, values)
    out = [Selection("explore", "explore.raw_data", in_payload, ids, related, via=via)]
    if _exists(cur, related.chart_table):
        out.append(Selection("chart", related.chart_table, in_table, (values,), related, via=via))
    out.append(Selection("chart", "chart.quarantine", in_payload, ids, related, via=via))
    tables = set.intersection(*(_table_names(cur, c) for c in columns)) - _table_names(cur, target.key.name)
    for table in sorted(tables):
        out.append(Selection("navigate", f"navigate.{table}", in_table, (values,), via=via))
    return out


def navigate_tables(cur: psycopg.Cursor[Any], column: str) -> list[tuple[str, str, list[str]]]:
    """The navigate tables having a column named ``column``: each table's name, that column's type
    and the table's personal columns (``compliance/subject_navigate_tables.sql``)."""
    return cur.execute(load_sql("compliance", "subject_navigate_tables"), {"key": column}).fetchall()


def _table_names(cur: psycopg.Cursor[Any], column: str) -> set[str]:
    return {table for table, _, _ in navigate_tables(cur, column)}


def collect(cur: psycopg.Cursor[Any], selection: Selection) -> list[dict[str, Any]]:
    """The selected rows as JSON objects (every column; PostgreSQL's JSON of each value)."""
    query = sql.SQL("SELECT to_jsonb(t) FROM {} AS t WHERE {}").format(selection.table, selection.where)
    return [row[0] for row in cur.execute(query, selection.params)]
