"""What an analyst can learn from navigate about a person, logged in as a member of atlas_read.

navigate is built with dbt from the crm sample (``atlas_dev.sample``: 1,000 customers and a day of
changes) and a few support tickets. The attacker of the security review knows a customer's true
attributes and the masking rules (sql/V018), and tries to confirm the guess through what navigate
shows: a digest of the attributes, a column left partly in clear, or a combination that only one
person has (k-anonymity over the readable columns computed from the attributes).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from atlas.dbt.rules import hashed_columns, is_masked, mask_entity
from atlas_dev.sample import generate
from tests.fixtures.roles import login_as
from tests.fixtures.warehouse import clone_warehouse
from tests.include.atlas_dbt.chart_tables import (
    create_chart_tables,
    day,
    interval_vars,
    promote,
    query,
    run_dbt,
    sample_sources,
)

pytestmark = [pytest.mark.postgres, pytest.mark.dbt, pytest.mark.slow]

SOURCES = sample_sources()
CUSTOMERS = SOURCES["crm"].entity("customers")
DAYS = (day(2026, 1, 5), day(2026, 1, 6))
QUASI_IDENTIFIERS = hashed_columns(CUSTOMERS)
"""The readable columns an attacker can compute from a person's true attributes: every YAML column
but the business key and the record's change time (updated_at). Keys, lineage, the SCD2 times
and the keyed change hash are not functions of the person's attributes the attacker can evaluate."""
MIN_K = 2


