"""compliance.pseudonym: HMAC-SHA256 under a key installed from outside, readable by its owner only."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.postgres

KEY = secrets.token_urlsafe(48)


def install(conn: psycopg.Connection, key: str) -> bool:
    return conn.execute("SELECT compliance.install_pseudonym_key(%s)", (key,)).fetchone()[0]


@pytest.fixture
def keyed(conn: psycopg.Connection) -> psycopg.Connection:
    """The migrations database with KEY installed."""
    install(conn, KEY)
    return conn


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")))
def test_a_pseudonym_is_hmac_sha256_of_the_value_under_the_key(keyed: psycopg.Connection, value: str) -> None:
    """Any text, quotes and non-ASCII included, gets Python's HMAC-SHA256 of its UTF-8 under the key."""
    shown = keyed.execute("SELECT compliance.pseudonym(%s)", (value,)).fetchone()[0]
    assert shown == hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("k" * 16, id="shortest"),
        pytest.param("K" * 64, id="one-block"),
        pytest.param("é" * 70, id="longer-than-a-block-hashed-first"),
    ],
)
def test_keys_of_any_length_follow_rfc_2104(conn: psycopg.Connection, key: str) -> None:
    """A key shorter than the block is zero-padded, a longer one hashed first, as Python's hmac does."""
    with conn.transaction(force_rollback=True):
        install(conn, key)
        shown = conn.execute("SELECT compliance.pseudonym('GB82 WEST 1234 5698 7654 32')").fetchone()[0]
    assert shown == hmac.new(key.encode(), b"GB82 WEST 1234 5698 7654 32", hashlib.sha256).hexdigest()


def test_equal_values_equal_pseudonyms_and_another_key_others(keyed: psycopg.Connection) -> None:
    """Joins work under one key; a different key changes every pseudonym; reinstalling a key is no change."""
    assert install(keyed, KEY) is False
    first = keyed.execute(
        "SELECT compliance.mask('DE89370400440532013000', 'IBAN_CODE', 'confidential'), "
        "compliance.pseudonym('DE89370400440532013000'), compliance.pseudonym('DE89370400440532013001')"
    ).fetchone()
    assert first[0] == first[1] != first[2]
    with keyed.transaction(force_rollback=True):
        assert install(keyed, secrets.token_urlsafe(48)) is True
        other = keyed.execute("SELECT compliance.pseudonym('DE89370400440532013000')").fetchone()[0]
    assert other != first[1]


def test_without_a_key_the_error_names_the_connection(empty_db_dsn: str) -> None:
    """A warehouse where no key was installed refuses to pseudonymise and says how to set the key."""
    from atlas.migrations import migrate

    migrate(empty_db_dsn)
    with psycopg.connect(empty_db_dsn) as conn, pytest.raises(psycopg.errors.RaiseException) as raised:
        conn.execute("SELECT compliance.mask('4111111111111111', 'CREDIT_CARD', 'confidential')")
    assert "no pseudonym key is installed" in str(raised.value)
    assert "atlas_pseudonym_key" in raised.value.diag.message_hint
    assert "AIRFLOW_CONN_ATLAS_PSEUDONYM_KEY" in raised.value.diag.message_hint


def test_a_short_key_is_refused_without_echoing_it(conn: psycopg.Connection) -> None:
    """Fewer than 16 bytes is no key; the message says so and does not contain it."""
    with pytest.raises(psycopg.errors.RaiseException) as raised:
        install(conn, "hunter2-secret")
    assert "too short: 14 bytes" in str(raised.value)
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize("role", ["atlas_read", "atlas_write", "atlas_admin"])
def test_no_group_role_reads_the_key(conn: psycopg.Connection, role: str) -> None:
    """compliance.pseudonym_key is readable by its owner only."""
    assert conn.execute(
        "SELECT has_table_privilege(%s, 'compliance.pseudonym_key', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')",
        (role,),
    ).fetchone() == (False,)


@pytest.mark.parametrize(
    ("role", "may"),
    [
        pytest.param("atlas_read", False, id="read"),
        pytest.param("atlas_write", True, id="write"),
        pytest.param("atlas_admin", True, id="admin"),
    ],
)
def test_only_the_pipeline_and_admin_install_and_pseudonymise(
    conn: psycopg.Connection, role: str, may: bool
) -> None:
    """EXECUTE on both functions is revoked from PUBLIC: the analyst can compute no pseudonym."""
    assert conn.execute(
        "SELECT has_function_privilege(%s, 'compliance.pseudonym(text)', 'EXECUTE'), "
        "has_function_privilege(%s, 'compliance.install_pseudonym_key(text)', 'EXECUTE')",
        (role, role),
    ).fetchone() == (may, may)


@pytest.mark.parametrize(
    ("entity", "treatment"),
    [
        pytest.param("IBAN_CODE", "pseudonym", id="iban"),
        pytest.param("IDENTIFIER", "pseudonym", id="identifier"),
        pytest.param("CREDIT_CARD", "pseudonym", id="card"),
        pytest.param("EMAIL_ADDRESS", "redact", id="email-is-contact"),
        pytest.param("PHONE_NUMBER", "redact", id="phone-is-contact"),
        pytest.param("PERSON", "redact", id="name"),
        pytest.param("DATE_OF_BIRTH", "decade", id="birth-date"),
        pytest.param("POSTAL_CODE", "postal_area", id="postal"),
        pytest.param(None, "redact", id="none"),
    ],
)
def test_the_policy_names_one_treatment_per_entity(
    conn: psycopg.Connection, entity: str | None, treatment: str
) -> None:
    """compliance.pii_treatment is the one policy: identifiers pseudonymised, contact data redacted, dates generalised."""
    assert conn.execute("SELECT compliance.pii_treatment(%s)", (entity,)).fetchone() == (treatment,)
