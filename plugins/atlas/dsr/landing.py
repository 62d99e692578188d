"""Erasure at landing: a record of an erased data subject is landed already erased.

Erasure (:mod:`atlas.dsr.erase`) overwrites what the warehouse holds, but a re-run or backfill of
an old interval lands the source's records again, and a source that still holds the subject would
bring them back. So the landing of an entity with a ``subject`` reads the erasure tombstones of
``explore.raw_data`` (``compliance.erasure_tombstones``) for its subject key field and identifier
fields once per batch, and a record whose value of one of those fields hashes to a tombstone
(``compliance.subject_key_hash``: SHA-256 hex of the value's text, as ``payload ->> field``
gives it) is written as erasure leaves it (:func:`atlas.dsr.erase.erased_payload`). Identifier
values are also compared lower-cased, as :mod:`atlas.dsr.find` compares them without case (the
tombstones hold the lower-cased form too, :func:`atlas.dsr.erase.write_tombstones`). A line the
batch quarantines has no fields: it is landed erased (text ``[erased]``, bytes gone) when one of its
tokens is an erased subject's identifier, as erasure leaves a quarantined line that names one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg

from atlas.dsr.erase import erased_payload
from atlas.dsr.targets import Target
from atlas.jsonvalues import jsonable
from atlas.sql import load_sql

TOMBSTONED_TABLE = "explore.raw_data"
TOMBSTONED_COLUMN = "payload"


def subject_key_hash(value: Any) -> str:
    """``compliance.subject_key_hash(payload ->> field)`` of a payload value, computed in Python."""
    value = jsonable(value)
    return _text_hash(value if isinstance(value, str) else orjson.dumps(value).decode())


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class LandingErasure:
    """The tombstoned hashes of one entity's subject fields, and the records erased so far."""

    target: Target
    hashes: dict[str, frozenset[str]]
    """Payload field -> subject hashes tombstoned for it (only fields with tombstones)."""
    caseless: frozenset[str]
    """The identifier fields among them (also compared lower-cased)."""
    erased: int = 0
    """Records landed erased by :meth:`erase`."""

    def matches(self, field: str, value: Any) -> bool:
        """Whether ``value`` of ``field`` names an erased subject."""
        if value is None or value == "":
            return False
        hashes = self.hashes[field]
        if subject_key_hash(value) in hashes:
            return True
        if field not in self.caseless or not isinstance(value, str):
            return False
        lowered = value.lower()
        return lowered != value and _text_hash(lowered) in hashes

    def erase(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` as erasure leaves it if it is an erased subject's record, else unchanged."""
        if not any(self.matches(f, payload.get(f)) for f in self.hashes):
            return payload
        erased = erased_payload(self.target, payload)
        if erased != payload:
            self.erased += 1
        return erased

    @property
    def identifier_hashes(self) -> list[str]:
        """The tombstoned hashes of the identifier fields (e-mail and the like, lower-cased form
        included): what a quarantined line that did not parse is searched for, token by token
        (``explore/erase_quarantined_lines.sql``). The key field's hashes are left out: a key is
        often a short number, and a line holding that number elsewhere is no record of the subject."""
        return sorted({h for field in self.caseless for h in self.hashes[field]})

    def any_row_matches(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> bool:
        """Whether a CSV chunk (text values) may hold an erased subject's record (its field, last
        column of a name); hashed column-wise, as this runs on every chunk of such an entity."""
        index = {name: i for i, name in enumerate(header)}
        for field, hashes in self.hashes.items():
            i = index.get(field)
            if i is None:
                continue
            values = [row[i] for row in rows]
            if not hashes.isdisjoint(map(_text_hash, values)):
                return True
            if field in self.caseless:
                lowered = [low for v in values if (low := v.lower()) != v]
                if not hashes.isdisjoint(map(_text_hash, lowered)):
                    return True
        return False


def load_landing_erasure(cur: psycopg.Cursor[Any], target: Target) -> LandingErasure | None:
    """The target's tombstones (one query), or None when no subject of its fields was erased
    (or it holds no personal data to erase)."""
    if not target.personal:
        return None
    caseless = {c.field for c in target.identifiers}
    fields = sorted({target.key.field, *caseless})
    rows = cur.execute(
        load_sql("compliance", "landing_tombstones"),
        {"table": TOMBSTONED_TABLE, "column": TOMBSTONED_COLUMN, "fields": fields},
    ).fetchall()
    if not rows:
        return None
    hashes = {field: frozenset(found) for field, found in rows}
    return LandingErasure(target, hashes, frozenset(caseless & hashes.keys()))
