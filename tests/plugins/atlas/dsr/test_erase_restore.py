"""An erasure's tombstones against the archive: a partition archived before the erasure and
restored after it holds no trace of the subject (real PostgreSQL, moto S3, ``SubjectRequestHook``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from atlas.archive import RunInfo
from atlas.batch_writer import payload_checksum
from atlas.config import load_source
from atlas.constants import SOURCES_DIR
from atlas.dsr.erase import Actor
from atlas.dsr.find import resolve, selections
from atlas.dsr.request import parse_request
from atlas.dsr.targets import ERASED_TEXT, identifier_names, targets
from atlas.exceptions import SubjectRequestError
from atlas.hooks.archive import ArchiveHook
from atlas.hooks.dsr import SubjectRequestHook

pytestmark = [pytest.mark.postgres, pytest.mark.s3]

FOUND = targets(load_source(p) for p in sorted(SOURCES_DIR.glob("*.yaml")))
MONTH = dt.datetime(2015, 6, 1, tzinfo=dt.UTC)


def _customer(i: int) -> dict[str, str]:
    return {"customer_id": str(i), "first_name": f"Zoë{i}", "last_name": "O'Brien", "email": f"zoe{i}@example.org",
            "phone": f"+49 30 555 01{i:02d}", "country": "DE", "updated_at": "2015-06-02T10:00:00"}  # fmt: skip


def _land_customer_1(cur: psycopg.Cursor[Any]) -> None:
    """Customer 1's raw record in its month (the partition created)."""
    cur.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (MONTH,))
    cur.execute(
        "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, record_key, payload,"
        " payload_checksum) VALUES ('crm', 'customers', gen_random_uuid(), %s, '1', %s, %s)",
        (MONTH, psycopg.types.json.Jsonb(_customer(1)), payload_checksum(_customer(1))),
    )


def _erase(request_id: str, subject: dict[str, str], bucket: str) -> dict[str, Any]:
    """An erasure request for ``subject`` carried out by the hook; its result."""
    request = parse_request(
        {"request_id": request_id, "type": "erasure", "subject": subject, "requested_by": "t"},
        identifier_names(FOUND),
    )
    return SubjectRequestHook().carry_out(
        request, FOUND, bucket=bucket, actor=Actor(request_id=str(request.uuid))
    )


def test_a_restore_after_an_erasure_holds_no_trace_of_the_subject(
    fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """Customers 1-5 and an order of 3 archived; customer 3 erased; the restored month keeps all six rows,
    customer 3's personal fields erased as erasure writes them (checksums recomputed), the order untouched."""
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        conn.execute("SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (MONTH,))
        rows = [("crm", "customers", str(i), _customer(i)) for i in range(1, 6)]
        rows.append(("shop", "orders", "77", {"order_id": 77, "customer_id": 3, "status": "paid"}))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, record_key,"
                " payload, payload_checksum) VALUES (%s, %s, gen_random_uuid(), %s, %s, %s::jsonb, %s)",
                [(s, e, MONTH, k, psycopg.types.json.Jsonb(p), payload_checksum(p)) for s, e, k, p in rows],
            )
    archive = ArchiveHook()
    partition = next(
        p for p in archive.partitions("explore.raw_data") if p.name == "explore.raw_data_p201506"
    )
    archived = archive.archive_partition(partition, bucket=s3_bucket, keep_months=None, run=RunInfo())
    assert archived is not None

    result = _erase("DSR-RESTORE", {"customer_id": "03"}, s3_bucket)
    assert result["subject_keys"]["customer_id"] == ["3"]  # "03" read as the bigint it is
    assert result["tombstones"] >= 1

    restored = archive.restore(snapshot_id=archived.snapshot_id)
    assert restored.extra["erased_rows"] == 1  # the customer; their order holds no personal data
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        left = conn.execute(
            "SELECT record_key, payload, payload_checksum, payload::text FROM explore.raw_data ORDER BY record_key"
        ).fetchall()
        audited = conn.execute(
            "SELECT rows_affected FROM compliance.audit_log WHERE action = 'archive.restore'"
        ).fetchall()
    assert [k for k, *_ in left] == ["1", "2", "3", "4", "5", "77"]  # no row deleted: counts unchanged
    assert audited == [(6,)]
    erased = {k: p for k, p, *_ in left}
    assert {f: erased["3"][f] for f in ("first_name", "last_name", "email", "phone")} == dict.fromkeys(
        ("first_name", "last_name", "email", "phone"), ERASED_TEXT
    )
    assert erased["3"]["customer_id"] == "3"  # the key stays, as erasure leaves it
    assert erased["77"] == rows[-1][3]  # the order, untouched
    assert all(payload_checksum(p) == c for _, p, c, _ in left)  # recomputed as erasure does
    assert not any(v in text for *_, text in left for v in ("zoe3@", "Zoë3", "555 0103"))
    assert erased["2"] == _customer(2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=60).filter(lambda v: "\x00" not in v and v.strip() == v))
