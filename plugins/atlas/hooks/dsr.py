"""``SubjectRequestHook``: a data-subject request carried out and its row kept up to date.

1. the request row (``compliance.data_subject_requests``) is recorded once per request id,
   committed at once: status ``received``, due 30 days later; a re-trigger of the same id finds
   it (a different type or subject for an id already used is refused) and carries it out again,
   which is harmless: an access export is overwritten, an erasure finds nothing left to change;
2. status ``in_progress``; the subject's keys are resolved from the identifiers given;
3. access: every selected row of every layer (rows of entities referencing the subject's, such
   as the order lines of the subject's orders, included: :func:`atlas.dsr.find.related_selections`)
   into one JSON document uploaded with ``S3Hook`` to
   ``s3://<bucket>/dsr/<request uuid>/access.json``, audited (``dsr.access``) per table;
   erasure: :mod:`atlas.dsr.erase`, one transaction per layer, then the tombstones;
4. status ``completed`` with the counts per table (``result``) and the export's location,
   ``rejected`` when the request cannot be carried out as filed (a subject key that is not of its
   column's type), or ``failed`` with the error; either fails the task. A conf that does not
   validate leaves no row (it has no valid request id to file it under): the task fails naming
   the problem.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from atlas.dsr import erase
from atlas.dsr.find import collect, related_selections, resolve, selections
from atlas.dsr.request import RequestType, SubjectRequest
from atlas.dsr.targets import Target
from atlas.exceptions import SubjectRequestError
from atlas.hooks import psycopg_connection
from atlas.hooks.archive import ArchiveHook
from atlas.sql import load_sql

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger(__name__)


def export_key(request: SubjectRequest) -> str:
    """Where a request's access export goes in the bucket: the same key for every run of it."""
    return f"dsr/{request.uuid}/access.json"


class SubjectRequestHook(ArchiveHook):
    """The archive's hook (the warehouse with object storage, ``s3``), for data-subject requests.

    :param warehouse_conn_id: the Airflow connection of the warehouse.
    :param s3_conn_id: the ``aws`` connection of object storage (``endpoint_url`` for MinIO).
    """

    def carry_out(
        self, request: SubjectRequest, found: list[Target], *, bucket: str, actor: erase.Actor
    ) -> dict[str, Any]:
        """Record, carry out and close the request; its result (also in the request row)."""
        with psycopg_connection(self) as conn:
            due = self._file_request(conn, request, actor)
            try:
                result = self._carry_out_request(conn, request, found, bucket=bucket, actor=actor)
            except Exception as err:
                conn.rollback()
                # rejected: the request cannot be carried out as filed (a subject key of the wrong type)
                status = "rejected" if isinstance(err, SubjectRequestError) else "failed"
                self._close_request(conn, request, status, None, None, f"{type(err).__name__}: {err}")
                raise
            result["due_at"] = due.isoformat()
            self._close_request(conn, request, "completed", result, result.get("location"), None)
        return result

    def _file_request(
        self, conn: psycopg.Connection[Any], request: SubjectRequest, actor: erase.Actor
    ) -> dt.datetime:
        params = {
            "request_id": request.uuid,
            "reference": request.request_id,
            "type": request.type,
            "subject": Jsonb(request.subject),
            "requested_by": request.requested_by,
            "dag_id": actor.dag_id,
            "run_id": actor.run_id,
        }
        with conn.transaction():
            row = conn.execute(load_sql("compliance", "request_record"), params).fetchone()
            assert row is not None
            kind, subject, due = row
            if kind != request.type or subject != request.subject:
                raise SubjectRequestError(
                    f"request {request.request_id!r} was filed before as {kind} of {json.dumps(subject)}, "
                    f"not {request.type} of {json.dumps(request.subject)}: give a new request_id"
                )
            conn.execute(load_sql("compliance", "request_start"), params)
        log.info(
            "request %s (%s, %s): %s, due %s",
            request.request_id,
            request.uuid,
            request.type,
            "in progress",
            due,
        )
        return due  # type: ignore[no-any-return]

    def _close_request(
        self,
        conn: psycopg.Connection[Any],
        request: SubjectRequest,
        status: str,
        result: dict[str, Any] | None,
        location: str | None,
        error: str | None,
    ) -> None:
        with conn.transaction():
            conn.execute(
                load_sql("compliance", "request_finish"),
                {
                    "request_id": request.uuid,
                    "status": status,
                    "result": Jsonb(result) if result is not None else None,
                    "location": location,
                    "error": error,
                },
            )

    def _carry_out_request(
        self,
        conn: psycopg.Connection[Any],
        request: SubjectRequest,
        found: list[Target],
        *,
        bucket: str,
        actor: erase.Actor,
    ) -> dict[str, Any]:
        with conn.cursor() as cur:
            subject = resolve(cur, found, request.subject)
            selected = selections(cur, found, subject)
            if request.kind is RequestType.ACCESS:
                selected += related_selections(cur, found, subject)
        conn.commit()
        log.info("subject keys %s; %s table selection(s)", subject.keys, len(selected))
        if request.kind is RequestType.ACCESS:
            return self._export_access(conn, request, selected, subject, bucket=bucket, actor=actor)
        counts: dict[str, int] = {}
        counts |= erase.erase_explore(conn, selected, actor)
        counts |= erase.erase_chart(conn, selected, actor)
        counts |= erase.erase_navigate(conn, selected, found, actor)
        tombstones = erase.write_tombstones(conn, selected, subject, actor)
        return {"subject_keys": subject.keys, "erased_rows": counts, "tombstones": tombstones}

    def _export_access(
        self,
        conn: psycopg.Connection[Any],
        request: SubjectRequest,
        selected: list[Any],
        subject: Any,
        *,
        bucket: str,
        actor: erase.Actor,
    ) -> dict[str, Any]:
        sections = []
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one point in time
            for sel in selected:
                rows = collect(cur, sel)
                about = {"source": sel.target.source, "entity": sel.target.entity.name} if sel.target else {}
                about |= {"via": sel.via} if sel.via else {}
                sections.append({"layer": sel.layer, "table": sel.relation, **about, "rows": rows})
            document = {
                "request_id": request.request_id,
                "request_uuid": str(request.uuid),
                "exported_at": dt.datetime.now(dt.UTC).isoformat(),
                "subject": request.subject,
                "subject_keys": subject.keys,
                "records": sections,
            }
            key = export_key(request)
            if not self.s3.check_for_bucket(bucket):
                self.s3.create_bucket(bucket_name=bucket)
            self.s3.load_bytes(
                json.dumps(document, ensure_ascii=False, default=str, indent=1).encode(),
                key=key,
                bucket_name=bucket,
                replace=True,
            )
            location = f"s3://{bucket}/{key}"
            counts: dict[str, int] = {}
            for section in sections:
                name = section["table"] + (
                    f" ({section['source']}.{section['entity']})" if "source" in section else ""
                )
                counts[name] = counts.get(name, 0) + len(section["rows"])
            for sel, section in zip(selected, sections, strict=True):
                actor.record(
                    cur, "dsr.access", sel.relation, len(section["rows"]), location=location, layer=sel.layer
                )
        log.info("access export of %s rows at %s", sum(counts.values()), location)
        return {"subject_keys": subject.keys, "exported_rows": counts, "location": location}
