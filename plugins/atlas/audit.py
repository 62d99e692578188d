"""The audit trail: one ``compliance.audit_log`` entry per governed action, in the action's own
transaction (an action rolled back leaves no entry; an entry never outlives its action's failure).

Actions: ``ingest.batch`` (land), ``promote.batch`` (chart), ``pii.scan``, and the archive's
``archive.partition``, ``partition.drop``, ``archive.restore``, ``archive.snapshot``, and the
data-subject requests' ``dsr.access``, ``dsr.erasure`` and ``dsr.checksums`` (with their request id). The log is
append-only for the pipeline's login (V012: ``atlas_write`` may INSERT and SELECT only), invisible
to ``atlas_read``, partitioned quarterly and kept 7 years (``include/retention.yaml``). The actor
is the database login (``session_user``, the column's default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from atlas.sql import load_sql


def record_action(
    cur: psycopg.Cursor[Any],
    action: str,
    relation: str,
    rows: int | None,
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    request_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Append one entry: ``action`` on ``relation`` (``schema.table``) affecting ``rows`` rows."""
    schema, name = relation.split(".", 1)
    cur.execute(load_sql("compliance", "audit_partition"))
    cur.execute(
        load_sql("compliance", "audit"),
        {
            "action": action,
            "object_schema": schema,
            "object_name": name,
            "dag_id": dag_id,
            "run_id": run_id,
            "task_id": task_id,
            "request_id": request_id,
            "rows": rows,
            "details": Jsonb(
                {
                    k: (str(v) if not isinstance(v, int | float | bool | list | dict | None) else v)
                    for k, v in (details or {}).items()
                }
            ),
        },
    )
