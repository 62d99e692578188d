"""Erasure of a data subject: the personal data overwritten, irreversibly, in every layer.

Nothing is deleted, so counts reconcile and facts count what they counted: in explore the
payload's personal fields and chart's personal columns become :data:`~atlas.dsr.targets.ERASED_TEXT`
(text) or null, explore's quarantine lines that name the subject become that text, navigate's
personal columns (current state, SCD2 versions, facts) become NULL. Per layer one transaction
(chart and navigate under the promotion's and dbt's advisory locks of each table),
each table with its ``dsr.erasure`` audit entry (rows changed). Explore's payload checksums are
recomputed with the landing's own function (:func:`atlas.batch_writer.payload_checksum`), the
batches' checksums adjusted, chart's ``_payload_checksum`` taken from the new payload, and the
change audited (``dsr.checksums``). An SCD2 version's ``change_hash`` is recomputed from the erased
chart row by the function the staging model calls (``pipeline.change_hash``, sql/V030), so the next
snapshot run finds no change and adds no version. Tombstones (``compliance.erasure_tombstones``)
make a later restore of an older archive erase the subject again, by the same functions on the
restored partition's rows (:func:`atlas.dsr.restore.erase_restored`): overwritten, never deleted,
so the restored partition keeps its row count. A second run changes nothing (every update skips rows already
erased) and records no new tombstone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from atlas.archive import RunInfo
from atlas.audit import record_action
from atlas.batch_writer import batch_checksum_delta, payload_checksum
from atlas.dsr.find import Selection, Subject
from atlas.dsr.targets import ERASED_TEXT, Target, erased_value
from atlas.hooks.locks import advisory_xact_lock


@dataclass(frozen=True)
class Actor(RunInfo):
    """Who acts (the DAG run and task, as for the archive) on which request, for the audit log."""

    request_id: str | None = None

    def record(self, cur: psycopg.Cursor[Any], action: str, relation: str, rows: int, **details: Any) -> None:
        """One audit entry of this request (:func:`atlas.audit.record_action`)."""
        record_action(
            cur,
            action,
            relation,
            rows,
            dag_id=self.dag_id,
            run_id=self.run_id,
            task_id=self.task_id,
            request_id=self.request_id,
            details=details,
        )


def erased_payload(target: Target, payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with the target's personal fields erased (empty and missing ones left as they are)."""
    erased = dict(payload)
    for column in target.personal:
        if erased.get(column.field) not in (None, ""):
            erased[column.field] = erased_value(column)
    return erased


def _audit(cur: psycopg.Cursor[Any], actor: Actor, selection: Selection, rows: int, **details: Any) -> None:
    actor.record(cur, "dsr.erasure", selection.relation, rows, layer=selection.layer, **details)


def erase_explore(conn: psycopg.Connection[Any], selections: list[Selection], actor: Actor) -> dict[str, int]:
    """Raw payloads and explore's quarantine lines of the subject, checksums recomputed; one transaction."""
    counts: Counter[str] = Counter()
    with conn.transaction(), conn.cursor() as cur:
        for sel in (s for s in selections if s.layer == "explore"):
            assert sel.target is not None
            name = f"{sel.relation} ({sel.target.source}.{sel.target.entity.name})"
            if sel.relation == "explore.quarantine":
                query = sql.SQL(
                    # raw_bytes too: the line's exact bytes hold what its text held
                    "UPDATE explore.quarantine SET raw_record = %s, raw_bytes = NULL"
                    " WHERE {} AND (raw_record IS DISTINCT FROM %s OR raw_bytes IS NOT NULL)"
                ).format(sel.where)
                cur.execute(query, (ERASED_TEXT, *sel.params, ERASED_TEXT))
                counts[name] += cur.rowcount
                _audit(cur, actor, sel, cur.rowcount, source=sel.target.source, entity=sel.target.entity.name)
                continue
            changed, batches = _erase_payloads(cur, sel)
            counts[name] += changed
            _audit(
                cur,
                actor,
                sel,
                changed,
                source=sel.target.source,
                entity=sel.target.entity.name,
                columns=[c.name for c in sel.target.personal],
            )
            actor.record(
                cur,
                "dsr.checksums",
                "explore.raw_data",
                changed,
                payload_checksums=changed,
                batches=batches,
                source=sel.target.source,
                entity=sel.target.entity.name,
            )
    return dict(counts)


