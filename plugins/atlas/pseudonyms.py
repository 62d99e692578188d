"""The key of navigate's keyed pseudonyms: read from an Airflow connection, installed in the warehouse.

A confidential identifier (``IBAN_CODE``, ``CREDIT_CARD``, ``IDENTIFIER`` …: the policy is
``compliance.pii_treatment`` in sql/V023) reaches navigate as ``compliance.pseudonym(value)``,
HMAC-SHA256 under a key that lives outside the warehouse: the password of the Airflow connection
``atlas_pseudonym_key`` (``AIRFLOW_CONN_ATLAS_PSEUDONYM_KEY`` or any secrets backend, which
Airflow's ``BaseHook.get_connection`` consults in order). Before each navigate build the task
``install_pseudonym_key`` passes it to ``compliance.install_pseudonym_key`` as a bound parameter;
the database keeps it readable by its owner only. The key never appears in dbt's SQL, its logs
or a task log (Airflow registers a connection's password with its secrets masker as well).
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from atlas.audit import record_action
from atlas.constants import PSEUDONYM_KEY_CONN_ID
from atlas.exceptions import PseudonymKeyMissing

log = logging.getLogger(__name__)

HOW_TO_SET = (
    "set it with the key as the connection's password, e.g. AIRFLOW_CONN_{env}=generic://:<a long random key>@, "
    "in the Airflow UI or in your secrets backend (make secrets writes one for docker-compose)"
)


def key_from_connection(conn_id: str = PSEUDONYM_KEY_CONN_ID) -> str:
    """The pseudonym key: the password of the Airflow connection ``conn_id``."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    how = HOW_TO_SET.format(env=conn_id.upper())
    try:
        connection = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        raise PseudonymKeyMissing(
            f"the Airflow connection {conn_id!r} (the key of navigate's pseudonyms) is not defined: {how}"
        ) from None
    if not connection.password:
        raise PseudonymKeyMissing(f"the Airflow connection {conn_id!r} has no password (the key): {how}")
    return connection.password


def install_key(
    conn: psycopg.Connection[Any],
    key: str,
    *,
    dag_id: str | None = None,
    run_id: str | None = None,
) -> bool:
    """Install ``key`` in the warehouse; True when it replaced another key (audited: every pseudonym changes)."""
    with conn.transaction(), conn.cursor() as cur:
        row = cur.execute("SELECT compliance.install_pseudonym_key(%s)", (key,)).fetchone()
        changed = bool(row and row[0])
        if changed:
            record_action(
                cur,
                "masking.pseudonym_key",
                "compliance.pseudonym_key",
                1,
                dag_id=dag_id,
                run_id=run_id,
                details={"connection": PSEUDONYM_KEY_CONN_ID},
            )
    log.info("pseudonym key from %s: %s", PSEUDONYM_KEY_CONN_ID, "installed" if changed else "unchanged")
    return changed
