"""Erasure applied again on restore: an archived partition brought back after an erasure is erased
by the same code as the warehouse was (:mod:`atlas.dsr.erase`), never by deleting rows.

:func:`atlas.hooks.archive.ArchiveHook.restore` calls :func:`erase_restored` once the restored
partition verified: the tombstones (``compliance.erasure_tombstones``) of its table recorded after
the archive was made select the subjects' rows of that partition, which
:func:`~atlas.dsr.erase.erase_explore` (raw payloads: personal fields, payload and batch checksums)
or :func:`~atlas.dsr.erase.erase_navigate` (navigate's personal columns) overwrite, each audited
(``dsr.erasure``). The partition keeps every row, so counts and facts stay what they were.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
from psycopg import sql

from atlas.dsr.erase import Actor, erase_explore, erase_navigate
from atlas.dsr.find import Selection, navigate_tables
from atlas.dsr.targets import Target, load_targets
from atlas.exceptions import ArchiveError
from atlas.parquet_io import table_columns
from atlas.sql import load_sql


def erase_restored(
    conn: psycopg.Connection[Any],
    parent: str,
    partition: str,
    since: dt.datetime,
    actor: Actor,
    found: list[Target] | None = None,
) -> int:
    """Erase again, as erasure does, the subjects tombstoned since ``since`` in a partition just restored.

    The tombstones of ``parent`` recorded after the archive was made select the partition's rows
    of those subjects; :func:`erase_explore` (raw payloads, checksums) or :func:`erase_navigate`
    (personal columns) overwrite them in the caller's transaction (savepoints), each audited.
    ``found`` defaults to the source YAMLs' targets, read only when a tombstone applies.
    Returns the rows changed. A tombstone this cannot apply (a column the partition lacks, a raw
    payload field no entity with a ``subject`` reads) raises :class:`ArchiveError`: the restore
    is rolled back rather than bring a subject back.
    """
    with conn.cursor() as cur:
        tombstones = cur.execute(
            load_sql("archive", "tombstones"), {"table": parent, "since": since}
        ).fetchall()
        if not tombstones:
            return 0
        columns = {c.name for c in table_columns(conn, partition)}
        found = load_targets() if found is None else found
        for column, _, _ in tombstones:
            if column not in columns:
                raise ArchiveError(
                    f"an erasure tombstone names {parent}.{column}, which {partition} does not have"
                )
        if parent == "explore.raw_data":
            selected = _restored_payloads(partition, tombstones, found)
            return sum(erase_explore(conn, selected, actor).values())
        selected = _restored_rows(cur, parent, partition, tombstones)
    return sum(erase_navigate(conn, selected, found, actor).values())


def _in_partition(partition: str) -> sql.Composed:
    return sql.SQL("tableoid = {}::regclass AND ").format(sql.Literal(partition))


def _restored_payloads(
    partition: str, tombstones: list[tuple[Any, ...]], found: list[Target]
) -> list[Selection]:
    """Per entity with a subject, its restored raw rows whose key or identifier field is tombstoned
    (identifiers also lower-cased, as landing compares them: :mod:`atlas.dsr.landing`)."""
    hashes = {json_key: list(values) for _, json_key, values in tombstones}
    used: set[str] = set()
    out = []
    for target in found:
        matches: list[sql.Composable] = []
        params: list[Any] = [target.source, target.entity.name]
        fields = [(target.key.field, False), *((c.field, True) for c in target.identifiers)]
        for field, any_case in fields:
            if field not in hashes:
                continue
            used.add(field)
            value = sql.SQL("payload ->> {}").format(sql.Literal(field))
            matches.append(sql.SQL("compliance.subject_key_hash({}) = ANY(%s)").format(value))
            params.append(hashes[field])
            if any_case:
                matches.append(sql.SQL("compliance.subject_key_hash(lower({})) = ANY(%s)").format(value))
                params.append(hashes[field])
        if matches:
            where = (
                _in_partition(partition)
                + sql.SQL("source_name = %s AND entity_name = %s AND (")
                + sql.SQL(" OR ").join(matches)
                + sql.SQL(")")
            )
            out.append(Selection("explore", "explore.raw_data", where, tuple(params), target))
    if unused := sorted(set(hashes) - used):
        raise ArchiveError(
            f"erasure tombstones of explore.raw_data name the payload field(s) {unused}, which no entity "
            "with a subject in the source YAMLs reads: restore refused, it could not erase them again"
        )
    return out


def _restored_rows(
    cur: psycopg.Cursor[Any], parent: str, partition: str, tombstones: list[tuple[Any, ...]]
) -> list[Selection]:
    """The restored navigate rows of each tombstoned column, with the table's personal columns."""
    schema, table = parent.split(".", 1)
    if schema != "navigate":
        raise ArchiveError(f"erasure tombstones of {parent}: erasure overwrites explore and navigate only")
    out = []
    for column, json_key, values in tombstones:
        personal = next((p for name, _, p in navigate_tables(cur, column) if name == table), [])
        value = (
            sql.SQL("{} ->> {}").format(sql.Identifier(column), sql.Literal(json_key))
            if json_key
            else sql.SQL("{}::text").format(sql.Identifier(column))
        )
        where = _in_partition(partition) + sql.SQL("compliance.subject_key_hash({}) = ANY(%s)").format(value)
        out.append(
            Selection("navigate", parent, where, (list(values),), key=column, personal=tuple(personal))
        )
    return out