def sample_customers(folder: Path) -> list[list[dict[str, Any]]]:
    """The crm sample's customer rows of each day in DAYS, typed for chart."""
    generate("crm", folder, DAYS[0].start.date(), DAYS[-1].end.date(), bad_rows=False)
    days = []
    for path in sorted(folder.rglob("*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [{k: (v if v != "" else None) for k, v in row.items()} for row in csv.DictReader(handle)]
        for row in rows:
            row["customer_id"] = int(row["customer_id"])
            row["birth_date"] = dt.date.fromisoformat(row["birth_date"])
            row["updated_at"] = dt.datetime.fromisoformat(row["updated_at"].replace("Z", "+00:00"))
        days.append(rows)
    return days


def ticket(ticket_id: int, customer_id: int, subject: str, body: str | None) -> dict[str, Any]:
    opened = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)
    return {
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "opened_at": opened,
        "channel": "email",
        "priority": "normal",
        "status": "open",
        "subject": subject,
        "body": body,
        "updated_at": opened,
    }


@pytest.fixture(scope="module")
def warehouse(sample_project, pg_server, warehouse_template, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(pipeline DSN, analyst DSN) of a warehouse with navigate built from the crm sample and tickets."""
    name, dsn = clone_warehouse(pg_server, warehouse_template)
    try:
        with psycopg.connect(dsn) as conn:
            create_chart_tables(conn, SOURCES.values())
        work = tmp_path_factory.mktemp("dbt")
        for interval, rows in zip(DAYS, sample_customers(tmp_path_factory.mktemp("crm")), strict=True):
            with psycopg.connect(dsn) as conn:
                promote(conn, SOURCES["crm"], "customers", rows, interval)
                if interval is DAYS[0]:
                    tickets = [
                        ticket(
                            1, 1, "Olivia Weber, olivia.weber205@example.com", "Call me on +49 30 1234567"
                        ),
                        ticket(2, 2, "Refund for order 100", None),
                    ]
                    promote(conn, SOURCES["support"], "tickets", tickets, interval)
            selected = ("tag:source_crm", "tag:source_support")
            result = run_dbt(dsn, work, "build", "--select", *selected, dbt_vars=interval_vars(interval))
            assert result.returncode == 0, result.stdout[-6000:]
        with login_as(pg_server, dsn, "atlas_read") as analyst:
            yield dsn, analyst
    finally:
        pg_server.drop_database(name)


def true_attributes(dsn: str) -> list[tuple[Any, ...]]:
    """Each customer's current attributes as chart holds them (the truth the attacker guesses)."""
    return query(
        dsn, f"SELECT customer_id, {', '.join(QUASI_IDENTIFIERS)} FROM chart.crm__customers ORDER BY 1"
    )


def test_a_digest_of_the_guessed_attributes_never_matches_the_change_hash(warehouse):
    """md5 / sha256 of row(true attributes) are never a change_hash; the analyst may not call keyed_hash."""
    dsn, analyst = warehouse
    row = ", ".join(f"{c}::text" for c in QUASI_IDENTIFIERS)
    guesses = query(dsn, f"SELECT customer_id, row({row})::text FROM chart.crm__customers")
    assert len(guesses) > 1000
    with psycopg.connect(analyst) as conn:
        shown = {h for (h,) in conn.execute("SELECT change_hash FROM navigate.dim_customer")}
        assert len(shown) > 1000
        digests = {hashlib.md5(text.encode()).hexdigest() for _, text in guesses}
        digests |= {hashlib.sha256(text.encode()).hexdigest() for _, text in guesses}
        assert not digests & shown, "a digest of a guessed identity confirms it"
        confirmed = conn.execute(
            f"SELECT count(*) FROM navigate.dim_customer AS d "
            f"WHERE d.change_hash IN (md5(row({row})::text), encode(sha256(convert_to(row({row})::text, 'UTF8')), 'hex'))"
        ).fetchone()
        assert confirmed == (0,), "not even from the masked values"
    with psycopg.connect(analyst) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT pipeline.keyed_hash('Olivia')")
    with psycopg.connect(analyst) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM pipeline.hash_key")


@pytest.mark.parametrize(
    ("relation", "where"),
    [
        pytest.param("navigate.crm__customers", "true", id="crm__customers"),
        pytest.param("navigate.dim_customer", "is_current", id="dim_customer"),
    ],
)
def test_every_customer_hides_among_at_least_two(warehouse, relation, where, record_property):
    """k-anonymity: the masked form of each person's true attributes matches >= 2 rows the analyst reads."""
    dsn, analyst = warehouse
    masked = ", ".join(
        f"compliance.mask({c.name}::text, '{mask_entity(c)}', '{c.classification}')"
        if is_masked(c)
        else f"{c.name}::text"
        for c in CUSTOMERS.columns
        if c.name in QUASI_IDENTIFIERS
    )
    guesses = query(dsn, f"SELECT customer_id, {masked} FROM chart.crm__customers ORDER BY 1")
    readable = ", ".join(f"{c}::text" for c in QUASI_IDENTIFIERS)
    with psycopg.connect(analyst) as conn:
        shown = conn.execute(f"SELECT customer_id, {readable} FROM {relation} WHERE {where}").fetchall()
    own = {row[0]: row[1:] for row in shown}
    classes = Counter(row[1:] for row in shown)
    for customer_id, *guess in guesses:
        assert own[customer_id] == tuple(guess), "the guess is what navigate shows for that person"
    k = min(classes[tuple(guess)] for _, *guess in guesses)
    record_property("k", k)
    print(f"{relation}: k = {k} over {len(guesses)} customers, {len(classes)} classes")
    assert k >= MIN_K, f"a combination of readable columns singles a customer out (k = {k})"


def test_no_column_shows_initials_domains_digits_or_a_birth_date(warehouse):
    """Names, e-mails, phones and streets are ***, birth dates withheld, postal codes two characters."""
    _, analyst = warehouse
    with psycopg.connect(analyst) as conn:
        rows = conn.execute(
            "SELECT DISTINCT first_name, last_name, email, phone, street, city, birth_date, length(postal_code) "
            "FROM navigate.dim_customer"
        ).fetchall()
    assert rows
    assert {r[:6] for r in rows} <= {("***",) * 6, ("***", "***", "***", None, "***", "***")}
    assert {r[6] for r in rows} == {None}
    assert {r[7] for r in rows} <= {3, 5}, "*** or two characters and ***"


def test_free_text_is_redacted_in_navigate(warehouse):
    """subject and body (free_text) read *** (NULL stays NULL) in the current state and the fact when the
    PII stage has not anonymised them (only dbt runs here; tests/dags/test_personal_data_masking.py has
    the anonymised text)."""
    _, analyst = warehouse
    with psycopg.connect(analyst) as conn:
        for relation in ("navigate.support__tickets", "navigate.fact_support_tickets"):
            rows = conn.execute(f"SELECT ticket_id, subject, body FROM {relation} ORDER BY 1").fetchall()
            assert rows == [(1, "***", "***"), (2, "***", None)], relation


def test_the_data_dictionary_lists_every_column_and_how_it_is_masked(warehouse):
    """As the analyst: every column of the generated tables, with source, entity, classification, masking."""
    _, analyst = warehouse
    generated = {
        "crm__customers": ("crm", CUSTOMERS),
        "dim_customer": ("crm", CUSTOMERS),
        "support__tickets": ("support", SOURCES["support"].entity("tickets")),
    }
    with psycopg.connect(analyst) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'navigate' AND table_name = ANY(%s)",
            [list(generated)],
        ).fetchall()
        dictionary = {
            (r[0], r[1]): r[2:]
            for r in conn.execute(
                "SELECT table_name, column_name, source_name, entity_name, classification, pii_entity, masked, "
                "masking, data_type FROM navigate.data_dictionary"
            )
        }
    assert len(columns) > 40
    missing = sorted(set(columns) - set(dictionary))
    assert not missing, f"columns not in navigate.data_dictionary: {missing}"
    for table, column in columns:
        source, entity = generated[table]
        source_name, entity_name, classification, pii, masked, masking, _ = dictionary[(table, column)]
        assert (source_name, entity_name) == (source, entity.name)
        declared = next((c for c in entity.columns if c.name == column), None)
        if declared is None:
            assert (classification, masked, masking) == ("internal", False, "none: shown as it is"), column
            continue
        assert (classification, pii, masked) == (
            str(declared.classification),
            declared.pii,
            is_masked(declared),
        )
        if not is_masked(declared):
            assert masking.startswith("none"), column
        elif declared.free_text:
            assert masking.startswith("anonymised: the personal data the PII stage finds"), column
        elif str(declared.classification) in ("restricted", "special_category"):
            assert masking.startswith("withheld: always NULL"), column
        else:
            assert masking.startswith(("redacted", "generalised")), column
    assert (
        dictionary[("dim_customer", "postal_code")][5]
        == "generalised to the first two characters: 10115 -> 10***"
    )
