"""Helper functions the migrations define: the row checksum, masking, and their volatility."""

from __future__ import annotations

import hashlib
import re

import psycopg
import pytest


@pytest.mark.postgres
def test_row_checksum_is_md5_of_the_jsonb_text(conn: psycopg.Connection) -> None:
    """pipeline.row_checksum is the md5 hex of the payload's JSONB text, key order aside."""
    text, checksum, reordered = conn.execute(
        'SELECT p::text, pipeline.row_checksum(p), pipeline.row_checksum(\'{"b": [1, 2], "a": "x"}\') '
        'FROM (SELECT \'{"a": "x", "b": [1, 2]}\'::jsonb AS p) AS t'
    ).fetchone()
    assert checksum == hashlib.md5(text.encode()).hexdigest()
    assert reordered == checksum


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("value", "entity", "expected"),
    [
        pytest.param("jane.doe@example.com", "EMAIL_ADDRESS", "***", id="email-no-domain"),
        pytest.param("+44 20 7946 0958", "PHONE_NUMBER", "***", id="phone-no-digits"),
        pytest.param("203.0.113.42", "IP_ADDRESS", "203.0.0.0", id="ip-network"),
        pytest.param("1984-07-21", "DATE_TIME", "1980s", id="date-decade"),
        pytest.param("1984-07-21", "DATE_OF_BIRTH", "1980s", id="birth-date-decade"),
        pytest.param("2026-01-05 09:00:00+00", "DATE_TIME", "2020s", id="timestamp-decade"),
        pytest.param("EC1A 1BB", "POSTAL_CODE", "EC***", id="postal-area"),
        pytest.param("M1", "POSTAL_CODE", "***", id="short-postal-code"),
        pytest.param("Jane", "PERSON", "***", id="person-no-initial"),
        pytest.param("Hauptstraße 7", "LOCATION", "***", id="location"),
        pytest.param("Call Jane on 0123", "FREE_TEXT", "***", id="free-text"),
        pytest.param("cancer", "MEDICAL_CONDITION", "***", id="unknown-entity-fully-redacted"),
        pytest.param("anything", None, "***", id="no-entity-fully-redacted"),
        pytest.param("", "PERSON", "", id="empty"),
        pytest.param(None, "EMAIL_ADDRESS", None, id="null"),
    ],
)
def test_mask_hides_a_value_by_its_entity(
    conn: psycopg.Connection, value: str | None, entity: str | None, expected: str | None
) -> None:
    """compliance.mask(value, entity) is the confidential form: generalised or ***, never a part that singles
    out (identifiers become keyed pseudonyms: tests/plugins/atlas/migrations/test_pseudonyms.py)."""
    assert conn.execute("SELECT compliance.mask(%s, %s)", (value, entity)).fetchone()[0] == expected
    assert (
        conn.execute("SELECT compliance.mask(%s, %s, 'confidential')", (value, entity)).fetchone()[0]
        == expected
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("classification", "expected"),
    [
        pytest.param("public", "1984-07-21", id="public-as-is"),
        pytest.param("internal", "1984-07-21", id="internal-as-is"),
        pytest.param("confidential", "1980s", id="confidential-generalised"),
        pytest.param("restricted", None, id="restricted-withheld"),
        pytest.param("special_category", None, id="special-category-withheld"),
        pytest.param("secret", None, id="unknown-level-withheld"),
        pytest.param(None, None, id="no-level-withheld"),
    ],
)
def test_mask_follows_the_classification(
    conn: psycopg.Connection, classification: str | None, expected: str | None
) -> None:
    """compliance.mask(value, entity, classification): as is, generalised, or withheld (NULL)."""
    masked = conn.execute(
        "SELECT compliance.mask('1984-07-21', 'DATE_TIME', %s)", (classification,)
    ).fetchone()[0]
    assert masked == expected


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("function", "value", "entity"),
    [
        pytest.param("mask_email", "jane.doe@example.com", "EMAIL_ADDRESS", id="mask_email"),
        pytest.param("mask_phone", "+44 20 7946 0958", "PHONE_NUMBER", id="mask_phone"),
        pytest.param("mask_credit_card", "4111 1111 1111 1234", "CREDIT_CARD", id="mask_credit_card"),
        pytest.param("mask_iban", "GB82 WEST 1234 5698 7654 32", "IBAN_CODE", id="mask_iban"),
        pytest.param("mask_date", "1984-07-21", "DATE_TIME", id="mask_date"),
        pytest.param("mask_text", "Jane", None, id="mask_text"),
    ],
)
def test_the_old_helpers_mask_as_the_one_rule_does(
    conn: psycopg.Connection, function: str, value: str, entity: str | None
) -> None:
    """V002's per-entity helpers no longer keep initials, domains or digits: they return compliance.mask."""
    with conn.transaction(force_rollback=True):  # identifiers are pseudonymised under the installed key
        conn.execute("SELECT compliance.install_pseudonym_key(%s)", ("a test key of 32 characters ....",))
        helper, rule = conn.execute(
            f"SELECT compliance.{function}(%s), compliance.mask(%s, %s)", (value, value, entity)
        ).fetchone()
    assert helper == rule


