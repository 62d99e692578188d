"""atlas_data_subject_request run for real (dag.test()) on a warehouse the sample pipeline filled.

One module-scoped warehouse: ``crm`` for three days (the subject changes on the second, so
dim_customer holds two versions; the third day's file adds a row of the subject that chart
quarantines and a broken line naming the subject's e-mail that explore quarantines) and ``shop``
for the first (the subject's orders in fact_orders). Then, in order: an access request, an
erasure by e-mail, the same erasure again, and the next crm day.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from atlas.batch_writer import payload_checksum
from atlas.constants import SOURCES_DIR
from atlas.dsr.targets import ERASED_TEXT
from atlas_dev.sample import generate
from atlas_dev.sample.crm import COLUMNS
from tests.fixtures.postgres import PgServer, new_database_name
from tests.fixtures.roles import login_as
from tests.fixtures.warehouse import WAREHOUSE_CONN_ENV, WarehouseTemplate, clone_warehouse

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.airflow,
    pytest.mark.dbt,
    pytest.mark.s3,
    pytest.mark.slow(seconds=100),
]

REPO = Path(__file__).resolve().parents[2]
DAYS = [dt.date(2025, 12, 30) + dt.timedelta(days=i) for i in range(4)]
PERSONAL = ("first_name", "last_name", "email", "phone", "street", "postal_code", "birth_date")
FACT_COUNTS = {
    "fact_orders": "SELECT count(*), count(*) FILTER (WHERE customer_id = %(id)s) FROM navigate.fact_orders",
    "fact_order_lines": "SELECT count(*), 0 FROM navigate.fact_order_lines",
    "dim_customer": "SELECT count(*), count(*) FILTER (WHERE customer_id = %(id)s) FROM navigate.dim_customer",
    "customers": "SELECT count(*), count(*) FILTER (WHERE customer_id = %(id)s) FROM chart.crm__customers",
    "raw": "SELECT count(*), count(*) FILTER (WHERE record_key = %(id)s::text) FROM explore.raw_data",
    "chart_quarantine": "SELECT count(*), 0 FROM chart.quarantine",
    "explore_quarantine": "SELECT count(*), 0 FROM explore.quarantine",
    "batches": "SELECT sum(rows_landed), sum(rows_promoted) + sum(rows_rejected) FROM pipeline.batches",
}


def _run_source(dag_id: str, day: dt.date) -> str:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"), safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    logical = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return str(bag.get_dag(dag_id).test(logical_date=logical).state)


def _dsr_dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "atlas_data_subject_requests.py"), bundle_name="dags-folder")
    assert bag.import_errors == {}
    return bag.dags["atlas_data_subject_request"]


def _request(conf: dict[str, Any]) -> str:
    return str(_dsr_dag().test(run_conf=conf).state)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", errors="replace", newline="") as f:
        return [row for row in csv.DictReader(f) if (row.get("customer_id") or "").isdigit()]


def _choose_subject(files: list[Path], shop_dsn: str) -> dict[str, Any]:
    """The customer with the most day-1 orders among those no later file touches."""
    first = {r["customer_id"]: r for r in _read_csv(files[0])}
    later = {r["customer_id"] for f in files[1:] for r in _read_csv(f)}
    candidates = sorted(int(c) for c in set(first) - later)
    with psycopg.connect(shop_dsn) as conn:
        row = conn.execute(
            "SELECT customer_id FROM shop.orders WHERE customer_id = ANY(%s) AND updated_at < %s"
            " GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 1",
            (candidates, DAYS[1]),
        ).fetchone()
    assert row is not None, "no customer has orders on day 1"
    subject = first[str(row[0])]
    return {**subject, "latest": {**subject, "street": "Erasure Lane 9", "phone": "+49 30 5550199",
                                  "updated_at": f"{DAYS[1]}T09:00:00"}}  # fmt: skip


def _append_hostile_lines(files: list[Path], subject: dict[str, Any]) -> None:
    """Day 2: the subject moves (a second version). Day 3: a row of the subject that chart
    quarantines (bad e-mail) and a broken line naming its e-mail that explore quarantines."""
    s = subject["latest"]
    moved = [s[c] for c in COLUMNS]
    bad = [*moved[:3], "no-at-sign", *moved[4:10], f"{DAYS[2]}T10:00:00"]
    broken = f'{s["customer_id"]},"{s["first_name"]},{s["last_name"]},{s["email"]},{s["phone"]}\n'
    with files[1].open("a", encoding="utf-8") as f:
        f.write(",".join(moved) + "\n")
    with files[2].open("a", encoding="utf-8") as f:
        f.write(",".join(bad) + "\n" + broken)


def _counts(dsn: str, customer_id: int) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        return {name: conn.execute(q, {"id": customer_id}).fetchone() for name, q in FACT_COUNTS.items()}


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname IN ('explore', 'chart', 'navigate') AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " ORDER BY 1"
        )
    ]


def _traces(dsn: str, values: list[str]) -> dict[str, int]:
    """Rows of every explore, chart and navigate table whose text holds any of ``values`` (case-blind),
    or whose bytes do (a bytea column, such as a quarantined line's raw_bytes, shows as hex)."""
    found = {}
    with psycopg.connect(dsn) as conn:
        for table in _tables(conn):
            n = conn.execute(
                f"SELECT count(*) FROM {table} AS t WHERE EXISTS"  # names from the catalog
                " (SELECT 1 FROM unnest(%s::text[]) v WHERE strpos(lower(t::text), lower(v)) > 0"
                "  OR strpos(t::text, encode(convert_to(v, 'UTF8'), 'hex')) > 0)",
                (values,),
            ).fetchone()[0]
            if n:
                found[table] = n
    return found


@pytest.fixture(scope="module")
def warehouse(
    pg_server: PgServer,
    warehouse_template: WarehouseTemplate,
    airflow_db: Path,
    moto_server: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """crm for three days and shop for one, with the subject's hostile lines; the subject chosen."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    monkeypatch = pytest.MonkeyPatch()
    name, dsn = clone_warehouse(pg_server, warehouse_template)
    shop_name = new_database_name("atlas_shop")
    shop = pg_server.create_database(shop_name)
    sources = tmp_path_factory.mktemp("sources")
    crm_dir = tmp_path_factory.mktemp("crm")
    bucket = f"atlas-dsr-{new_database_name('t')[-12:].replace('_', '-')}"
    try:
        files = generate("crm", crm_dir, DAYS[0], DAYS[-1] + dt.timedelta(days=1))
        generate("shop", shop, DAYS[0], DAYS[1])
        subject = _choose_subject(files, shop)
        _append_hostile_lines(files, subject)
        for source in ("crm", "shop", "support"):
            text = (SOURCES_DIR / f"{source}.yaml").read_text()
            text = re.sub(r"location: .*", f"location: {crm_dir}", text) if source == "crm" else text
            (sources / f"{source}.yaml").write_text(text)
        retention = sources.parent / "retention.yaml"
        retention.write_text(yaml.safe_dump({"retention": {"bucket": bucket}}))
        monkeypatch.setenv("ATLAS_RETENTION_FILE", str(retention))
        monkeypatch.setenv("ATLAS_SOURCES_DIR", str(sources))
        monkeypatch.setenv(WAREHOUSE_CONN_ENV, pg_server.airflow_uri(name))
        monkeypatch.setenv("AIRFLOW_CONN_SHOP_SOURCE", pg_server.airflow_uri(shop_name))
        states = [_run_source("atlas_crm", day) for day in DAYS[:3]] + [_run_source("atlas_shop", DAYS[0])]
        assert set(states) == {"success"}, states
        yield {"dsn": dsn, "subject": subject, "id": int(subject["customer_id"]), "bucket": bucket,
               "s3": S3Hook(aws_conn_id="atlas_s3"), "pg_server": pg_server}  # fmt: skip
    finally:
        monkeypatch.undo()
        pg_server.drop_database(name)
        pg_server.drop_database(shop_name)


@pytest.fixture(scope="module")
def access(warehouse: dict[str, Any]) -> dict[str, Any]:
    """The access request carried out; its export read back from S3."""
    conf = {"request_id": "DSR-T-ACCESS", "type": "access", "subject": {"customer_id": warehouse["id"]},
            "requested_by": "dpo@example.com"}  # fmt: skip
    assert _request(conf) == "success"
    with psycopg.connect(warehouse["dsn"]) as conn:
        row = conn.execute(
            "SELECT status, result_location, due_at - received_at FROM compliance.data_subject_requests"
            " WHERE external_reference = 'DSR-T-ACCESS'"
        ).fetchone()
    assert row is not None
    status, location, due = row
    bucket, key = location.removeprefix("s3://").split("/", 1)
    document = json.loads(warehouse["s3"].read_key(key=key, bucket_name=bucket))
    return {"status": status, "location": location, "due": due, "document": document}


def _exported(document: dict[str, Any], table: str) -> list[dict[str, Any]]:
    return [row for section in document["records"] if section["table"] == table for row in section["rows"]]


def test_access_export_holds_every_record_of_the_subject_in_every_layer(
    warehouse: dict[str, Any], access: dict[str, Any]
) -> None:
    """The export holds exactly the subject's rows of raw, both quarantines, chart, history, current state, facts,
    and the order lines of the subject's orders (reached through the orders) in every layer."""
    assert access["status"] == "completed"
    assert access["due"] == dt.timedelta(days=30)
    assert access["location"] == f"s3://{warehouse['bucket']}/" + access["location"].split("/", 3)[3]
    doc, cid, email = access["document"], warehouse["id"], warehouse["subject"]["email"]
    expected = {
        "explore.raw_data": f"SELECT count(*) FROM explore.raw_data WHERE payload->>'customer_id' = '{cid}'",
        "explore.quarantine": f"SELECT count(*) FROM explore.quarantine WHERE raw_record LIKE '%{email}%'",
        "chart.crm__customers": f"SELECT count(*) FROM chart.crm__customers WHERE customer_id = {cid}",
        "chart.shop__orders": f"SELECT count(*) FROM chart.shop__orders WHERE customer_id = {cid}",
        "chart.quarantine": f"SELECT count(*) FROM chart.quarantine WHERE payload->>'customer_id' = '{cid}'"
        " OR (entity_name = 'order_lines' AND payload->>'order_id' IN"
        f" (SELECT order_id::text FROM chart.shop__orders WHERE customer_id = {cid}))",
        "navigate.dim_customer": f"SELECT count(*) FROM navigate.dim_customer WHERE customer_id = {cid}",
        "navigate.crm__customers": f"SELECT count(*) FROM navigate.crm__customers WHERE customer_id = {cid}",
        "navigate.fact_orders": f"SELECT count(*) FROM navigate.fact_orders WHERE customer_id = {cid}",
        # the order lines of the subject's orders (no customer_id of their own: through the orders)
        "chart.shop__order_lines": "SELECT count(*) FROM chart.shop__order_lines WHERE order_id IN"
        f" (SELECT order_id FROM chart.shop__orders WHERE customer_id = {cid})",
        "navigate.shop__order_lines": "SELECT count(*) FROM navigate.shop__order_lines WHERE order_id IN"
        f" (SELECT order_id FROM chart.shop__orders WHERE customer_id = {cid})",
        "navigate.fact_order_lines": "SELECT count(*) FROM navigate.fact_order_lines WHERE order_id IN"
        f" (SELECT order_id FROM chart.shop__orders WHERE customer_id = {cid})",
    }
    with psycopg.connect(warehouse["dsn"]) as conn:
        counts = {table: conn.execute(query).fetchone()[0] for table, query in expected.items()}  # type: ignore[index]
    assert counts["explore.raw_data"] >= 3  # two versions of the customer and the orders
    assert counts["navigate.dim_customer"] == 2
    assert min(counts[t] for t in ("explore.quarantine", "chart.quarantine", "navigate.fact_orders")) >= 1
    assert min(counts[t] for t in ("chart.shop__order_lines", "navigate.fact_order_lines")) >= 1
    assert {table: len(_exported(doc, table)) for table in expected if table != "explore.raw_data"} == {
        t: n for t, n in counts.items() if t != "explore.raw_data"
    }
    orders = {r["order_id"] for r in _exported(doc, "navigate.fact_orders")}
    assert {r["order_id"] for r in _exported(doc, "navigate.fact_order_lines")} <= orders
    lines = [s for s in doc["records"] if s["table"] == "navigate.fact_order_lines"]
    assert [s.get("via") for s in lines] == ["shop.order_lines.order_id -> orders"]
    raw = [s for s in doc["records"] if s["table"] == "explore.raw_data"]
    assert sum(len(s["rows"]) for s in raw if s["entity"] != "order_lines") == counts["explore.raw_data"]
    raw_lines = [
        int(r["payload"]["order_id"]) for s in raw if s["entity"] == "order_lines" for r in s["rows"]
    ]
    assert len(raw_lines) >= counts["chart.shop__order_lines"]  # the lines' raw payloads too
    assert set(raw_lines) <= orders
    assert {r["email"] for r in _exported(doc, "chart.crm__customers")} == {
        warehouse["subject"]["latest"]["email"]
    }
    with psycopg.connect(warehouse["dsn"]) as conn:
        audited = conn.execute(
            "SELECT sum(rows_affected) FROM compliance.audit_log a JOIN compliance.data_subject_requests r"
            " USING (request_id) WHERE r.external_reference = 'DSR-T-ACCESS' AND a.action = 'dsr.access'"
        ).fetchone()
    assert audited == (sum(len(s["rows"]) for s in doc["records"]),)


@pytest.fixture(scope="module")
def erasure(warehouse: dict[str, Any], access: dict[str, Any]) -> dict[str, Any]:
    """The erasure by e-mail (upper-cased: identifiers compare without case), then the same request again."""
    dsn, cid = warehouse["dsn"], warehouse["id"]
    before = _counts(dsn, cid)
    conf = {"request_id": "DSR-T-ERASE", "type": "erasure", "requested_by": "dpo@example.com",
            "subject": {"email": warehouse["subject"]["latest"]["email"].upper()}}  # fmt: skip
    first = _request(conf)
    after = _counts(dsn, cid)
    with psycopg.connect(dsn) as conn:
        tombstones = conn.execute("SELECT count(*) FROM compliance.erasure_tombstones").fetchone()
    second = _request(conf)
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT status, result, error FROM compliance.data_subject_requests WHERE external_reference = 'DSR-T-ERASE'"
        ).fetchone()
        tombstones_again = conn.execute("SELECT count(*) FROM compliance.erasure_tombstones").fetchone()
    return {"states": (first, second), "before": before, "after": after, "again": _counts(dsn, cid),
            "row": row, "tombstones": (tombstones, tombstones_again)}  # fmt: skip


def test_erasure_leaves_no_personal_data_of_the_subject_in_any_layer(
    warehouse: dict[str, Any], erasure: dict[str, Any]
) -> None:
    """No table of explore, chart or navigate (quarantines, history included) holds the subject's e-mail, phone or name."""
    assert erasure["states"] == ("success", "success")
    s, latest = warehouse["subject"], warehouse["subject"]["latest"]
    values = sorted({s["email"], latest["email"], s["phone"], latest["phone"], f"{s['first_name']},{s['last_name']}",
                     f'"first_name":"{s["first_name"]}","last_name":"{s["last_name"]}"'} - {""})  # fmt: skip
    assert _traces(warehouse["dsn"], values) == {}
    with psycopg.connect(warehouse["dsn"]) as conn:
        rows = conn.execute(
            "SELECT first_name, email, phone, street, postal_code, birth_date, change_hash FROM navigate.dim_customer"
            " WHERE customer_id = %s",
            (warehouse["id"],),
        ).fetchall()
        chart = conn.execute(
            "SELECT first_name, last_name, email, birth_date, country FROM chart.crm__customers WHERE customer_id = %s",
            (warehouse["id"],),
        ).fetchone()
    assert [r[:6] for r in rows] == [(None,) * 6] * 2
    assert len({r[6] for r in rows}) == 1  # the versions' hashes are the erased row's
    assert chart == (ERASED_TEXT, ERASED_TEXT, ERASED_TEXT, None, latest["country"])


def test_erasure_keeps_counts_and_recomputes_checksums(
    warehouse: dict[str, Any], erasure: dict[str, Any]
) -> None:
    """Every count (facts, history, raw, quarantines, batches) is unchanged; raw and batch checksums match the payloads."""
    assert erasure["after"] == erasure["before"]
    with psycopg.connect(warehouse["dsn"]) as conn:
        payloads = conn.execute(
            "SELECT payload, payload_checksum FROM explore.raw_data WHERE payload->>'customer_id' = %s",
            (str(warehouse["id"]),),
        ).fetchall()
        batches = conn.execute(
            "SELECT b.checksum, array_agg(r.payload_checksum) FROM pipeline.batches b"
            " JOIN explore.raw_data r USING (batch_id) WHERE b.batch_id IN"
            " (SELECT batch_id FROM explore.raw_data WHERE payload->>'customer_id' = %s)"
            " GROUP BY b.batch_id, b.checksum",
            (str(warehouse["id"]),),
        ).fetchall()
        audited = conn.execute(
            "SELECT action, sum(rows_affected) FROM compliance.audit_log WHERE action LIKE 'dsr.%%'"
            " AND request_id IS NOT NULL GROUP BY action ORDER BY action"
        ).fetchall()
    assert payloads
    assert all(payload_checksum(p) == c for p, c in payloads)
    assert any(p.get("email") == ERASED_TEXT for p, _ in payloads)
    assert batches
    assert all(c == f"{sum(int(d, 16) for d in ds) % (1 << 128):032x}" for c, ds in batches)
    assert {a for a, _ in audited} == {"dsr.access", "dsr.checksums", "dsr.erasure"}


def test_a_rerun_of_the_erasure_is_harmless(erasure: dict[str, Any]) -> None:
    """The same request again completes, changes no row and writes no tombstone."""
    status, result, error = erasure["row"]
    assert (status, error) == ("completed", None)
    assert not any(result["erased_rows"].values())
    assert sum(result["earlier_run"]["erased_rows"].values()) > 0  # the first run's counts are kept
    assert result["tombstones"] == 0
    assert erasure["tombstones"][0] == erasure["tombstones"][1] != (0,)
    assert erasure["again"] == erasure["after"]


def test_the_next_pipeline_run_does_not_resurrect_the_subject(
    warehouse: dict[str, Any], erasure: dict[str, Any]
) -> None:
    """The next crm day adds no version of the erased subject and shows nothing of it."""
    assert _run_source("atlas_crm", DAYS[3]) == "success"
    s = warehouse["subject"]
    assert (
        _traces(warehouse["dsn"], sorted({s["email"], s["latest"]["email"], s["latest"]["phone"]} - {""}))
        == {}
    )
    with psycopg.connect(warehouse["dsn"]) as conn:
        versions = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE first_name IS NULL) FROM navigate.dim_customer WHERE customer_id = %s",
            (warehouse["id"],),
        ).fetchone()
    assert versions == (2, 2)


