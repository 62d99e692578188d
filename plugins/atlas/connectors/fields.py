"""The fields a source sends against the columns an entity declares, for every connector.

A CSV header, a Parquet schema, a query's columns and the keys of a batch of JSON records are
checked the same way. Always fatal (the batch fails, nothing lands): a field name that appears
twice, a name holding NUL (PostgreSQL's jsonb cannot store it) and, for sources with a schema, a
missing key field. By the entity's ``on_unknown_columns`` (``fail`` | ``warn`` | ``ignore``):
an empty field name, a declared field the source lacks, a field no column declares, and a name
that matches a declared field only when case and surrounding spaces are ignored (``Note`` for
``note``: the column would be NULL in chart). ``warn`` returns notes, which the batch logs and
keeps in ``pipeline.batches.notes``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from atlas.config.source import Entity
from atlas.config.types import OnUnknownColumns
from atlas.exceptions import ConnectorError

if TYPE_CHECKING:
    from atlas.connectors.base import Chunk

_SHOWN = 10
"""Names listed in a message at most."""


def _names(names: Iterable[str]) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _folded(name: str) -> str:
    return name.strip().casefold()


def check_fields(fields: Sequence[str], entity: Entity, where: str, *, schema: bool = True) -> list[str]:
    """Check ``fields`` (in source order) against ``entity``; notes for the batch, or raise.

    ``where`` names the file or table in messages. ``schema`` is True when ``fields`` is the
    source's full list (a header, a schema): then duplicates and missing fields can be judged.
    For a batch of JSON records (``schema=False``, the union of their keys) they cannot.
    """
    present = set(fields)
    problems = _fatal(fields, entity, where, schema=schema)
    if problems:
        raise ConnectorError("; ".join(problems))
    declared = {c.field: c.name for c in entity.columns}
    folded = {_folded(f): f for f in fields}
    found: list[str] = []
    empty = [i + 1 for i, f in enumerate(fields) if not f.strip()]
    if empty:
        found.append(f"{where}: field(s) at position {', '.join(map(str, empty))} have no name")
    missing = [f for f in declared if f not in present]
    near = {f: folded[_folded(f)] for f in missing if _folded(f) in folded}
    for field, seen in near.items():
        found.append(
            f"{where}: field {seen!r} matches the field {field!r} of column {declared[field]!r} only when "
            f"case and surrounding spaces are ignored: set `source_field: {seen!r}` on the column or fix the source"
        )
    absent = [f for f in missing if f not in near]
    if schema and absent:
        found.append(
            f"{where}: no field {_names(absent)} for the declared column(s) (they stay NULL in chart)"
        )
    unknown = [f for f in dict.fromkeys(fields) if f not in declared and f.strip() and f not in near.values()]
    if unknown:
        found.append(
            f"{where}: field(s) {_names(unknown)} match no declared column (they land in explore only)"
        )
    if not found or entity.on_unknown_columns is OnUnknownColumns.IGNORE:
        return []
    if entity.on_unknown_columns is OnUnknownColumns.FAIL:
        raise ConnectorError("; ".join(found) + f" (entity {entity.name}: on_unknown_columns: fail)")
    return found


def _fatal(fields: Sequence[str], entity: Entity, where: str, *, schema: bool) -> list[str]:
    problems = []
    counts = Counter(fields)
    for name, count in counts.items():
        if count > 1:
            places = [str(i + 1) for i, f in enumerate(fields) if f == name]
            problems.append(
                f"{where}: the field {name!r} appears {count} times (positions {', '.join(places)}): "
                "a record would keep only the last value; rename the duplicates in the source"
            )
    nul = [f for f in counts if "\x00" in f]
    if nul:
        problems.append(
            f"{where}: field name(s) {_names(nul)} hold a NUL character, which jsonb cannot store"
        )
    if schema:
        present = set(fields)
        folded = {_folded(f): f for f in fields}
        for key in entity.key:
            field = entity.column(key).field
            if field not in present:
                hint = (
                    f" (found {folded[_folded(field)]!r}: set `source_field` or fix the source)"
                    if _folded(field) in folded
                    else ""
                )
                problems.append(
                    f"{where}: no field {field!r} for key column {key!r}{hint}; nothing can land without it"
                )
    return problems


class RecordFields:
    """The check for sources without a schema (JSON lines, HTTP): each new key, once per extract."""

    def __init__(self, entity: Entity, where: str) -> None:
        self.entity = entity
        self.where = where
        self.seen: set[str] = set()

    def check(self, chunk: Chunk) -> Chunk:
        """``chunk``, with notes about the keys of its records not seen before in this extract."""
        keys = {key for payload, _ in chunk.records for key in payload} - self.seen
        if keys:
            self.seen |= keys
            chunk.notes.extend(check_fields(sorted(keys), self.entity, self.where, schema=False))
        return chunk
