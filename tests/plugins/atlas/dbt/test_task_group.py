"""The navigate task group: Cosmos renders each source's dbt nodes from the manifest and runs them.

The project is a private copy with the sample sources' generated models (``project.py``);
``$ATLAS_DBT_PROJECT_DIR`` points at it for the whole module, so the DAG runs use it too.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from atlas.batches import batch_id
from atlas.constants import SOURCES_DIR
from atlas.dbt.manifest import check_cross_source_tests, resolve_slices, slices_dir, split_manifest
from atlas.dbt.manifest import main as manifest_cli
from atlas.dbt.project import DBT_PROJECT_DIR_ENV
from atlas.dbt.task_group import (
    CONSUMER_POKE_SECONDS,
    DBT_ENV,
    INTERVAL_ENV,
    RUN_ENV,
    BaseConsumerSensor,
    InvocationMode,
    build_navigate_group,
    render_navigate_group,
    warehouse_profile_mapping,
)
from atlas.exceptions import DbtProjectError
from tests.fixtures.airflow_db import write_and_load_dag
from tests.include.atlas_dbt.chart_tables import (
    NAVIGATE_TASK_ENV,
    create_chart_tables,
    day,
    promote,
    sample_sources,
)
from tests.include.atlas_dbt.project import generated_project

SOURCES = sample_sources()
SHOP_CURRENT = ("shop__products", "shop__orders", "shop__order_lines")
PRODUCER = "navigate.dbt_producer_watcher"
SHOP_TASKS = {
    PRODUCER,
    f"{PRODUCER}_done",
    "navigate.dim_product.snapshot",
    "navigate.dim_product.test",
    "navigate.fact_orders.run",
    "navigate.fact_orders.test",
    "navigate.fact_order_lines.run",
    "navigate.fact_order_lines.test",
    *(f"navigate.{table}.{step}" for table in SHOP_CURRENT for step in ("run", "test")),
    *(f"navigate.stg_{table}_run" for table in SHOP_CURRENT),
}
SHOP_NODES = {
    "model.atlas.fact_orders",
    "model.atlas.fact_order_lines",
    "snapshot.atlas.dim_product",
    *(f"model.atlas.{table}" for table in SHOP_CURRENT),
    *(f"model.atlas.stg_{table}" for table in SHOP_CURRENT),
}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The sample sources generated into a copy of the project, parsed and split as ``make setup`` does."""
    path = generated_project(tmp_path_factory.mktemp("project") / "atlas_dbt")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DBT_PROJECT_DIR_ENV, str(path.parents[1]))
        yield path


def unsplit_copy(manifest: Path, folder: Path) -> Path:
    """A copy of the full manifest in ``folder/target``, without its slices."""
    (folder / "target").mkdir(parents=True)
    return Path(shutil.copy(manifest, folder / "target" / "manifest.json"))


def shape(dag) -> dict[str, tuple[str, list[str]]]:
    """Each task of ``dag``: its operator class and sorted upstream task ids."""
    return {t.task_id: (type(t).__name__, sorted(t.upstream_task_ids)) for t in dag.tasks}


def render(source: str, manifest: Path):
    """A DAG holding only the navigate group of ``source``, and the group (or None)."""
    from airflow.sdk import DAG

    with DAG(f"navigate_{source}", schedule=None, start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) as dag:
        group = build_navigate_group(SOURCES[source], dag=dag, manifest=manifest)
    return dag, group


def test_shop_group_holds_its_own_nodes_only(manifest):
    """shop renders its snapshot, facts and their tests, and nothing of crm or support."""
    dag, group = render("shop", manifest)
    assert group is not None
    assert set(dag.task_dict) == SHOP_TASKS
    assert not [t for t in dag.task_dict if "dim_customer." in t or "support_tickets" in t]


