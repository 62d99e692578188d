"""Masking by policy in a real run: keyed pseudonyms for identifiers, undeclared personal data masked.

A new source ``bank`` (CSV files) is added beside the repository's sources: ``members`` (SCD2)
with a declared name and IBAN and a ``contact`` column the YAML declares nothing about that holds
e-mail addresses, and ``payments`` that carry the payer's IBAN. Its DAG runs with ``dag.test()``
for one day against a fresh warehouse, with the session's random key in
``AIRFLOW_CONN_ATLAS_PSEUDONYM_KEY`` (tests/fixtures/environment.py). The YAML sets no ``pii``
section: ``on_undeclared: mask_and_alert`` is the default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.dags.new_source import files_source, new_source, rows
from tests.fixtures.environment import SessionDirs
from tests.fixtures.postgres import PgServer
from tests.fixtures.roles import login_as
from tests.fixtures.warehouse import WarehouseTemplate

pytestmark = [pytest.mark.postgres, pytest.mark.airflow, pytest.mark.dbt, pytest.mark.slow(seconds=15)]

DAY = dt.date(2026, 1, 5)
DAG_ID = "atlas_bank"
MEMBERS_CSV = """member_id,full_name,iban,contact,tier,note,updated_at
1,Ada Lovelace,DE89370400440532013000,ada.lovelace@example.org,gold,Call Ada Lovelace on +44 20 7946 0958,2026-01-05T08:00:00Z
2,Alan Turing,GB82WEST12345698765432,alan.turing@example.org,basic,Prefers letters,2026-01-05T09:30:00Z
3,Grace Hopper,NL91ABNA0417164300,grace.hopper@example.org,basic,Refunds go to grace.hopper@example.org,2026-01-05T10:00:00Z
4,Edsger Dijkstra,FR1420041010050500013M02606,edsger.dijkstra@example.org,gold,,2026-01-05T11:00:00Z
"""
NOTES = {
    1: "Call <PERSON> on <PHONE_NUMBER>",
    2: "Prefers letters",
    3: "Refunds go to <EMAIL_ADDRESS>",
    4: None,
}
"""What navigate shows of each member's free-text note: presidio-anonymizer's placeholders."""
PAYMENTS_CSV = """payment_id,iban,amount
100,DE89370400440532013000,12.50
101,DE89370400440532013000,7.25
102,GB82WEST12345698765432,99.00
103,FR1420041010050500013M02606,5.00
104,NL91ABNA0417164300,1.00
"""


def bank_source(data_dir: Path) -> dict[str, Any]:
    return files_source(
        "bank",
        data_dir,
        [
            {
                "name": "members",
                "path": "members/{start:%Y%m%d}.csv",
                "key": ["member_id"],
                "history": "scd2",
                "columns": [
                    {"name": "member_id", "type": "bigint", "required": True},
                    {"name": "full_name", "type": "text", "required": True, "pii": "PERSON"},
                    {"name": "iban", "type": "text", "required": True, "pii": "IBAN_CODE"},
                    {"name": "contact", "type": "text"},
                    {"name": "tier", "type": "text", "allowed_values": ["basic", "gold"]},
                    {"name": "note", "type": "text", "free_text": True},
                    {"name": "updated_at", "type": "timestamp", "required": True},
                ],
            },
            {
                "name": "payments",
                "path": "payments/{start:%Y%m%d}.csv",
                "key": ["payment_id"],
                "columns": [
                    {"name": "payment_id", "type": "bigint", "required": True},
                    {"name": "iban", "type": "text", "required": True, "pii": "IBAN_CODE"},
                    {"name": "amount", "type": "numeric", "required": True},
                ],
            },
        ],
    )


@pytest.fixture(scope="module")
def bank_run(
    pg_server: PgServer,
    warehouse_template: WarehouseTemplate,
    airflow_db: Path,
    session_dirs: SessionDirs,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """Generate, parse and run the bank DAG for DAY; the run's states, the warehouse, alerts and project."""
    root = tmp_path_factory.mktemp("bank")
    files = {f"members/{DAY:%Y%m%d}.csv": MEMBERS_CSV, f"payments/{DAY:%Y%m%d}.csv": PAYMENTS_CSV}
    alerts = _Collect()
    logging.getLogger("atlas.alerts").addHandler(alerts)
    try:
        with new_source(
            root,
            bank_source(root / "data"),
            files,
            pg_server=pg_server,
            warehouse_template=warehouse_template,
            session_dirs=session_dirs,
        ) as source:
            yield {**source.run(DAY), "alerts": list(alerts.messages)}
    finally:
        logging.getLogger("atlas.alerts").removeHandler(alerts)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def session_key() -> str:
    return json.loads(os.environ["AIRFLOW_CONN_ATLAS_PSEUDONYM_KEY"])["password"]


def pseudonym(value: str) -> str:
    return hmac.new(session_key().encode(), value.encode(), hashlib.sha256).hexdigest()


def test_the_run_installs_the_key_before_navigate_and_succeeds(bank_run):
    """Every task succeeds; install_pseudonym_key is one of them."""
    assert bank_run["state"] == "success", bank_run["states"]
    assert set(bank_run["states"].values()) == {"success"}, bank_run["states"]
    assert "install_pseudonym_key" in bank_run["states"]


