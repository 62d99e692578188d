"""The generated source DAGs run end to end with dag.test() on the sample sources.

One module-scoped warehouse receives two daily intervals of ``crm`` (CSV files) and ``shop``
(PostgreSQL, incremental), each DAG built by ``dags/atlas_sources.py`` from its YAML and run for
real: partitions → land in explore → promote to chart → dbt (Cosmos) to navigate → publish.
Then the second day is run again and must change nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from atlas.constants import SOURCES_DIR
from atlas_dev.sample import generate
from atlas_dev.sample.crm import MOVING_CUSTOMER_ID
from tests.fixtures.postgres import PgServer, new_database_name
from tests.fixtures.roles import login_as
from tests.fixtures.warehouse import WAREHOUSE_CONN_ENV, WarehouseTemplate, clone_warehouse

pytestmark = [pytest.mark.postgres, pytest.mark.airflow, pytest.mark.dbt, pytest.mark.slow(seconds=80)]

DAY_1, DAY_2 = dt.date(2025, 12, 31), dt.date(2026, 1, 1)
SOURCES = ("crm", "shop")


def _run(dag_id: str, day: dt.date) -> str:
    """dag.test() of the generated DAG for the daily interval starting at ``day``."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(Path(__file__).parents[2] / "dags"), safe_mode=False)
    assert not bag.import_errors, bag.import_errors
    dag = bag.get_dag(dag_id)
    # A data-interval timetable runs, for a manual run at X, the interval ending at X.
    run = dag.test(logical_date=dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC))
    return str(run.state)


def _fingerprint(dsn: str) -> dict[str, Any]:
    """Row counts and content digests of every layer, to compare two warehouse states."""
    queries = {
        "raw": "SELECT count(*), md5(string_agg(payload_checksum, ',' ORDER BY source_name, entity_name, record_key, payload_checksum)) FROM explore.raw_data",
        "raw_quarantine": "SELECT count(*) FROM explore.quarantine",
        "batches": "SELECT count(*), sum(rows_read), sum(rows_landed), sum(rows_promoted), sum(rows_rejected) FROM pipeline.batches",
        "customers": "SELECT count(*), md5(string_agg(_payload_checksum, ',' ORDER BY customer_id)) FROM chart.crm__customers",
        "orders": "SELECT count(*), md5(string_agg(_payload_checksum, ',' ORDER BY order_id)) FROM chart.shop__orders",
        "order_lines": "SELECT count(*) FROM chart.shop__order_lines",
        "chart_quarantine": "SELECT count(*) FROM chart.quarantine",
        "dim_customer": "SELECT count(*), count(*) FILTER (WHERE is_current) FROM navigate.dim_customer",
        "dim_product": "SELECT count(*), count(*) FILTER (WHERE is_current) FROM navigate.dim_product",
        "fact_orders": "SELECT count(*), count(DISTINCT order_id) FROM navigate.fact_orders",
        "fact_order_lines": "SELECT count(*) FROM navigate.fact_order_lines",
    }
    with psycopg.connect(dsn) as conn:
        return {name: conn.execute(query).fetchone() for name, query in queries.items()}


