"""dbt's test results read as quality checks: dimension by test type, severity, failing rows, entity.

The recording itself runs in a real DAG run (tests/plugins/atlas/dbt/test_task_group.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from atlas.exceptions import QualityError
from atlas.quality.dbt_tests import outcomes_of_build

MODEL = {
    "name": "shop__orders",
    "schema": "navigate",
    "alias": "shop__orders",
    "meta": {"source_name": "shop", "entity_name": "orders"},
}
FACT = {
    "name": "fact_orders",
    "schema": "navigate",
    "alias": "fact_orders",
    "meta": {},
    "depends_on": {
        "nodes": ["model.atlas.stg_shop__orders", "snapshot.atlas.dim_product", "snapshot.atlas.dim_customer"]
    },
}
PRODUCTS = {
    "name": "dim_product",
    "schema": "navigate",
    "meta": {"source_name": "shop", "entity_name": "products"},
}
STAGING = {
    "name": "stg_shop__orders",
    "schema": "navigate",
    "meta": {"source_name": "shop", "entity_name": "orders"},
    "config": {"materialized": "ephemeral"},
}
CUSTOMERS = {
    "name": "dim_customer",
    "schema": "navigate",
    "meta": {"source_name": "crm", "entity_name": "customers"},
}


def a_test(kind: str | None, attached: str, column: str | None = None, **config: Any) -> dict[str, Any]:
    return {
        "name": f"{kind}_{attached}_{column}",
        "attached_node": attached,
        "column_name": column,
        "test_metadata": {"name": kind} if kind else None,
        "config": {"severity": "ERROR", **config},
    }


def manifest(**tests: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": {
            "model.atlas.shop__orders": MODEL,
            "model.atlas.fact_orders": FACT,
            "model.atlas.stg_shop__orders": STAGING,
            "snapshot.atlas.dim_product": PRODUCTS,
            "snapshot.atlas.dim_customer": CUSTOMERS,
            **{f"test.atlas.{name}": node for name, node in tests.items()},
        }
    }


def results(**statuses: tuple[str, int | None]) -> dict[str, Any]:
    return {
        "results": [
            {"unique_id": f"test.atlas.{name}", "status": status, "failures": failures, "message": None}
            for name, (status, failures) in statuses.items()
        ]
    }


@pytest.mark.parametrize(
    ("kind", "dimension"),
    [
        pytest.param("not_null", "completeness", id="not_null"),
        pytest.param("unique", "uniqueness", id="unique"),
        pytest.param("accepted_values", "validity", id="accepted_values"),
        pytest.param("relationships", "consistency", id="relationships"),
        pytest.param("relationships_across_sources", "consistency", id="across-sources"),
        pytest.param("scd2_versions", "consistency", id="scd2_versions"),
        pytest.param("expression_is_true", "validity", id="other-custom"),
        pytest.param(None, "validity", id="singular"),
    ],
)
def test_each_test_type_maps_to_its_dimension(kind: str | None, dimension: str) -> None:
    (outcome,) = outcomes_of_build(
        results(t=("fail", 3)), manifest(t=a_test(kind, "model.atlas.shop__orders", '"status"')), "shop"
    )
    assert (outcome.dimension, outcome.outcome, outcome.failures) == (dimension, "fail", 3)
    assert (outcome.table, outcome.entity, outcome.column) == ("navigate.shop__orders", "orders", "status")
    assert outcome.test_type == (kind or "singular")


def test_severity_meta_dimension_and_skips() -> None:
    """dbt's warn is warn, error is fail; meta.dimension wins; a skipped test is not recorded."""
    found = outcomes_of_build(
        results(a=("warn", 2), b=("pass", 0), c=("skipped", None)),
        manifest(
            a=a_test("not_null", "model.atlas.shop__orders", "currency", severity="warn"),
            b=a_test("custom", "model.atlas.shop__orders", meta={"dimension": "timeliness"}),
            c=a_test("unique", "model.atlas.shop__orders", "order_id"),
        ),
        "shop",
    )
    assert [(o.severity, o.outcome, o.dimension) for o in found] == [
        ("warn", "warn", "completeness"),
        ("fail", "pass", "timeliness"),
    ]


def test_a_fact_is_linked_to_the_entity_of_its_sources_staging_model() -> None:
    """Not to the dimensions it joins (its own source's, or another source's)."""
    (outcome,) = outcomes_of_build(
        results(t=("pass", 0)), manifest(t=a_test("unique", "model.atlas.fact_orders", "order_id")), "shop"
    )
    assert (outcome.table, outcome.entity) == ("navigate.fact_orders", "orders")


def test_an_unknown_meta_dimension_names_the_test() -> None:
    with pytest.raises(QualityError, match=r"test\.atlas\.t: meta\.dimension 'speed' is not one of"):
        outcomes_of_build(
            results(t=("pass", 0)),
            manifest(t=a_test("custom", "model.atlas.shop__orders", meta={"dimension": "speed"})),
            "shop",
        )
