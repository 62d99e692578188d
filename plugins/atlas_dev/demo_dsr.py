"""The demo's data-subject requests: one access and one erasure, with their rows and audit entries.

``dsr_demo(warehouse_dsn)`` picks the demo customer with the most support tickets and orders, starts a
``moto_server`` (``AIRFLOW_CONN_ATLAS_S3`` pointing at it for its duration) and carries out what
the DAG ``atlas_data_subject_request`` does (``SubjectRequestHook.carry_out``): an access request
by customer id (the export's sections printed) and an erasure by e-mail, then prints both request
rows and their ``compliance.audit_log`` entries. Each demo run files new request ids. The demo
warehouse keeps the erasure; the next demo run lands that customer, whom the sample files still
hold, erased (``atlas.dsr.landing``), and the demo erases the next customer.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from atlas.constants import ROOT, WAREHOUSE_CONN_ID
from atlas_dev.embedded_pg import uri
from atlas_dev.env import environment_variable

DEMO_DIR = ROOT / ".demo"
SUBJECT = """
SELECT c.customer_id, c.email FROM chart.crm__customers AS c
  JOIN navigate.fact_orders AS f USING (customer_id)
 WHERE c.email <> %s
 GROUP BY c.customer_id, c.email
 ORDER BY (SELECT count(*) FROM chart.support__tickets AS t WHERE t.customer_id = c.customer_id) DESC,
          count(*) DESC, c.customer_id
 LIMIT 1
"""
AUDIT = """
SELECT r.external_reference, a.action,
       a.object_schema || '.' || a.object_name
           || coalesce(' (' || (a.details ->> 'source') || '.' || (a.details ->> 'entity') || ')', ''),
       a.rows_affected
  FROM compliance.audit_log AS a JOIN compliance.data_subject_requests AS r USING (request_id)
 WHERE r.external_reference = ANY(%s) AND a.rows_affected > 0
 ORDER BY a.audit_id
"""


def _say(message: str) -> None:
    print(message, flush=True)


def dsr_demo(warehouse_dsn: str, *, workdir: Path | None = None) -> None:
    """An access and an erasure request for the demo customer with the most tickets and orders, printed."""
    from atlas.config.retention import project_retention
    from atlas.dsr.erase import Actor
    from atlas.dsr.request import parse_request
    from atlas.dsr.targets import ERASED_TEXT, identifier_names, load_targets
    from atlas.hooks.dsr import SubjectRequestHook
    from atlas_dev.moto_server import s3_connection

    workdir = workdir or DEMO_DIR
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    with psycopg.connect(warehouse_dsn) as conn:
        exists = conn.execute(
            "SELECT to_regclass('navigate.fact_orders') IS NOT NULL AND to_regclass('chart.support__tickets') IS NOT NULL"
        ).fetchone() == (True,)
        row = conn.execute(SUBJECT, (ERASED_TEXT,)).fetchone() if exists else None
    if row is None:
        _say(
            "\ndata-subject requests: no customer with orders and no tickets in the warehouse; nothing to show"
        )
        return
    customer_id, email = row
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    found = load_targets()
    allowed = identifier_names(found)
    requests = [
        parse_request({"request_id": f"DEMO-{stamp}-A", "type": "access", "subject": {"customer_id": customer_id},
                       "requested_by": "dpo@example.com"}, allowed),
        parse_request({"request_id": f"DEMO-{stamp}-E", "type": "erasure", "subject": {"email": email},
                       "requested_by": "dpo@example.com"}, allowed),
    ]  # fmt: skip
    variable = f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}"
    connection = os.environ.get(variable) or uri(conninfo_to_dict(warehouse_dsn), host_in_authority=True)
    _say(
        f"\ndata-subject requests for customer {customer_id} (most tickets, then orders), as atlas_data_subject_request runs them"
    )
    with environment_variable(variable, connection), s3_connection(workdir / "logs" / "moto_server_dsr.log"):
        hook = SubjectRequestHook()
        for request in requests:
            actor = Actor(
                request_id=str(request.uuid), dag_id="atlas_demo", run_id="demo", task_id="dsr_demo"
            )
            result = hook.carry_out(request, found, bucket=project_retention().bucket, actor=actor)
            counts = result.get("exported_rows") or result.get("erased_rows") or {}
            _say(f"  {request.request_id} {request.type} of {request.subject}: " + ", ".join(
                f"{table} {n}" for table, n in counts.items() if n) + (f" -> {result['location']}" if "location" in result else ""))  # fmt: skip
    with psycopg.connect(warehouse_dsn) as conn:
        references = [r.request_id for r in requests]
        _say("  compliance.data_subject_requests:")
        for reference, kind, status, received, due in conn.execute(
            "SELECT external_reference, request_type, status, received_at, due_at FROM compliance.data_subject_requests"
            " WHERE external_reference = ANY(%s) ORDER BY received_at",
            (references,),
        ):
            _say(
                f"    {reference}  {kind:<8} {status:<10} received {received:%Y-%m-%d %H:%M} due {due:%Y-%m-%d}"
            )
        _say("  compliance.audit_log (entries with rows):")
        for reference, action, relation, rows in conn.execute(AUDIT, (references,)):
            _say(f"    {reference}  {action:<14} {relation:<52} {rows} row(s)")
        after = conn.execute(
            "SELECT first_name, last_name, email, birth_date FROM chart.crm__customers WHERE customer_id = %s",
            (customer_id,),
        ).fetchone()
        _say(f"  chart.crm__customers {customer_id} after the erasure: {after}")