def _erase_payloads(cur: psycopg.Cursor[Any], sel: Selection) -> tuple[int, int]:
    """Erase the selected raw payloads and recompute their and their batches' checksums."""
    assert sel.target is not None
    query = sql.SQL(
        "SELECT raw_id, interval_start, batch_id, payload, payload_checksum FROM explore.raw_data"
        " WHERE {} FOR UPDATE"
    ).format(sel.where)
    updates = []
    deltas: dict[Any, list[tuple[str, str]]] = {}
    for raw_id, start, batch, payload, old in cur.execute(query, sel.params).fetchall():
        erased = erased_payload(sel.target, payload)
        if erased == payload:
            continue
        new = payload_checksum(erased)
        updates.append((Jsonb(erased), new, raw_id, start))
        deltas.setdefault(batch, []).append((old, new))
    cur.executemany(
        "UPDATE explore.raw_data SET payload = %s, payload_checksum = %s WHERE raw_id = %s AND interval_start = %s",
        updates,
    )
    for batch, changes in deltas.items():
        row = cur.execute(
            "SELECT checksum FROM pipeline.batches WHERE batch_id = %s FOR UPDATE", (batch,)
        ).fetchone()
        if row is None or row[0] is None:
            continue
        checksum = row[0]
        for old, new in changes:
            checksum = batch_checksum_delta(checksum, old, new)
        cur.execute("UPDATE pipeline.batches SET checksum = %s WHERE batch_id = %s", (checksum, batch))
    return len(updates), len(deltas)


def erase_chart(conn: psycopg.Connection[Any], selections: list[Selection], actor: Actor) -> dict[str, int]:
    """Chart's personal columns and chart's quarantine payloads of the subject; one transaction."""
    counts: Counter[str] = Counter()
    with conn.transaction(), conn.cursor() as cur:
        for sel in (s for s in selections if s.layer == "chart"):
            target = sel.target
            assert target is not None
            advisory_xact_lock(cur, target.chart_table)  # the promotion's lock: no upsert in between
            if sel.relation == "chart.quarantine":
                rows = cur.execute(
                    sql.SQL("SELECT quarantine_id, payload FROM chart.quarantine WHERE {} FOR UPDATE").format(
                        sel.where
                    ),
                    sel.params,
                ).fetchall()
                updates = [
                    (Jsonb(new), qid) for qid, old in rows if (new := erased_payload(target, old)) != old
                ]
                cur.executemany("UPDATE chart.quarantine SET payload = %s WHERE quarantine_id = %s", updates)
                changed = len(updates)
            else:
                changed = _erase_chart_table(cur, sel, target)
            counts[f"{sel.relation} ({target.source}.{target.entity.name})"] += changed
            _audit(
                cur,
                actor,
                sel,
                changed,
                source=target.source,
                entity=target.entity.name,
                columns=[c.name for c in target.personal],
            )
    return dict(counts)


def _erase_chart_table(cur: psycopg.Cursor[Any], sel: Selection, target: Target) -> int:
    if not target.personal:
        return 0
    sets: list[sql.Composable] = []
    pending: list[sql.Composable] = []
    for column in target.personal:
        ident = sql.Identifier(column.name)
        value = erased_value(column)
        if value is None:
            sets.append(sql.SQL("{} = NULL").format(ident))
            pending.append(sql.SQL("t.{} IS NOT NULL").format(ident))
        else:
            sets.append(
                sql.SQL("{} = CASE WHEN {} IS NULL THEN NULL ELSE {} END").format(
                    ident, ident, sql.Literal(value)
                )
            )
            pending.append(
                sql.SQL("(t.{} IS NOT NULL AND t.{} IS DISTINCT FROM {})").format(
                    ident, ident, sql.Literal(value)
                )
            )
    # The row's digest is the erased payload's (NULL when its raw row was archived and dropped).
    sets.append(
        sql.SQL(
            "_payload_checksum = (SELECT r.payload_checksum FROM explore.raw_data AS r"
            " WHERE r.raw_id = t._raw_id AND r.interval_start = t._interval_start)"
        )
    )
    query = sql.SQL("UPDATE {} AS t SET {} WHERE {} AND ({})").format(
        sel.table, sql.SQL(", ").join(sets), sel.where, sql.SQL(" OR ").join(pending)
    )
    cur.execute(query, sel.params)
    return cur.rowcount


