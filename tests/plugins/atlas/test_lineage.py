"""OpenLineage datasets: what each connector names as its source, and how a warehouse table is named."""

from __future__ import annotations

import json
import logging

import pytest

from atlas.config import load_source
from atlas.constants import INCLUDE_DIR, SOURCES_DIR
from atlas.lineage import DatasetRef, fail_soft, operator_lineage, postgres_namespace, warehouse_table


def test_a_local_files_source_is_its_path_pattern(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolved as the reader resolves it (the project root), whatever the worker's directory."""
    config = load_source(SOURCES_DIR / "crm.yaml")
    monkeypatch.chdir(tmp_path)
    namespace, name = config.connector.lineage_dataset(config.entity("customers"))
    assert namespace == "file"
    assert name.endswith("/customers/{start:%Y/%m}/customers_{start:%Y%m%d}.csv")
    assert name.startswith(str(INCLUDE_DIR.resolve()) + "/")


def test_an_s3_files_source_is_its_bucket_and_key_pattern() -> None:
    config = load_source(SOURCES_DIR / "crm.yaml")
    connector = config.connector.model_copy(update={"location": "s3://landing/crm/"})
    assert connector.lineage_dataset(config.entity("customers")) == (
        "s3://landing",
        "crm/customers/{start:%Y/%m}/customers_{start:%Y%m%d}.csv",
    )


def test_a_postgres_source_is_its_servers_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_SOURCE", "postgresql://reader@db.example.com:6543/shopdb")
    config = load_source(SOURCES_DIR / "shop.yaml")
    assert config.connector.lineage_dataset(config.entity("orders")) == (
        "postgres://db.example.com:6543",
        "shopdb.shop.orders",
    )


def test_a_postgres_table_without_schema_is_in_public_and_a_query_is_named_after_its_entity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SHOP_SOURCE", "postgresql://reader@db.example.com:6543/shopdb")
    config = load_source(SOURCES_DIR / "shop.yaml")
    orders = config.entity("orders")
    assert (
        config.connector.lineage_dataset(orders.model_copy(update={"table": "orders"}))[1]
        == "shopdb.public.orders"
    )
    query = orders.model_copy(update={"table": None, "query": "SELECT 1"})
    assert config.connector.lineage_dataset(query)[1] == "shopdb.query.orders"


def test_an_http_source_is_its_base_url_and_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_source(SOURCES_DIR / "support.yaml")
    conn_id = config.connector.conn_id
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        json.dumps({"conn_type": "http", "host": "https://api.example.com/v2"}),
    )
    entity = config.entities[0]
    namespace, name = config.connector.lineage_dataset(entity)
    assert namespace == "https://api.example.com"
    assert name == "/v2/" + entity.endpoint.strip("/")


def test_a_socket_warehouse_keeps_the_socket_as_host_as_cosmos_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WH", "postgresql://atlas@%2Frun%2Fpostgresql:5433/atlas")
    assert postgres_namespace("wh") == ("postgres:///run/postgresql:5433", "atlas")
    ref = warehouse_table("wh", ("chart", "crm__customers"), {"customer_id": "integer"}, 7)
    assert ref == DatasetRef(
        "postgres:///run/postgresql:5433", "atlas.chart.crm__customers", {"customer_id": "integer"}, 7
    )


def test_operator_lineage_carries_schema_and_row_count() -> None:
    lineage = operator_lineage(
        inputs=[DatasetRef("file", "/data/x.csv", {"id": "integer"})],
        outputs=[DatasetRef("postgres://h:5432", "db.explore.raw_data", {}, 42)],
    )
    (source,) = lineage.inputs
    assert [f.name for f in source.facets["schema"].fields] == ["id"]
    (out,) = lineage.outputs
    assert out.outputFacets["outputStatistics"].rowCount == 42
    assert out.facets == {}


def test_lineage_that_cannot_be_built_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise KeyError("no such connection")

    with caplog.at_level(logging.WARNING):
        assert fail_soft(broken, "land_x") is None
    assert "no OpenLineage datasets for land_x" in caplog.text