@pytest.mark.postgres
@pytest.mark.parametrize(
    "entity",
    ["DATE_TIME", "POSTAL_CODE", "IP_ADDRESS", "PERSON", "FREE_TEXT", "EMAIL_ADDRESS", "IBAN_CODE", None],
)
@pytest.mark.parametrize("classification", ["public", "confidential", "restricted", "special_category"])
def test_the_masking_description_says_what_mask_shows(
    conn: psycopg.Connection, entity: str | None, classification: str
) -> None:
    """compliance.masking describes compliance.mask: its example "a -> b" holds, *** and NULL where it says so."""
    description = conn.execute("SELECT compliance.masking(%s, %s)", (entity, classification)).fetchone()[0]
    example = re.search(r": (\S+) -> (\S+)$", description)
    if example:
        assert description.startswith("generalised")
        shown = conn.execute(
            "SELECT compliance.mask(%s, %s, %s)", (example[1], entity, classification)
        ).fetchone()[0]
        assert shown == example[2]
        return
    with conn.transaction(force_rollback=True):
        conn.execute("SELECT compliance.install_pseudonym_key(%s)", ("a test key of 32 characters ....",))
        shown = conn.execute(
            "SELECT compliance.mask('1984-07-21', %s, %s)", (entity, classification)
        ).fetchone()[0]
    if description.startswith("pseudonymised"):
        assert re.fullmatch(r"[0-9a-f]{64}", shown)
    elif description.startswith("anonymised"):
        assert shown == "***", (
            "the rule's own fallback: the staging model shows the PII stage's anonymised text"
        )
    elif description.startswith("none"):
        assert shown == "1984-07-21"
    elif description.startswith("withheld"):
        assert shown is None
    else:
        assert description.startswith("redacted: ***")
        assert shown == "***"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        pytest.param("pipeline.row_checksum", "jsonb", id="row_checksum"),
        pytest.param("compliance.masking", "text, text", id="masking"),
        pytest.param("compliance.pii_treatment", "text", id="pii_treatment"),
        pytest.param("compliance.mask_email", "text", id="mask_email"),
        pytest.param("compliance.mask_phone", "text", id="mask_phone"),
        pytest.param("compliance.mask_text", "text, integer", id="mask_text"),
        pytest.param("quality.score_grade", "numeric", id="score_grade"),
    ],
)
def test_pure_helpers_are_immutable(conn: psycopg.Connection, function: str, arguments: str) -> None:
    """The checksum, masking and grading helpers are declared IMMUTABLE."""
    volatility = conn.execute(
        "SELECT provolatile FROM pg_proc WHERE oid = %s::regprocedure", (f"{function}({arguments})",)
    ).fetchone()[0]
    assert volatility == "i"


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        pytest.param("compliance.mask", "text, text", id="mask"),
        pytest.param("compliance.mask", "text, text, text", id="mask-by-classification"),
        pytest.param("compliance.mask_credit_card", "text", id="mask_credit_card"),
        pytest.param("compliance.mask_iban", "text", id="mask_iban"),
        pytest.param("compliance.pseudonym", "text", id="pseudonym"),
    ],
)
def test_masking_that_reads_the_pseudonym_key_is_stable(
    conn: psycopg.Connection, function: str, arguments: str
) -> None:
    """The rule pseudonymises identifiers with the installed key, so it is STABLE, not IMMUTABLE."""
    volatility = conn.execute(
        "SELECT provolatile FROM pg_proc WHERE oid = %s::regprocedure", (f"{function}({arguments})",)
    ).fetchone()[0]
    assert volatility == "s"