def test_a_backfill_of_the_subjects_days_lands_them_erased(
    warehouse: dict[str, Any], erasure: dict[str, Any]
) -> None:
    """Re-running the crm days that landed the subject (the source still holds them) lands them
    erased: no layer holds their e-mail, name or phone again, no SCD2 version is added, counts stay."""
    dsn, cid, s, latest = (
        warehouse["dsn"],
        warehouse["id"],
        warehouse["subject"],
        warehouse["subject"]["latest"],
    )
    before = _counts(dsn, cid)
    assert [_run_source("atlas_crm", day) for day in DAYS[:2]] == ["success", "success"]
    values = sorted({s["email"], latest["email"], s["phone"], latest["phone"], f"{s['first_name']},{s['last_name']}",
                     f'"first_name":"{s["first_name"]}","last_name":"{s["last_name"]}"'} - {""})  # fmt: skip
    assert _traces(dsn, values) == {}
    after = _counts(dsn, cid)
    assert after == before
    assert after["batches"][0] == after["batches"][1]  # landed = promoted + rejected
    with psycopg.connect(dsn) as conn:
        versions = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE first_name IS NULL AND email IS NULL) FROM navigate.dim_customer"
            " WHERE customer_id = %s",
            (cid,),
        ).fetchone()
        chart = conn.execute(
            "SELECT first_name, email, phone FROM chart.crm__customers WHERE customer_id = %s", (cid,)
        ).fetchone()
        erased = conn.execute(
            "SELECT (a.details->>'rows_erased')::int, b.notes FROM pipeline.batches b, LATERAL"
            " (SELECT details FROM compliance.audit_log WHERE action = 'ingest.batch'"
            "  AND details->>'batch_id' = b.batch_id::text ORDER BY audit_id DESC LIMIT 1) a"
            " WHERE b.source_name = 'crm' AND b.entity_name = 'customers' ORDER BY b.interval_start"
        ).fetchall()
    assert versions == (2, 2)
    assert chart == (ERASED_TEXT, ERASED_TEXT, ERASED_TEXT)
    assert [n for n, _ in erased[:2]] == [1, 1]  # the two days re-run: one record of the subject each
    assert all(
        any("1 record(s) of erased data subjects landed erased" in note for note in notes)
        for _, notes in erased[:2]
    )
    assert not any(n for n, _ in erased[2:])  # later days: landed before the erasure, or without the subject


