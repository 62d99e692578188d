"""Erasure at landing (``atlas.dsr.landing`` through ``WarehouseHook.land_batch``) against a real
warehouse: an erased subject's records re-landed are landed exactly as erasure left them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from atlas.batch_writer import payload_checksum
from atlas.batches import Interval
from atlas.config import load_source
from atlas.connectors.base import Chunk, Reject
from atlas.connectors.files.csv_reader import CsvChunk
from atlas.constants import SOURCES_DIR
from atlas.dsr.erase import Actor
from atlas.dsr.landing import subject_key_hash
from atlas.dsr.request import parse_request
from atlas.dsr.targets import ERASED_TEXT, Target, identifier_names, targets
from atlas.hooks.dsr import SubjectRequestHook
from atlas.hooks.warehouse import WarehouseHook

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

FOUND = targets(load_source(p) for p in sorted(SOURCES_DIR.glob("*.yaml")))
CUSTOMERS = next(t for t in FOUND if (t.source, t.entity.name) == ("crm", "customers"))
DAY = Interval(dt.datetime(2015, 6, 1, tzinfo=dt.UTC), dt.datetime(2015, 6, 2, tzinfo=dt.UTC))
HEADER = ["customer_id", "first_name", "last_name", "email", "phone", "country", "updated_at"]


def _customer(i: int, email: str | None = None) -> dict[str, str]:
    return {"customer_id": str(i), "first_name": f"Zoë{i}", "last_name": "O'Brien",
            "email": email or f"zoe{i}@example.org", "phone": f"+49 30 555 01{i:02d}", "country": "DE",
            "updated_at": "2015-06-02T10:00:00"}  # fmt: skip


def _chunks(customers: list[dict[str, str]], form: str) -> Iterator[Chunk]:
    if form == "records":
        yield Chunk(records=[(c, f"customers.csv:{n + 2}") for n, c in enumerate(customers)])
        return
    chunk = CsvChunk(HEADER, "customers.csv")
    for n, c in enumerate(customers):
        chunk.rows.append([c[h] for h in HEADER])
        chunk.lines.append(n + 2)
    yield chunk


def _land(customers: list[dict[str, str]], form: str = "records", subject: Target | None = CUSTOMERS) -> Any:
    return WarehouseHook().land_batch(
        source="crm",
        entity="customers",
        interval=DAY,
        key_columns=["customer_id"],
        chunks=_chunks(customers, form),
        dag_id="atlas_crm",
        run_id="backfill__test",
        subject=subject,
    )


def _raw(dsn: str) -> dict[str, tuple[dict[str, Any], str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT record_key, payload, payload_checksum FROM explore.raw_data").fetchall()
    return {k: (p, c) for k, p, c in rows}


def _erase(subject: dict[str, Any], s3_bucket: str) -> None:
    request = parse_request(
        {"request_id": "DSR-LAND", "type": "erasure", "subject": subject, "requested_by": "t"},
        identifier_names(FOUND),
    )
    SubjectRequestHook().carry_out(
        request, FOUND, bucket=s3_bucket, actor=Actor(request_id=str(request.uuid))
    )


@pytest.mark.parametrize(
    "form", [pytest.param("records", id="dict-records"), pytest.param("csv", id="csv-rows")]
)
def test_a_relanded_erased_subject_lands_as_erasure_left_it(
    fresh_warehouse_dsn: str, s3_bucket: str, form: str
) -> None:
    """Customer 3 erased, the interval re-landed: the same payloads and checksums as after the
    erasure, the count in the batch notes and audit entry, counts reconciled; a stranger sharing
    the erased e-mail in another case is erased too, the others are untouched."""
    WarehouseHook().ensure_partitions("explore.raw_data", "month", DAY.start, DAY.start)
    customers = [_customer(i) for i in range(1, 6)]
    first = _land(customers, form)
    assert first.rows_erased == 0  # no tombstone yet: nothing erased
    _erase({"customer_id": 3}, s3_bucket)
    erased = _raw(fresh_warehouse_dsn)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        batch_checksum = conn.execute("SELECT checksum FROM pipeline.batches").fetchone()

    again = _land(customers, form)
    relanded = _raw(fresh_warehouse_dsn)
    assert relanded == erased  # exactly what erasure left, checksums included
    assert relanded["3"][0]["email"] == relanded["3"][0]["first_name"] == ERASED_TEXT
    assert (relanded["3"][0]["customer_id"], relanded["3"][0]["country"]) == ("3", "DE")
    assert all(payload_checksum(p) == c for p, c in relanded.values())
    assert relanded["2"][0] == customers[1]
    assert (again.rows_read, again.rows_landed, again.rows_quarantined, again.rows_erased) == (5, 5, 0, 1)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        batch = conn.execute(
            "SELECT checksum, rows_read, rows_landed, notes FROM pipeline.batches"
        ).fetchone()
        audit = conn.execute(
            "SELECT details->>'rows_erased', rows_affected FROM compliance.audit_log"
            " WHERE action = 'ingest.batch' ORDER BY audit_id DESC LIMIT 1"
        ).fetchone()
    assert batch is not None
    assert batch_checksum is not None
    assert batch[:3] == (batch_checksum[0], 5, 5)
    assert any("1 record(s) of erased data subjects landed erased" in n for n in batch[3])
    assert audit == ("1", 5)

    stranger = _customer(9, email="ZOE3@Example.ORG")  # the erased e-mail, another case and key
    third = _land([*customers, stranger], form)
    assert third.rows_erased == 2
    assert _raw(fresh_warehouse_dsn)["9"][0]["email"] == ERASED_TEXT


def test_without_a_subject_nothing_is_erased(fresh_warehouse_dsn: str, s3_bucket: str) -> None:
    """An entity landed without its subject (or never erased) keeps every record as read."""
    WarehouseHook().ensure_partitions("explore.raw_data", "month", DAY.start, DAY.start)
    customers = [_customer(i) for i in range(1, 4)]
    _land(customers)
    _erase({"email": "ZOE2@example.org"}, s3_bucket)
    result = _land(customers, subject=None)
    assert result.rows_erased == 0
    assert _raw(fresh_warehouse_dsn)["2"][0] == customers[1]


_SCALARS = st.one_of(
    st.text(max_size=40).filter(lambda v: "\x00" not in v),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_SCALARS)
@example("Zoë@Example.org")
@example(42)
@example(True)
def test_the_landing_hash_is_the_databases(warehouse_dsn: str, value: Any) -> None:
    """Python's hash of a payload value equals compliance.subject_key_hash(payload ->> key), the tombstones' hash."""
    with psycopg.connect(warehouse_dsn) as conn:
        row = conn.execute(
            "SELECT compliance.subject_key_hash(%s::jsonb ->> 'k')",
            (psycopg.types.json.Jsonb({"k": value}),),
        ).fetchone()
    assert row == (subject_key_hash(value),)


def _land_with_rejects(customers: list[dict[str, str]], lines: list[bytes]) -> Any:
    rejects = [
        Reject(f"customers.csv:{100 + n}", 100 + n, line.decode("utf-8", "replace"), "broken line", line, 0)
        for n, line in enumerate(lines)
    ]
    return WarehouseHook().land_batch(
        source="crm",
        entity="customers",
        interval=DAY,
        key_columns=["customer_id"],
        chunks=iter([Chunk(records=[(c, "customers.csv:2") for c in customers], rejects=rejects)]),
        dag_id="atlas_crm",
        run_id="backfill__test",
        subject=CUSTOMERS,
    )


def test_a_relanded_quarantined_line_naming_an_erased_subject_lands_erased(
    fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """Customer 3 erased; the interval re-landed with three broken lines: the one naming 3's
    e-mail (another case, inside quotes) is quarantined as erasure leaves a line (text
    ``[erased]``, no bytes), the others keep their text and bytes, and nothing was dropped."""
    WarehouseHook().ensure_partitions("explore.raw_data", "month", DAY.start, DAY.start)
    customers = [_customer(i) for i in range(1, 6)]
    naming = b"3,\"Zo\xc3\xab3,O'Brien,<ZOE3@example.ORG>;+49 30 555 0103"
    near = b"4,zoe3@example.org.evil,x"  # not the e-mail: one token holds more than it
    other = b"5,\xff\xfe broken,zoe5@example.org"
    assert _land_with_rejects(customers, [naming, near, other]).rows_erased == 0
    _erase({"customer_id": 3}, s3_bucket)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        erased = conn.execute(
            "SELECT line_number, raw_record, raw_bytes FROM explore.quarantine WHERE line_number = 100"
        ).fetchall()
    assert erased == [(100, ERASED_TEXT, None)]  # erasure itself: the line's text and its bytes
    again = _land_with_rejects(customers, [naming, near, other])
    assert (again.rows_read, again.rows_landed, again.rows_quarantined) == (8, 5, 3)
    assert again.rows_erased == 2  # the record of customer 3 and the line naming its e-mail
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        lines = conn.execute(
            "SELECT line_number, raw_record, raw_bytes FROM explore.quarantine ORDER BY line_number"
        ).fetchall()
    assert lines == [
        (100, ERASED_TEXT, None),
        (101, near.decode(), near),
        (102, other.decode("utf-8", "replace"), other),
    ]