def erase_navigate(
    conn: psycopg.Connection[Any], selections: list[Selection], found: list[Target], actor: Actor
) -> dict[str, int]:
    """Navigate's personal columns of the subject set to NULL, SCD2 change hashes recomputed; one transaction."""
    dimensions = {t.dimension: t for t in found if t.dimension}
    counts: dict[str, int] = {}
    with conn.transaction(), conn.cursor() as cur:
        for sel in (s for s in selections if s.layer == "navigate"):
            advisory_xact_lock(cur, sel.relation)  # dbt's navigate_lock: no build in between
            target = dimensions.get(sel.relation.split(".", 1)[1])
            sets = [sql.SQL("{} = NULL").format(sql.Identifier(c)) for c in sel.personal]
            pending = [sql.SQL("t.{} IS NOT NULL").format(sql.Identifier(c)) for c in sel.personal]
            if target is not None and target.key.name == sel.key:
                # The staging model's hash (dbt macro change_hash) of the erased chart row: one SQL function.
                hashed = sql.SQL(
                    "(SELECT pipeline.change_hash(row({})) FROM {} AS c WHERE c.{} = t.{})"
                ).format(
                    sql.SQL(", ").join(
                        sql.SQL("(c.{})::text").format(sql.Identifier(h)) for h in target.hashed
                    ),
                    sql.Identifier(*target.chart_table.split(".")),
                    sql.Identifier(sel.key),
                    sql.Identifier(sel.key),
                )
                sets.append(sql.SQL("change_hash = coalesce({}, t.change_hash)").format(hashed))
                pending.append(
                    sql.SQL("t.change_hash IS DISTINCT FROM coalesce({}, t.change_hash)").format(hashed)
                )
            if not sets:
                counts.setdefault(sel.relation, 0)
                continue
            query = sql.SQL("UPDATE {} AS t SET {} WHERE {} AND ({})").format(
                sel.table, sql.SQL(", ").join(sets), sel.where, sql.SQL(" OR ").join(pending)
            )
            cur.execute(query, sel.params)
            counts[sel.relation] = counts.get(sel.relation, 0) + cur.rowcount
            _audit(cur, actor, sel, cur.rowcount, columns=list(sel.personal))
    return counts


def write_tombstones(
    conn: psycopg.Connection[Any], selections: list[Selection], subject: Subject, actor: Actor
) -> int:
    """Tombstones of the subject for every table a restore could bring rows back into; none twice."""
    rows: set[tuple[str, str, str | None, str]] = set()
    for sel in selections:
        if sel.relation == "explore.raw_data" and sel.target is not None:
            for value in subject.keys.get(sel.target.key.name, []):
                rows.add(("explore.raw_data", "payload", sel.target.key.field, value))
            for ident in sel.target.identifiers:
                for value in subject.identifiers:
                    # Lower-cased too: landing compares identifiers without case (atlas.dsr.landing).
                    for form in {value, value.lower()}:
                        rows.add(("explore.raw_data", "payload", ident.field, form))
        elif sel.layer == "navigate" and sel.personal:
            # Only tables holding personal data: a restore overwrites the personal columns of
            # tombstoned rows (atlas.dsr.restore), and a fact without any has nothing to erase.
            for value in subject.keys.get(sel.key, []):
                rows.add((sel.relation, sel.key, None, value))
    written = 0
    with conn.transaction(), conn.cursor() as cur:
        for table, column, json_key, value in sorted(rows, key=str):
            cur.execute(
                "INSERT INTO compliance.erasure_tombstones (subject_key_hash, table_name, column_name, json_key, request_id)"
                " SELECT compliance.subject_key_hash(%(v)s), %(t)s, %(c)s, %(k)s, %(r)s"
                " WHERE NOT EXISTS (SELECT 1 FROM compliance.erasure_tombstones"
                "  WHERE subject_key_hash = compliance.subject_key_hash(%(v)s) AND table_name = %(t)s"
                "  AND column_name = %(c)s AND json_key IS NOT DISTINCT FROM %(k)s)",
                {"v": value, "t": table, "c": column, "k": json_key, "r": actor.request_id},
            )
            written += cur.rowcount
        actor.record(
            cur, "dsr.erasure", "compliance.erasure_tombstones", written, tables=sorted({r[0] for r in rows})
        )
    return written