def test_a_request_id_reused_for_another_request_is_refused(
    warehouse: dict[str, Any], erasure: dict[str, Any]
) -> None:
    """The same request_id with another type fails the run and records why; the first request's row keeps its result."""
    conf = {"request_id": "DSR-T-ERASE", "type": "access", "subject": {"customer_id": 1}, "requested_by": "x"}
    assert _request(conf) == "failed"
    with psycopg.connect(warehouse["dsn"]) as conn:
        row = conn.execute(
            "SELECT request_type, status, error FROM compliance.data_subject_requests WHERE external_reference = 'DSR-T-ERASE'"
        ).fetchone()
    assert row == ("erasure", "completed", None)


def test_malformed_conf_is_refused_at_trigger_with_its_reason() -> None:
    """The DAG's Params, as the API server validates a trigger, refuse a bad conf naming the problem."""
    from airflow.exceptions import ParamValidationError
    from airflow.serialization.serialized_objects import DagSerialization

    serialized = DagSerialization.from_dict(DagSerialization.to_dict(_dsr_dag()))
    good = {"request_id": "DSR-1", "type": "access", "subject": {"email": "a@b.example"}, "requested_by": "x"}
    assert serialized.params.deep_merge(good).validate()["subject"] == {"email": "a@b.example"}
    for bad, reason in [
        ({**good, "type": "delete"}, "'delete' is not one of"),
        ({**good, "subject": {"name": "Anna"}}, "'name' was unexpected"),
        ({**good, "subject": {}}, "should be non-empty"),
        ({k: v for k, v in good.items() if k != "request_id"}, "request_id"),
    ]:
        with pytest.raises(ParamValidationError, match=reason):
            serialized.params.deep_merge(bad).validate()


def test_audit_rows_cannot_be_changed_by_the_write_role(
    warehouse: dict[str, Any], erasure: dict[str, Any]
) -> None:
    """As an atlas_write login, the request's audit entries and tombstones can be read but not updated or deleted."""
    with (
        login_as(warehouse["pg_server"], warehouse["dsn"], "atlas_write") as dsn,
        psycopg.connect(dsn) as conn,
    ):
        assert (
            conn.execute("SELECT count(*) FROM compliance.audit_log WHERE action LIKE 'dsr.%'").fetchone()[0]
            > 0
        )  # type: ignore[index]
        conn.rollback()
        for statement in (
            "UPDATE compliance.audit_log SET rows_affected = 0 WHERE action = 'dsr.erasure'",
            "DELETE FROM compliance.audit_log WHERE action = 'dsr.erasure'",
            "UPDATE compliance.erasure_tombstones SET table_name = 'x.y'",
            "DELETE FROM compliance.erasure_tombstones",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