@example("ZOE1@example.org")  # the one record's e-mail, another case: found
@example("zoe1@example.org' OR '1'='1")
def test_hostile_identifiers_are_data_not_sql(fresh_warehouse_dsn: str, email: str) -> None:
    """Any e-mail value is bound, never SQL: it finds no stranger's record and breaks nothing."""
    with psycopg.connect(fresh_warehouse_dsn) as conn, conn.cursor() as cur:
        _land_customer_1(cur)
        subject = resolve(cur, FOUND, {"email": email})
        selected = selections(cur, FOUND, subject)
        conn.rollback()
    assert subject.keys["customer_id"] == ([] if email.lower() != "zoe1@example.org" else ["1"])
    assert (selected == []) == (not subject.found)


def test_a_subject_key_of_the_wrong_type_rejects_the_request(
    fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """customer_id "abc" is not a bigint: the request row is rejected with the reason, nothing is erased."""
    request = parse_request(
        {"request_id": "DSR-ABC", "type": "erasure", "subject": {"customer_id": "abc"}, "requested_by": "t"},
        identifier_names(FOUND),
    )
    with pytest.raises(SubjectRequestError, match=r"subject customer_id \['abc'\]: not a valid bigint"):
        SubjectRequestHook().carry_out(
            request, FOUND, bucket=s3_bucket, actor=Actor(request_id=str(request.uuid))
        )
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        row = conn.execute(
            "SELECT status, error LIKE '%%not a valid bigint%%', completed_at IS NOT NULL,"
            " (SELECT count(*) FROM compliance.erasure_tombstones)"
            " FROM compliance.data_subject_requests WHERE external_reference = 'DSR-ABC'"
        ).fetchone()
    assert row == ("rejected", True, True, 0)


@pytest.mark.parametrize(
    ("line", "identifier", "names"),
    [
        ("1,\"Zoë,O'Brien,ZOE1@example.org,+49 30 555 0101", "zoe1@example.org", True),
        ("joanna@x.org", "anna@x.org", False),
        ("anna@x.org.au", "anna@x.org", False),
        ("jo.anna@x.org", "anna@x.org", False),
        ("write to anna@x.org.", "anna@x.org", True),
        ('"anna@x.org"', "anna@x.org", True),
        ("joanna@x.org;anna@x.org", "anna@x.org", True),
        ("x,+49 30 555 0199", "+49 30 555 0199", True),
        ("x,+49 30 555 01990", "+49 30 555 0199", False),
        ("", "anna@x.org", False),
    ],
)
def test_a_quarantined_line_names_an_identifier_only_as_a_whole_value(
    warehouse_dsn: str, line: str, identifier: str, names: bool
) -> None:
    with psycopg.connect(warehouse_dsn) as conn:
        assert conn.execute("SELECT compliance.line_names(%s, %s)", (line, identifier)).fetchone() == (names,)


def test_an_erasure_leaves_a_strangers_quarantined_line_that_contains_the_subjects_email(
    fresh_warehouse_dsn: str, s3_bucket: str
) -> None:
    """The subject's broken line is erased; a stranger's lines whose e-mails merely contain the
    subject's (jo-zoe1@…, zoe1@….au) are neither exported nor erased."""
    lines = {
        1: "1,\"Zoë1,O'Brien,zoe1@example.org,+49 30 555 0101",
        2: '8,"Jo,Doe,jo-zoe1@example.org,+49 30 555 0808',
        3: '9,"Al,Roe,zoe1@example.org.au,+49 30 555 0909',
    }
    with psycopg.connect(fresh_warehouse_dsn) as conn, conn.cursor() as cur:
        _land_customer_1(cur)
        cur.executemany(
            "INSERT INTO explore.quarantine (source_name, entity_name, batch_id, interval_start, line_number,"
            " raw_record, reason) VALUES ('crm', 'customers', gen_random_uuid(), %s, %s, %s, 'unparsable')",
            [(MONTH, n, text) for n, text in lines.items()],
        )
    _erase("DSR-LINES", {"email": "zoe1@example.org"}, s3_bucket)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        left = dict(conn.execute("SELECT line_number, raw_record FROM explore.quarantine").fetchall())
    assert left == {1: ERASED_TEXT, 2: lines[2], 3: lines[3]}
