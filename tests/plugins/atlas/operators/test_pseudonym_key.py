"""InstallPseudonymKeyOperator: the key from its Airflow connection into a real warehouse, never into a log."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

import psycopg
import pytest

from atlas.exceptions import PseudonymKeyMissing
from atlas.operators.pseudonym_key import InstallPseudonymKeyOperator

pytestmark = pytest.mark.postgres

KEY_ENV = "AIRFLOW_CONN_ATLAS_PSEUDONYM_KEY"


def audit_entries(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT action, object_schema || '.' || object_name FROM compliance.audit_log "
            "WHERE action = 'masking.pseudonym_key'"
        ).fetchall()


def test_the_key_of_the_connection_is_installed_once_and_audited(fresh_warehouse_dsn, monkeypatch, caplog):
    """Pseudonyms are HMAC-SHA256 under the connection's password; a re-run changes nothing; the key is in no log."""
    key = secrets.token_urlsafe(48)
    monkeypatch.setenv(KEY_ENV, f"generic://:{key}@")
    caplog.set_level(logging.DEBUG)
    operator = InstallPseudonymKeyOperator(task_id="install_pseudonym_key")
    assert operator.execute({}) is True
    assert operator.execute({}) is False, "the same key again is no change"
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        shown = conn.execute(
            "SELECT compliance.mask('4111111111111111', 'CREDIT_CARD', 'confidential')"
        ).fetchone()
    assert shown == (hmac.new(key.encode(), b"4111111111111111", hashlib.sha256).hexdigest(),)
    assert audit_entries(fresh_warehouse_dsn) == [("masking.pseudonym_key", "compliance.pseudonym_key")]
    assert key not in caplog.text
    assert "installed" in caplog.text


def test_a_new_key_in_the_connection_replaces_the_old_one(fresh_warehouse_dsn, monkeypatch):
    """Rotating the connection's password rotates every pseudonym on the next run, and is audited again."""
    pseudonyms = []
    for key in (secrets.token_urlsafe(48), secrets.token_urlsafe(48)):
        monkeypatch.setenv(KEY_ENV, f"generic://:{key}@")
        assert InstallPseudonymKeyOperator(task_id="install_pseudonym_key").execute({}) is True
        with psycopg.connect(fresh_warehouse_dsn) as conn:
            pseudonyms.append(
                conn.execute("SELECT compliance.pseudonym('DE89370400440532013000')").fetchone()
            )
    assert pseudonyms[0] != pseudonyms[1]
    assert len(audit_entries(fresh_warehouse_dsn)) == 2


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param(None, "is not defined", id="no-connection"),
        pytest.param("generic://@", "has no password", id="no-password"),
    ],
)
def test_a_missing_key_names_the_connection_and_how_to_set_it(
    fresh_warehouse_dsn, monkeypatch, value, problem
):
    """Without the connection, or without its password, the task fails saying which connection and how."""
    if value is None:
        monkeypatch.delenv(KEY_ENV, raising=False)
    else:
        monkeypatch.setenv(KEY_ENV, value)
    with pytest.raises(PseudonymKeyMissing) as raised:
        InstallPseudonymKeyOperator(task_id="install_pseudonym_key").execute({})
    assert "'atlas_pseudonym_key'" in str(raised.value)
    assert problem in str(raised.value)
    assert f"{KEY_ENV}=generic://:<a long random key>@" in str(raised.value)
    assert audit_entries(fresh_warehouse_dsn) == []