def test_nodes_run_in_dependency_order(manifest):
    """Facts load after their entity's current state passed its tests; lines after the product snapshot and orders."""
    dag, _ = render("shop", manifest)
    assert {
        "navigate.dim_product.test",
        "navigate.fact_orders.test",
        "navigate.shop__order_lines.test",
    } <= dag.task_dict["navigate.fact_order_lines.run"].upstream_task_ids
    assert "navigate.shop__orders.test" in dag.task_dict["navigate.fact_orders.run"].upstream_task_ids
    assert dag.task_dict["navigate.fact_orders.test"].upstream_task_ids == {"navigate.fact_orders.run"}
    assert dag.task_dict["navigate.shop__orders.run"].upstream_task_ids == {
        "navigate.stg_shop__orders_run",
        PRODUCER,
    }


def test_staging_models_cost_no_dbt_run(manifest):
    """The ephemeral staging models render as empty tasks: Cosmos never starts dbt for them."""
    dag, _ = render("shop", manifest)
    empty = {t.task_id for t in dag.tasks if type(t).__name__ == "EmptyOperator"}
    assert empty == {f"navigate.stg_{table}_run" for table in SHOP_CURRENT} | {f"{PRODUCER}_done"}


def test_snapshots_render_as_snapshot_tasks(manifest):
    """crm's SCD2 dimension is a dbt snapshot task followed by its tests."""
    dag, _ = render("crm", manifest)
    assert type(dag.task_dict["navigate.dim_customer.snapshot"]).__name__ == "DbtSnapshotWatcherOperator"
    assert "navigate.dim_customer.test" in dag.task_dict


@pytest.mark.parametrize("source", ["crm", "shop", "support"])
def test_one_in_process_build_runs_the_source_with_the_interval(manifest, source):
    """The producer builds the source's tag in-process, cautious, with the interval and the DAG run in its environment (no vars), no deps, no per-model assets."""
    dag, _ = render(source, manifest)
    producer = dag.task_dict[PRODUCER]
    assert type(producer).__name__ == "DbtProducerWatcherOperator"
    assert producer.base_cmd == ["build"]
    assert producer.select == f"tag:source_{source}"
    assert producer.indirect_selection == "cautious"
    assert producer.env == DBT_ENV == {**INTERVAL_ENV, **RUN_ENV}
    assert set(producer.env) == set(NAVIGATE_TASK_ENV)  # what a manual dbt run in the tests drops
    assert "env" in producer.template_fields  # rendered per run: the run's interval and ids
    assert not producer.vars  # vars that change every run would defeat dbt's partial parse
    assert producer.invocation_mode is InvocationMode.DBT_RUNNER
    assert producer.install_deps is False
    assert producer.emit_datasets is False  # socket hosts break per-model asset URIs
    assert not producer.upstream_task_ids  # it starts with the group, never after a node's task


@pytest.mark.parametrize("source", ["crm", "shop", "support"])
def test_every_node_task_watches_the_build_without_the_triggerer(manifest, source):
    """Each model, snapshot and test task pokes for dbt's result once the build ran: dag.test() never waits on it."""
    dag, _ = render(source, manifest)
    watchers = [t for t in dag.tasks if isinstance(t, BaseConsumerSensor)]
    others = {t.task_id for t in dag.tasks} - {t.task_id for t in watchers}
    assert others == {PRODUCER, f"{PRODUCER}_done"} | {
        t.task_id
        for t in dag.tasks
        if type(t).__name__ == "EmptyOperator" and t.task_id.startswith("navigate.stg_")
    }
    assert watchers
    ids = {t.task_id for t in watchers}
    for task in watchers:
        assert (task.deferrable, task.mode, task.poke_interval) == (False, "poke", CONSUMER_POKE_SECONDS)
        assert task.producer_task_id == PRODUCER
        if task.upstream_task_ids & ids:  # after another node's task: as Cosmos wires it
            assert PRODUCER not in task.upstream_task_ids
            assert task.trigger_rule == "all_success"
        else:  # the first node tasks start once the build is done, failed or not
            assert PRODUCER in task.upstream_task_ids
            assert task.trigger_rule == "all_done_min_one_success"


def test_a_source_without_models_gets_no_group(manifest):
    """A source no dbt node is tagged with renders nothing."""
    from airflow.sdk import DAG

    config = SOURCES["crm"].model_copy(update={"name": "ledger"})
    with DAG("navigate_ledger", schedule=None, start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) as dag:
        assert build_navigate_group(config, dag=dag, manifest=manifest) is None
    assert not dag.tasks