def test_identifiers_are_keyed_pseudonyms_that_still_join(bank_run):
    """navigate shows HMAC-SHA256 of each IBAN under the connection's key; payments join members by it."""
    dsn = bank_run["dsn"]
    chart = dict(rows(dsn, "SELECT member_id, iban FROM chart.bank__members"))
    shown = dict(rows(dsn, "SELECT member_id, iban FROM navigate.bank__members"))
    history = dict(rows(dsn, "SELECT member_id, iban FROM navigate.bank__members_history"))
    assert shown == history == {member: pseudonym(iban) for member, iban in chart.items()}
    joined = rows(
        dsn,
        "SELECT m.member_id, sum(p.amount) FROM navigate.bank__payments AS p "
        "JOIN navigate.bank__members AS m USING (iban) GROUP BY 1 ORDER BY 1",
    )
    assert [(member, float(total)) for member, total in joined] == [(1, 19.75), (2, 99.0), (3, 1.0), (4, 5.0)]
    assert not set(chart.values()) & {r[0] for r in rows(dsn, "SELECT iban FROM navigate.bank__payments")}


def test_undeclared_personal_data_alerts_and_is_masked(bank_run):
    """The scan finds e-mails in the undeclared contact column: an alert, and navigate shows *** in the
    current state and the history; chart keeps the values; the data dictionary says so."""
    dsn = bank_run["dsn"]
    assert any(
        "personal data in columns the YAML does not declare: contact (EMAIL_ADDRESS)" in m
        and "pii.on_undeclared: mask_and_alert" in m
        for m in bank_run["alerts"]
    ), bank_run["alerts"]
    assert rows(dsn, "SELECT DISTINCT contact FROM navigate.bank__members") == [("***",)]
    assert rows(dsn, "SELECT DISTINCT contact FROM navigate.bank__members_history") == [("***",)]
    assert all("@" in c for (c,) in rows(dsn, "SELECT contact FROM chart.bank__members"))
    assert rows(dsn, "SELECT DISTINCT tier FROM navigate.bank__members ORDER BY 1") == [("basic",), ("gold",)]
    dictionary = rows(
        dsn,
        "SELECT table_name, classification, pii_entity, masking FROM navigate.data_dictionary "
        "WHERE source_name = 'bank' AND column_name = 'contact' ORDER BY 1",
    )
    assert dictionary == [
        ("bank__members", "confidential", "EMAIL_ADDRESS", "redacted: ***"),
        ("bank__members_history", "confidential", "EMAIL_ADDRESS", "redacted: ***"),
    ]


def test_free_text_is_anonymised_with_entity_placeholders(bank_run):
    """The note shows the text with each name, phone number and e-mail replaced, in the current state
    and the history; one anonymised row per non-null note, written by the scan."""
    dsn = bank_run["dsn"]
    assert dict(rows(dsn, "SELECT member_id, note FROM navigate.bank__members")) == NOTES
    assert dict(rows(dsn, "SELECT member_id, note FROM navigate.bank__members_history")) == NOTES
    assert rows(dsn, "SELECT count(*) FROM chart.anonymised_text WHERE source_name = 'bank'") == [(3,)]
    assert rows(
        dsn,
        "SELECT masking FROM navigate.data_dictionary WHERE table_name = 'bank__members' AND column_name = 'note'",
    ) == [
        (
            "anonymised: the personal data the PII stage finds replaced with <ENTITY> (chart.anonymised_text, V024); *** before it has run",
        )
    ]


def test_the_key_is_in_no_compiled_sql_and_no_log(bank_run, openlineage_log, session_dirs):
    """The SQL dbt ran (in the OpenLineage events of the run: Cosmos reports each node's compiled SQL)
    calls the pseudonym function and never holds the key; neither does any log of the session."""
    key = session_key()
    events = openlineage_log.read_text(errors="replace")
    assert "compliance.mask(" in events, "the events carry no compiled SQL to search"
    assert key not in events
    logs = [p for p in session_dirs.root.rglob("*") if p.is_file() and p.suffix in (".log", ".txt", ".json")]
    assert logs, "no log files to search"
    assert not [p for p in logs if key in p.read_text(errors="replace")]


def test_the_analyst_logged_in_as_itself_sees_no_raw_personal_value(bank_run, pg_server):
    """A login of atlas_read reads every bank relation of navigate and finds none of chart's personal values
    in any column; it may not compute a pseudonym itself. atlas_admin reads chart's raw values."""
    dsn = bank_run["dsn"]
    personal = {
        value
        for row in rows(dsn, "SELECT full_name, iban, contact, note FROM chart.bank__members")
        for value in row
        if value and value != "Prefers letters"  # the one note that names nobody
    }
    assert len(personal) == 14
    with login_as(pg_server, dsn, "atlas_read") as analyst, psycopg.connect(analyst) as conn:
        relations = [
            r[0]
            for r in conn.execute(
                "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables "
                "WHERE table_schema = 'navigate' AND table_name LIKE 'bank\\_\\_%'"
            )
        ]
        assert sorted(relations) == [
            "navigate.bank__members",
            "navigate.bank__members_history",
            "navigate.bank__payments",
        ]
        for relation in relations:
            values = {str(v) for row in conn.execute(f"SELECT * FROM {relation}") for v in row}
            assert not values & personal, relation
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT compliance.pseudonym('DE89370400440532013000')")
    with login_as(pg_server, dsn, "atlas_admin") as admin, psycopg.connect(admin) as conn:
        raw = {
            v
            for row in conn.execute("SELECT full_name, iban, contact, note FROM chart.bank__members")
            for v in row
        }
    assert personal <= raw
