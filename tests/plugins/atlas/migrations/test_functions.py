"""Helper functions the migrations define: the row checksum, masking, and their volatility."""

from __future__ import annotations

import hashlib

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
        pytest.param("jane.doe@example.com", "EMAIL_ADDRESS", "j***@example.com", id="email"),
        pytest.param("+44 20 7946 0958", "PHONE_NUMBER", "***0958", id="phone"),
        pytest.param("4111 1111 1111 1234", "CREDIT_CARD", "**** **** **** 1234", id="credit-card"),
        pytest.param("GB82 WEST 1234 5698 7654 32", "IBAN_CODE", "GB***5432", id="iban"),
        pytest.param("203.0.113.42", "IP_ADDRESS", "203.0.0.0", id="ip"),
        pytest.param("1984-07-21", "DATE_TIME", "1984-**-**", id="date"),
        pytest.param("Jane", "PERSON", "J***", id="person"),
        pytest.param("536-90-4399", "US_SSN", "***-**-4399", id="ssn"),
        pytest.param("cancer", "MEDICAL_CONDITION", "***", id="unknown-entity-fully-redacted"),
        pytest.param("anything", None, "***", id="no-entity-fully-redacted"),
        pytest.param(None, "EMAIL_ADDRESS", None, id="null"),
    ],
)
def test_mask_hides_a_value_by_its_entity(
    conn: psycopg.Connection, value: str | None, entity: str | None, expected: str | None
) -> None:
    """compliance.mask masks a value according to its Presidio entity type."""
    assert conn.execute("SELECT compliance.mask(%s, %s)", (value, entity)).fetchone()[0] == expected


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        pytest.param("pipeline.row_checksum", "jsonb", id="row_checksum"),
        pytest.param("compliance.mask", "text, text", id="mask"),
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