def test_a_missing_manifest_says_to_run_make_setup(tmp_path):
    """Without a manifest the error names the file and the command that builds it."""
    from airflow.sdk import DAG

    with (
        DAG("navigate_missing", schedule=None, start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) as dag,
        pytest.raises(DbtProjectError, match="make setup") as raised,
    ):
        build_navigate_group(SOURCES["shop"], dag=dag, manifest=tmp_path / "none" / "manifest.json")
    assert "dbt parse" in str(raised.value)


CROSS_SOURCE_TEST = "relationships_across_sources_fact_orders_customer_id__customer_id__ref_dim_customer_"


def test_the_shop_slice_holds_only_shop_nodes_and_their_tests(manifest):
    """shop's slice: its nodes, tests on them only or tagged shop, parents of those tests; nothing else."""
    full = json.loads(manifest.read_text())
    piece = json.loads((slices_dir(manifest) / "source_shop.json").read_text())
    shop = SHOP_NODES
    built = {uid for uid, n in piece["nodes"].items() if n["resource_type"] in ("model", "snapshot")}
    tests = {uid: n for uid, n in piece["nodes"].items() if n["resource_type"] == "test"}
    assert {uid for uid in built if "source_shop" in piece["nodes"][uid]["tags"]} == shop
    assert all(shop & set(n["depends_on"]["nodes"]) for n in tests.values())
    shop_tests = {
        uid
        for uid, n in full["nodes"].items()
        if n["resource_type"] == "test"
        and ("source_shop" in n["tags"] or set(n["depends_on"]["nodes"]) <= shop)
    }
    assert set(tests) == shop_tests
    assert [n["tags"] for n in tests.values() if n["name"] == CROSS_SOURCE_TEST] == [["source_shop"]]
    # the only foreign node is crm's customer dimension, parent of the cross-source test on orders
    assert built - shop == {"snapshot.atlas.dim_customer"}
    assert "model.atlas.fact_support_tickets" not in piece["nodes"]
    assert {uid.rsplit(".", 1)[1].split("__")[0] for uid in piece["sources"]} == {"shop"}
    assert piece["metadata"] == full["metadata"]
    assert "macros" not in piece


def test_a_test_across_sources_runs_only_in_the_childs_dag(manifest):
    """The order's customer check is in shop's slice and render, never in crm's: crm's DAG does not wait on it."""
    crm = json.loads((slices_dir(manifest) / "source_crm.json").read_text())
    assert not [n for n in crm["nodes"].values() if n["name"] == CROSS_SOURCE_TEST]
    crm_dag, _ = render("crm", manifest)
    shop_dag, _ = render("shop", manifest)
    crm_awaits = crm_dag.task_dict[PRODUCER].tests_per_model
    shop_awaits = shop_dag.task_dict[PRODUCER].tests_per_model
    assert crm_awaits["snapshot.atlas.dim_customer"]
    assert not [uid for tests in crm_awaits.values() for uid in tests if CROSS_SOURCE_TEST in uid]
    assert [uid for uid in shop_awaits["model.atlas.fact_orders"] if CROSS_SOURCE_TEST in uid]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        pytest.param([], "source_shop", id="untagged"),
        pytest.param(["source_crm"], "source_shop", id="tagged-with-the-parent"),
    ],
)
def test_a_test_across_sources_without_its_childs_tag_stops_the_split(manifest, tags, expected):
    """The split refuses it, naming the file, the test and the tag to give it."""
    data = json.loads(manifest.read_text())
    test = next(n for n in data["nodes"].values() if n["name"] == CROSS_SOURCE_TEST)
    test["tags"] = tags
    with pytest.raises(DbtProjectError) as raised:
        check_cross_source_tests(data)
    message = str(raised.value)
    assert "models/navigate/schema.yml" in message
    assert CROSS_SOURCE_TEST in message
    assert f"tags: [{expected}]" in message
    test["tags"] = [expected]
    check_cross_source_tests(data)