@pytest.fixture(scope="module")
def pipeline(
    pg_server: PgServer,
    warehouse_template: WarehouseTemplate,
    airflow_db: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """Run crm and shop for two days, then the second day again; yield states and fingerprints."""
    monkeypatch = pytest.MonkeyPatch()
    warehouse_name, warehouse = clone_warehouse(pg_server, warehouse_template)
    shop_name = new_database_name("atlas_shop")
    shop = pg_server.create_database(shop_name)
    sources = tmp_path_factory.mktemp("sources")
    crm_dir = tmp_path_factory.mktemp("crm")
    try:
        generate("crm", crm_dir, DAY_1, DAY_2 + dt.timedelta(days=1))
        generate("shop", shop, DAY_1, DAY_2 + dt.timedelta(days=1))
        for name in SOURCES:  # the sample YAMLs, with crm reading the generated files
            text = (SOURCES_DIR / f"{name}.yaml").read_text()
            text = re.sub(r"location: .*", f"location: {crm_dir}", text) if name == "crm" else text
            (sources / f"{name}.yaml").write_text(text)
        monkeypatch.setenv("ATLAS_SOURCES_DIR", str(sources))
        monkeypatch.setenv("ATLAS_STRICT_SOURCES", "1")
        monkeypatch.setenv(WAREHOUSE_CONN_ENV, pg_server.airflow_uri(warehouse_name))
        monkeypatch.setenv("AIRFLOW_CONN_SHOP_SOURCE", pg_server.airflow_uri(shop_name))
        states = {(name, day): _run(f"atlas_{name}", day) for day in (DAY_1, DAY_2) for name in SOURCES}
        first = _fingerprint(warehouse)
        reruns = {name: _run(f"atlas_{name}", DAY_2) for name in SOURCES}
        yield {
            "dsn": warehouse,
            "states": states,
            "reruns": reruns,
            "first": first,
            "second": _fingerprint(warehouse),
        }
    finally:
        monkeypatch.undo()
        pg_server.drop_database(warehouse_name)
        pg_server.drop_database(shop_name)


def test_every_generated_dag_run_succeeds(pipeline: dict[str, Any]) -> None:
    """Each source DAG succeeds for both days and for the re-run of the second day."""
    assert set(pipeline["states"].values()) == {"success"}, pipeline["states"]
    assert set(pipeline["reruns"].values()) == {"success"}, pipeline["reruns"]


def test_counts_reconcile_for_every_batch(pipeline: dict[str, Any]) -> None:
    """read = landed + quarantined and landed = promoted + rejected, batch by batch, and the rows exist."""
    with psycopg.connect(pipeline["dsn"]) as conn:
        rows = conn.execute(
            """
            SELECT b.source_name, b.entity_name, b.rows_read, b.rows_landed, b.rows_quarantined,
                   b.rows_promoted, b.rows_rejected,
                   (SELECT count(*) FROM explore.raw_data r WHERE r.batch_id = b.batch_id),
                   (SELECT count(*) FROM explore.quarantine q WHERE q.batch_id = b.batch_id)
            FROM pipeline.batches b WHERE b.rows_read > 0
            """
        ).fetchall()
    assert {(r[0], r[1]) for r in rows} == {
        ("crm", "customers"),
        ("shop", "products"),
        ("shop", "orders"),
        ("shop", "order_lines"),
    }
    for source, entity, read, landed, quarantined, promoted, rejected, raw_rows, raw_rejects in rows:
        assert read == landed + quarantined, (source, entity)
        assert landed == promoted + rejected, (source, entity)
        assert (raw_rows, raw_rejects) == (landed, quarantined), (source, entity)


def test_rerunning_an_interval_changes_nothing(pipeline: dict[str, Any]) -> None:
    """The second run of day 2 leaves every layer exactly as the first left it."""
    assert pipeline["second"] == pipeline["first"]


def test_bad_input_is_quarantined_with_its_reason(pipeline: dict[str, Any]) -> None:
    """The sample's broken CSV lines and invalid rows end in quarantine, each with its reason."""
    with psycopg.connect(pipeline["dsn"]) as conn:
        ingest = {
            r[0] for r in conn.execute("SELECT reason FROM explore.quarantine WHERE source_name = 'crm'")
        }
        rules = {
            r[0]
            for r in conn.execute(
                "SELECT unnest(failed_rules) FROM chart.quarantine WHERE source_name = 'crm'"
            )
        }
    assert any(reason.startswith("row has 12 fields") for reason in ingest)
    assert any("quote" in reason for reason in ingest)
    assert any("cannot decode" in reason for reason in ingest)
    assert {"pattern:email", "allowed_values:country", "range:birth_date", "required:last_name"} <= rules


def test_moved_customer_has_two_versions_in_the_dimension(pipeline: dict[str, Any]) -> None:
    """The customer who moved on day 2 has a closed version and a current one, in time order."""
    with psycopg.connect(pipeline["dsn"]) as conn:
        versions = conn.execute(
            "SELECT valid_from, valid_to, is_current, change_hash FROM navigate.dim_customer WHERE customer_id = %s ORDER BY valid_from",
            (MOVING_CUSTOMER_ID,),
        ).fetchall()
    assert len(versions) == 2
    (old_from, old_to, old_current, old_hash), (new_from, new_to, new_current, new_hash) = versions
    assert (old_current, new_current) == (False, True)
    assert old_to == new_from
    assert new_to is None
    assert old_from < new_from
    assert old_hash != new_hash


def test_navigate_matches_chart(pipeline: dict[str, Any]) -> None:
    """Every chart customer, order and order line reaches navigate once, late-recovered lines too."""
    first = pipeline["first"]
    assert first["dim_customer"][1] == first["customers"][0]
    assert first["fact_orders"] == (first["orders"][0], first["orders"][0])
    assert first["fact_order_lines"] == first["order_lines"]


def test_lines_whose_order_arrived_later_are_recovered(pipeline: dict[str, Any]) -> None:
    """Day-1 lines quarantined for a missing order are promoted once the order lands on day 2."""
    with psycopg.connect(pipeline["dsn"]) as conn:
        reference_only = conn.execute(
            "SELECT count(*) FROM chart.quarantine WHERE source_name = 'shop' AND failed_rules <@ ARRAY['reference:orders(order_id)']"
        ).fetchone()[0]
    assert reference_only == 0
    assert pipeline["first"]["order_lines"][0] > 0


def test_facts_of_two_years_land_in_two_partitions(pipeline: dict[str, Any]) -> None:
    """Orders of 2025-12-31 and 2026-01-01 sit in the 2025 and 2026 partitions of fact_orders."""
    with psycopg.connect(pipeline["dsn"]) as conn:
        partitions = dict(
            conn.execute(
                "SELECT tableoid::regclass::text, count(*) FROM navigate.fact_orders GROUP BY 1"
            ).fetchall()
        )
    assert set(partitions) == {"navigate.fact_orders_p2025", "navigate.fact_orders_p2026"}
    assert all(count > 0 for count in partitions.values())


@pytest.mark.parametrize(
    ("relation", "readable"),
    [
        pytest.param("navigate.dim_customer", True, id="navigate-dimension"),
        pytest.param("navigate.fact_orders", True, id="navigate-fact"),
        pytest.param("chart.crm__customers", False, id="chart"),
        pytest.param("explore.raw_data", False, id="explore"),
        pytest.param("compliance.audit_log", False, id="audit-log"),
        pytest.param("compliance.pii_detections", False, id="pii-detections"),
    ],
)
def test_analyst_role_reads_navigate_only(
    pipeline: dict[str, Any], pg_server: PgServer, relation: str, readable: bool
) -> None:
    """A login in atlas_read reads the tables dbt built in navigate and nothing upstream of it."""
    with login_as(pg_server, pipeline["dsn"], "atlas_read") as analyst, psycopg.connect(analyst) as conn:
        if readable:
            assert conn.execute(f"SELECT count(*) FROM {relation}").fetchone()[0] > 0
        else:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT count(*) FROM {relation}")


def test_the_data_dictionary_lists_every_column_of_navigate(pipeline: dict[str, Any]) -> None:
    """Every column of every table the runs built in navigate (facts, snapshots, current states of
    crm and shop) is in navigate.data_dictionary with a classification and what the analyst sees."""
    with psycopg.connect(pipeline["dsn"]) as conn:
        columns = set(
            conn.execute(
                "SELECT c.relname::text, a.attname::text FROM pg_class AS c "
                "JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                "WHERE c.relnamespace = 'navigate'::regnamespace AND c.relkind IN ('r', 'p') "
                "AND NOT c.relispartition"
            ).fetchall()
        )
        listed = conn.execute(
            "SELECT table_name, column_name, classification, masking FROM navigate.data_dictionary"
        ).fetchall()
    tables = {table for table, _ in columns}
    assert {"dim_customer", "dim_product", "fact_orders", "fact_order_lines", "shop__orders"} <= tables
    assert columns - {(table, column) for table, column, _, _ in listed} == set()
    assert [row for row in listed if not (row[2] and row[3])] == []


def _lineage(openlineage_log: Path, run_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """COMPLETE events of the pipeline's DAG runs by job name (``<dag>.<task>``)."""
    import json

    events: dict[str, list[dict[str, Any]]] = {}
    for line in openlineage_log.read_text().splitlines():
        event = json.loads(line)
        dag_run = event.get("run", {}).get("facets", {}).get("airflow", {}).get("dagRun", {})
        if event.get("eventType") == "COMPLETE" and dag_run.get("run_id") in run_ids:
            events.setdefault(event["job"]["name"], []).append(event)
    return events


def test_lineage_names_each_layer_with_schema_and_row_counts(
    pipeline: dict[str, Any], openlineage_log: Path
) -> None:
    """source → explore.raw_data (+ quarantine) → chart.<table> (+ quarantine) → navigate (dbt), in one namespace."""
    with psycopg.connect(pipeline["dsn"]) as conn:
        run_ids = {row[0] for row in conn.execute("SELECT DISTINCT run_id FROM pipeline.batches")}
        landed = {
            row[0]
            for row in conn.execute(
                "SELECT rows_landed FROM pipeline.batches WHERE entity_name = 'customers'"
            )
        }
        promoted = {
            row[0]
            for row in conn.execute(
                "SELECT rows_promoted FROM pipeline.batches WHERE entity_name = 'customers'"
            )
        }
        database = conn.info.dbname
    events = _lineage(openlineage_log, run_ids)
    land = [e for e in events.get("atlas_crm.land_customers", []) if e.get("outputs")]
    promote = [e for e in events.get("atlas_crm.promote_customers", []) if e.get("outputs")]
    shop = [e for e in events.get("atlas_shop.land_orders", []) if e.get("outputs")]
    dbt = [e for e in events.get("atlas_crm.navigate.dbt_producer_watcher", []) if e.get("outputs")]
    for found in (land, promote, shop, dbt):
        assert found, sorted(events)

    (source,) = land[0]["inputs"]
    assert source["namespace"] == "file"
    assert source["name"].endswith("customers/{start:%Y/%m}/customers_{start:%Y%m%d}.csv")
    assert {f["name"] for f in source["facets"]["schema"]["fields"]} >= {"customer_id", "email"}
    outputs = {d["name"]: d for d in land[0]["outputs"]}
    assert set(outputs) == {f"{database}.explore.raw_data", f"{database}.explore.quarantine"}
    for event in land:
        rows = {d["name"]: d["outputFacets"]["outputStatistics"]["rowCount"] for d in event["outputs"]}
        assert rows[f"{database}.explore.raw_data"] in landed
    warehouse = outputs[f"{database}.explore.raw_data"]["namespace"]

    assert [(d["namespace"], d["name"]) for d in promote[0]["inputs"]] == [
        (warehouse, f"{database}.explore.raw_data")
    ]
    chart = {d["name"]: d for d in promote[0]["outputs"]}
    table = chart[f"{database}.chart.crm__customers"]
    assert table["namespace"] == warehouse
    assert {f["name"]: f["type"] for f in table["facets"]["schema"]["fields"]}["birth_date"] == "date"
    assert {e["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] for e in promote} <= promoted
    assert f"{database}.chart.quarantine" in chart

    (orders,) = shop[0]["inputs"]
    assert orders["namespace"].startswith("postgres://")
    assert orders["name"].endswith(".shop.orders")

    (publish, *_) = [e for e in events.get("atlas_crm.publish", []) if e.get("outputs")]
    assert [(d["namespace"], d["name"]) for d in publish["inputs"]] == [
        (warehouse, f"{database}.chart.crm__customers")
    ]
    assert {d["name"] for d in publish["outputs"]} == {
        f"{database}.navigate.crm__customers",
        f"{database}.navigate.dim_customer",
    }, "chart -> navigate, the edge Cosmos's events leave out (they name the ephemeral staging model)"

    navigate = {(d["namespace"], d["name"]) for e in dbt for d in e["outputs"]}
    assert (warehouse, f"{database}.navigate.dim_customer") in navigate, (
        "dbt's datasets share the warehouse namespace"
    )


def test_the_pii_scan_classifies_the_personal_columns_and_nothing_else(pipeline: dict[str, Any]) -> None:
    """Every batch's columns are classified between land and promote: the CRM's personal columns
    with their entities, none of the shop's ids, SKUs, prices or dates; re-runs replace a batch's
    detections; the inventory has each scanned chart column with its last scan."""
    with psycopg.connect(pipeline["dsn"]) as conn:
        found = conn.execute(
            "SELECT table_name, column_name, array_agg(DISTINCT presidio_entity ORDER BY presidio_entity), "
            "bool_and(declared) FROM compliance.pii_detections GROUP BY 1, 2"
        ).fetchall()
        duplicates = conn.execute(
            "SELECT count(*) - count(DISTINCT (batch_id, column_name, presidio_entity)) FROM compliance.pii_detections"
        ).fetchone()
        inventory = dict(
            conn.execute(
                "SELECT column_name, pii_entity FROM compliance.data_assets "
                "WHERE schema_name = 'chart' AND table_name = 'crm__customers' AND last_scanned_at IS NOT NULL"
            ).fetchall()
        )
    detected = {(table, column): (entities, declared) for table, column, entities, declared in found}
    assert detected[("crm__customers", "email")] == (["EMAIL_ADDRESS"], True)
    assert detected[("crm__customers", "phone")] == (["PHONE_NUMBER"], True)
    assert detected[("crm__customers", "first_name")] == (["PERSON"], True)
    assert detected[("crm__customers", "last_name")] == (["PERSON"], True)
    assert detected[("crm__customers", "birth_date")] == (["DATE_OF_BIRTH"], False)  # declared DATE_TIME
    assert not [key for key in detected if key[0].startswith("shop__")], detected
    assert duplicates == (0,)
    assert inventory["email"] == "EMAIL_ADDRESS"
    assert {"customer_id", "updated_at"}.isdisjoint(inventory)  # numbers and timestamps are not scanned


def test_every_batch_is_audited_with_its_counts(pipeline: dict[str, Any]) -> None:
    """Each landing, promotion and PII scan of a batch wrote an audit entry in its own transaction,
    with the rows it affected; re-runs append, never rewrite."""
    with psycopg.connect(pipeline["dsn"]) as conn:
        batches = conn.execute(
            "SELECT batch_id::text, rows_landed, rows_promoted FROM pipeline.batches WHERE source_name = ANY(%s)",
            [list(SOURCES)],
        ).fetchall()
        latest = {
            (action, batch): (rows, int(rejected or 0))
            for action, batch, rows, rejected in conn.execute(
                "SELECT DISTINCT ON (action, details->>'batch_id') action, details->>'batch_id', rows_affected, "
                "details->>'rows_rejected' "
                "FROM compliance.audit_log WHERE action IN ('ingest.batch', 'promote.batch', 'pii.scan') "
                "ORDER BY action, details->>'batch_id', event_time DESC"
            )
        }
        entries = dict(
            conn.execute(
                "SELECT b.interval_start::date, count(*) / count(DISTINCT b.batch_id) FROM pipeline.batches AS b "
                "JOIN compliance.audit_log AS a ON a.action = 'ingest.batch' AND a.details->>'batch_id' = b.batch_id::text "
                "WHERE b.source_name = ANY(%s) GROUP BY 1",
                [list(SOURCES)],
            ).fetchall()
        )
        tasks = set(
            conn.execute(
                "SELECT a.action, a.dag_id, a.task_id, b.source_name, b.entity_name FROM compliance.audit_log AS a"
                " JOIN pipeline.batches AS b ON a.details->>'batch_id' = b.batch_id::text"
                " WHERE a.action IN ('ingest.batch', 'promote.batch', 'pii.scan') AND b.source_name = ANY(%s)",
                [list(SOURCES)],
            ).fetchall()
        )
    assert batches
    # each entry names the task that wrote it
    entities = {(source, entity) for *_, source, entity in tasks}
    assert tasks == {
        (action, f"atlas_{source}", f"{task}_{entity}", source, entity)
        for source, entity in entities
        for action, task in (("ingest.batch", "land"), ("promote.batch", "promote"), ("pii.scan", "scan_pii"))
    }
    for batch, landed, _promoted in batches:
        assert latest[("ingest.batch", batch)][0] == landed
        assert latest[("pii.scan", batch)][0] == landed
        # what that promotion did: landed = promoted + rejected then (a later batch may still
        # promote this batch's waiting rows, which moves pipeline.batches' counts, not the entry)
        promoted_then, rejected_then = latest[("promote.batch", batch)]
        assert promoted_then + rejected_then == landed
    assert entries == {DAY_1: 1, DAY_2: 2}  # the second day ran twice: two entries per batch


def test_the_quality_gate_keeps_each_batchs_metrics_once(pipeline: dict[str, Any]) -> None:
    """One row_count per batch (the re-run replaced its own), equal to what the batch landed; two
    days of history raise no anomaly (the detector waits for its minimum history)."""
    with psycopg.connect(pipeline["dsn"]) as conn:
        pairs = conn.execute(
            "SELECT m.value, b.rows_landed FROM quality.batch_metrics AS m "
            "JOIN pipeline.batches AS b ON b.batch_id = m.batch_id WHERE m.metric_name = 'row_count'"
        ).fetchall()
        batches = conn.execute("SELECT count(*) FROM pipeline.batches WHERE rows_read > 0").fetchone()
        anomalies = conn.execute("SELECT count(*) FROM quality.anomalies").fetchone()
    assert (len(pairs),) == batches
    assert all(value == landed for value, landed in pairs)
    assert anomalies == (0,)


def test_the_navigate_check_passed_and_catches_a_lost_row_and_a_changed_sum(pipeline: dict[str, Any]) -> None:
    """quality_navigate ran in every run and passed; against a navigate that lost a row of the
    interval, or changed a measure, it fails exactly the checks concerned (rolled back after)."""
    from atlas.batches import Interval
    from atlas.config.loader import load_source
    from atlas.quality.navigate import check_navigate

    shop = load_source(SOURCES_DIR / "shop.yaml")
    start = dt.datetime.combine(DAY_2, dt.time(), tzinfo=dt.UTC)
    interval = Interval(start, start + dt.timedelta(days=1))
    with psycopg.connect(pipeline["dsn"]) as conn:
        recorded = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE outcome <> 'pass') FROM quality.check_results "
            "WHERE check_name LIKE '%%.navigate.%%'"
        ).fetchone()
        assert all(r.passed for r in check_navigate(conn, shop, interval, dag_id=None, run_id=None))
        order_id = conn.execute(
            "SELECT order_id FROM chart.shop__orders WHERE _interval_start = %s LIMIT 1", (start,)
        ).fetchone()[0]
        conn.execute("DELETE FROM navigate.shop__orders WHERE order_id = %s", (order_id,))
        conn.execute(
            "UPDATE navigate.shop__order_lines SET quantity = quantity + 1 WHERE (order_id, line_number) = "
            "(SELECT order_id, line_number FROM chart.shop__order_lines WHERE _interval_start = %s LIMIT 1)",
            (start,),
        )
        failed = {
            r.name: r.metric
            for r in check_navigate(conn, shop, interval, dag_id=None, run_id=None)
            if not r.passed
        }
        conn.rollback()
    assert recorded is not None
    assert recorded[0] > 0
    assert recorded[1] == 0
    assert failed == {"orders.navigate.keys": 1, "order_lines.navigate.sum.quantity": 1}


PERSONAL_COLUMNS = ("email", "phone", "first_name", "last_name", "street", "birth_date")
"""The crm sample's raw personal values an analyst must never read: contact data, names, streets, birth dates."""


def test_the_analyst_logged_in_as_itself_sees_no_raw_personal_value(
    pipeline: dict[str, Any], pg_server: PgServer
) -> None:
    """A login of atlas_read reads every navigate table and view it may read (all of them) and finds none of
    chart's e-mails, phone numbers, first and last names, streets or birth dates, nor any e-mail-shaped
    value; a login of atlas_admin reads those raw values in chart."""
    columns = ", ".join(f"{c}::text" for c in PERSONAL_COLUMNS)
    with psycopg.connect(pipeline["dsn"]) as conn:
        personal = {
            value
            for row in conn.execute(f"SELECT {columns} FROM chart.crm__customers")
            for value in row
            if value
        }
    assert len(personal) > 3_000, "the sample has its customers' personal values in chart"
    with login_as(pg_server, pipeline["dsn"], "atlas_read") as analyst, psycopg.connect(analyst) as conn:
        relations = conn.execute(
            "SELECT c.oid::regclass::text, has_table_privilege(c.oid, 'SELECT') FROM pg_class AS c "
            "WHERE c.relnamespace = 'navigate'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') "
            "AND NOT c.relispartition ORDER BY 1"
        ).fetchall()
        assert {"navigate.dim_customer", "navigate.crm__customers", "navigate.data_dictionary"} <= {
            r for r, _ in relations
        }
        assert [r for r, readable in relations if not readable] == [], "atlas_read reads all of navigate"
        for relation, _ in relations:
            values = {
                str(v) for row in conn.execute(f"SELECT * FROM {relation}") for v in row if v is not None
            }
            assert not values & personal, f"{relation} shows raw personal data"
            assert not [v for v in values if "@" in v], f"{relation} shows an e-mail address"
    with login_as(pg_server, pipeline["dsn"], "atlas_admin") as admin, psycopg.connect(admin) as conn:
        raw = {v for row in conn.execute(f"SELECT {columns} FROM chart.crm__customers") for v in row if v}
    assert raw == personal