@pytest.mark.parametrize("source", [pytest.param(s, id=s) for s in ("crm", "shop", "support")])
def test_a_group_from_the_slice_equals_one_from_the_full_manifest(manifest, source):
    """Rendered from its slice, a source's group has the tasks, types and edges of the full render.

    Only the tests the build waits for differ: from the full manifest crm's test task would also
    wait for the order's and the ticket's customer checks, which crm's build (cautious) never
    runs; the slice leaves them to shop and support.
    """
    from airflow.sdk import DAG

    assert resolve_slices(manifest).directory == slices_dir(manifest)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with DAG(f"full_{source}", schedule=None, start_date=start) as full:
        render_navigate_group(f"source_{source}", dag=full, manifest=manifest)
    sliced, _ = render(source, manifest)
    assert shape(sliced) == shape(full)
    awaited = {uid for tests in sliced.task_dict[PRODUCER].tests_per_model.values() for uid in tests}
    assert not [uid for uid in awaited if source == "crm" and "across_sources" in uid]
    assert len(full.tasks) >= 3


def test_split_is_idempotent_and_drops_slices_of_gone_tags(manifest):
    """A second split rewrites nothing; a slice whose tag left the manifest is removed."""
    folder = slices_dir(manifest)
    (folder / "source_gone.json").write_text("{}")
    before = {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json") if p.name != "source_gone.json"}
    written = split_manifest(manifest)
    assert set(written) == {"source_crm", "source_shop", "source_support"}
    assert {p.name: p.stat().st_mtime_ns for p in folder.glob("*.json")} == before


def test_without_slices_the_full_manifest_is_sliced_in_memory(manifest, tmp_path, monkeypatch):
    """A manifest never split still renders the same group, from slices outside the project."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the in-memory split lands
    copy = unsplit_copy(manifest, tmp_path / "project")
    sliced, _ = render("shop", manifest)
    fallback, _ = render("shop", copy)
    assert shape(fallback) == shape(sliced)
    assert not slices_dir(copy).exists()
    assert resolve_slices(copy).directory.parent == tmp_path


def test_stale_slices_are_ignored(manifest, tmp_path, monkeypatch):
    """Slices of an older manifest are not used: the rebuilt manifest is sliced in memory."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    copy = unsplit_copy(manifest, tmp_path / "project")
    assert manifest_cli(["split", "--manifest", str(copy)]) == 0
    data = json.loads(copy.read_text())
    for node in data["nodes"].values():
        node["tags"] = [t for t in node.get("tags") or () if t != "source_support"]
    copy.write_text(json.dumps(data))
    slices = resolve_slices(copy)
    assert slices.directory.parent == tmp_path
    assert "source_support" not in slices.tags
    assert render("support", copy)[1] is None


def test_the_split_command_reports_a_missing_manifest(tmp_path, capsys):
    """``python -m atlas.dbt.manifest split`` without a manifest exits 2 saying to run make setup."""
    assert manifest_cli(["split", "--manifest", str(tmp_path / "manifest.json")]) == 2
    assert "make setup" in capsys.readouterr().err


def test_every_dbt_node_belongs_to_one_known_source(manifest):
    """Each model and snapshot carries exactly one source_<name> tag, naming a source YAML."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    known = {f"source_{p.stem}" for p in SOURCES_DIR.glob("*.yaml")}
    built = [n for n in nodes if n["resource_type"] in ("model", "snapshot")]
    assert built
    for node in built:
        tags = [t for t in node["tags"] if t.startswith("source_")]
        assert len(tags) == 1, (node["name"], node["tags"])
        assert tags[0] in known, (node["name"], node["tags"])


@pytest.mark.parametrize(
    ("uri", "password"),
    [
        pytest.param("postgresql://postgres@127.0.0.1:5432/atlas", "", id="trust-no-password"),
        pytest.param("postgresql://atlas:s3cret@127.0.0.1:5432/atlas", "s3cret", id="with-password"),
    ],
)
def test_profile_mapping_accepts_a_connection_without_password(monkeypatch, uri, password):
    """The warehouse profile writes to navigate and passes the password, empty or not, to dbt."""
    monkeypatch.setenv("AIRFLOW_CONN_ATLAS_WAREHOUSE", uri)
    mapping = warehouse_profile_mapping()
    assert list(mapping.env_vars.values()) == [password]
    assert mapping.profile["schema"] == "navigate"
    assert mapping.profile["dbname"] == "atlas"


def run_shop_dag(session_dirs, manifest: Path, dsn: str, dag_id: str):
    """dag.test() a DAG holding only shop's navigate group for 2026-01-05; its task states."""
    source = f"""
        import datetime as dt
        from pathlib import Path

        from airflow.sdk import DAG, CronDataIntervalTimetable

        from atlas.config.loader import load_source
        from atlas.dbt.task_group import build_navigate_group

        with DAG(
            {dag_id!r},
            schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
            start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            catchup=False,
        ) as dag:
            build_navigate_group(
                load_source(Path({str(SOURCES_DIR / "shop.yaml")!r})), dag=dag, manifest=Path({str(manifest)!r})
            )
    """
    dag = write_and_load_dag(session_dirs.test_dags, dag_id, source)
    run = dag.test(logical_date=dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    return run, {ti.task_id: ti.state for ti in run.get_task_instances()}


RUN_INTERVAL = day(2026, 1, 4)
"""The data interval of the test runs (logical date 2026-01-05 of a daily CronDataIntervalTimetable)."""


def fill_shop(dsn: str, status: str) -> None:
    """Chart tables with one product, one order of the given status and its line, in RUN_INTERVAL."""
    shop, interval = SOURCES["shop"], RUN_INTERVAL
    stamp = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    with psycopg.connect(dsn) as conn:
        create_chart_tables(conn, SOURCES.values())
        promote(
            conn,
            shop,
            "products",
            [
                {
                    "product_id": 10,
                    "sku": "SKU-000010",
                    "name": "Book",
                    "category": "books",
                    "unit_price": 9,
                    "updated_at": stamp,
                }
            ],
            interval,
        )
        promote(
            conn,
            shop,
            "orders",
            [
                {
                    "order_id": 1,
                    "customer_id": 7,
                    "order_date": dt.date(2026, 1, 5),
                    "status": status,
                    "currency": "EUR",
                    "updated_at": stamp,
                }
            ],
            interval,
        )
        promote(
            conn,
            shop,
            "order_lines",
            [
                {
                    "order_id": 1,
                    "line_number": 1,
                    "product_id": 10,
                    "quantity": 1,
                    "unit_price": 9,
                    "order_date": dt.date(2026, 1, 5),
                    "updated_at": stamp,
                }
            ],
            interval,
        )


@pytest.mark.airflow
@pytest.mark.dbt
@pytest.mark.slow(seconds=50)
def test_navigate_group_runs_in_a_dag(airflow_db, session_dirs, manifest, fresh_warehouse_dsn):
    """dag.test() of shop's navigate group builds the snapshot and the facts of the interval."""
    fill_shop(fresh_warehouse_dsn, "paid")
    run, states = run_shop_dag(session_dirs, manifest, fresh_warehouse_dsn, "h6b_navigate_ok")
    assert (run.data_interval_start, run.data_interval_end) == (RUN_INTERVAL.start, RUN_INTERVAL.end)
    assert run.state == "success", states
    assert set(states.values()) == {"success"}
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        assert conn.execute(
            "SELECT order_id, tableoid::regclass::text FROM navigate.fact_orders"
        ).fetchall() == [(1, "navigate.fact_orders_p2026")]
        assert conn.execute("SELECT count(*) FROM navigate.dim_product WHERE is_current").fetchone() == (1,)
    recorded = recorded_dbt_tests(fresh_warehouse_dsn)
    lines = batch_id("shop", "order_lines", RUN_INTERVAL)  # the fact's own entity, not dim_product's
    assert recorded[("navigate.fact_order_lines", "relationships", "order_id")][:5] == (
        "consistency",
        "fail",
        "pass",
        0,
        lines,
    )
    assert {outcome for _, _, outcome, *_ in recorded.values()} == {"pass"}


@pytest.mark.airflow
@pytest.mark.dbt
@pytest.mark.slow(seconds=50)
def test_a_failing_dbt_test_fails_the_group(airflow_db, session_dirs, manifest, fresh_warehouse_dsn):
    """An order status outside shop.yaml's allowed values fails the orders' current-state tests: no fact loads."""
    fill_shop(fresh_warehouse_dsn, "lost")
    run, states = run_shop_dag(session_dirs, manifest, fresh_warehouse_dsn, "h6b_navigate_broken")
    assert run.state == "failed", states
    assert states["navigate.shop__orders.run"] == "success"
    assert states["navigate.shop__orders.test"] == "failed"
    assert states["navigate.fact_orders.run"] == "upstream_failed"
    assert states["navigate.fact_order_lines.run"] == "upstream_failed"
    assert states["navigate.dim_product.test"] == "success"


def recorded_dbt_tests(dsn: str) -> dict[tuple[str, str, str | None], tuple]:
    """The dbt tests recorded in ``quality``: (table, type, column) -> (dimension, severity, outcome,
    failing rows, batch, DAG, run)."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT r.table_name, d.check_type, d.column_name, r.dimension_name, d.severity, r.outcome,"
            " r.metric_value, r.batch_id, r.dag_id, r.run_id"
            " FROM quality.check_results AS r JOIN quality.check_definitions AS d USING (check_id)"
            " WHERE r.details ->> 'engine' = 'dbt'"
        ).fetchall()
    recorded: dict[tuple[str, str, str | None], tuple] = {}
    for table, kind, column, *rest in rows:
        assert (table, kind, column) not in recorded, (table, kind, column)
        recorded[(table, kind, column)] = tuple(rest)
    return recorded


@pytest.mark.airflow
@pytest.mark.dbt
@pytest.mark.slow(seconds=50)
def test_dbt_test_outcomes_are_recorded_as_quality_checks(
    airflow_db, session_dirs, manifest, fresh_warehouse_dsn
):
    """Each dbt test of the build is stored with its dimension, failing rows, batch and run; the
    failing one lowers its table's validity score on the scorecard."""
    from atlas.quality.scorecard import compute_scorecards

    fill_shop(fresh_warehouse_dsn, "lost")
    run, states = run_shop_dag(session_dirs, manifest, fresh_warehouse_dsn, "q11_dbt_outcomes")
    assert states["navigate.shop__orders.test"] == "failed", states
    recorded = recorded_dbt_tests(fresh_warehouse_dsn)
    orders = batch_id("shop", "orders", RUN_INTERVAL)
    products = batch_id("shop", "products", RUN_INTERVAL)
    run_ids = ("q11_dbt_outcomes", run.run_id)
    assert recorded[("navigate.shop__orders", "accepted_values", "status")] == (
        "validity",
        "fail",
        "fail",
        1,
        orders,
        *run_ids,
    )
    assert recorded[("navigate.shop__orders", "accepted_values", "currency")] == (
        "validity",
        "fail",
        "pass",
        0,
        orders,
        *run_ids,
    )
    assert recorded[("navigate.shop__orders", "not_null", "order_id")][:3] == ("completeness", "fail", "pass")
    assert recorded[("navigate.shop__products", "unique", "product_id")][:5] == (
        "uniqueness",
        "fail",
        "pass",
        0,
        products,
    )
    assert recorded[("navigate.dim_product", "scd2_versions", None)][:3] == ("consistency", "fail", "pass")
    # the facts did not build (their orders failed a test): dbt skipped their tests, nothing measured
    assert not any(table.startswith("navigate.fact_") for table, _, _ in recorded)

    with psycopg.connect(fresh_warehouse_dsn) as conn:
        today = conn.execute("SELECT (now() AT TIME ZONE 'UTC')::date").fetchone()[0]
        cards = {card.table: card for card in compute_scorecards(conn, today)}
    assert cards["navigate.shop__orders"].failed == 1
    assert 0 < cards["navigate.shop__orders"].dimension_scores["validity"] < 100
    assert cards["navigate.shop__products"].dimension_scores == {
        "completeness": 100.0,
        "uniqueness": 100.0,
        "validity": 100.0,
    }
