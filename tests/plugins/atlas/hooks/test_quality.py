"""QualityHook.check_interval against a real warehouse and real Soda scans: seeded dirty data
fails exactly the checks of the dimension it violates, and every result is recorded."""

from __future__ import annotations

import pytest

from atlas.batches import batch_id
from atlas.config import load_source, parse_source
from atlas.constants import SOURCES_DIR
from atlas.hooks.quality import QualityHook
from tests.plugins.atlas.quality.seed import INTERVAL, execute, land_and_promote

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SHOP = load_source(SOURCES_DIR / "shop.yaml")
ORDERS = "chart.shop__orders"
LINES = "chart.shop__order_lines"


def _not_passed(dsn: str, config=SHOP) -> dict[str, tuple[str, str]]:
    found = QualityHook().check_interval(config, INTERVAL, dag_id="atlas_shop", run_id="r1")
    return {r.name: (r.outcome, r.dimension) for r in found.results if r.outcome != "pass"}


def test_clean_interval_passes_every_check_and_records_them(fresh_warehouse_dsn: str) -> None:
    """A clean promoted interval passes all checks; each result is stored with batch, run and metric."""
    import psycopg

    land_and_promote(fresh_warehouse_dsn, SHOP)
    found = QualityHook().check_interval(SHOP, INTERVAL, dag_id="atlas_shop", run_id="r1")
    assert [r.name for r in found.results if r.outcome != "pass"] == []
    names = {r.name for r in found.results}
    assert {"orders.row_count", "orders.reconcile.rejected", "order_lines.reference.products"} <= names
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        rows = conn.execute(
            "SELECT check_name, dimension_name, outcome, metric_value, batch_id, dag_id, run_id "
            "FROM quality.check_results WHERE check_name IN ('orders.row_count', 'orders.reconcile.rejected') "
            "ORDER BY check_name"
        ).fetchall()
        definitions = conn.execute("SELECT count(*) FROM quality.check_definitions").fetchone()
    orders_batch = batch_id("shop", "orders", INTERVAL)
    assert rows == [
        ("orders.reconcile.rejected", "accuracy", "pass", 0, orders_batch, "atlas_shop", "r1"),
        ("orders.row_count", "completeness", "pass", 2, orders_batch, "atlas_shop", "r1"),
    ]
    assert definitions == (len(found.results),)


@pytest.mark.parametrize(
    ("dirt", "expected"),
    [
        pytest.param(
            [f"UPDATE {ORDERS} SET status = NULL WHERE order_id = 100"],
            {"orders.missing.status": ("fail", "completeness")},
            id="completeness",
        ),
        pytest.param(
            [f"ALTER TABLE {ORDERS} DROP CONSTRAINT shop__orders_pkey",
             f"INSERT INTO {ORDERS} SELECT * FROM {ORDERS} WHERE order_id = 101"],
            {"orders.duplicate": ("fail", "uniqueness")},
            id="uniqueness",
        ),
        pytest.param(
            [f"UPDATE {ORDERS} SET status = 'lost' WHERE order_id = 100",
             "UPDATE chart.shop__products SET sku = 'SKU-5' WHERE product_id = 5",
             f"UPDATE {LINES} SET quantity = 5000 WHERE line_number = 2"],
            {"orders.allowed_values.status": ("fail", "validity"),
             "products.pattern.sku": ("fail", "validity"),
             "order_lines.range.quantity": ("fail", "validity")},
            id="validity",
        ),
        pytest.param(
            [f"UPDATE {ORDERS} SET _promoted_at = now() - interval '30 hours'"],
            {"orders.freshness": ("warn", "timeliness")},
            id="timeliness",
        ),
        pytest.param(
            [f"UPDATE {LINES} SET product_id = 999 WHERE order_id = 101",
             f"ALTER TABLE {ORDERS} ALTER COLUMN customer_id TYPE integer"],
            {"order_lines.reference.products": ("fail", "consistency"),
             "orders.schema": ("fail", "consistency")},
            id="consistency",
        ),
        pytest.param(
            [f"DELETE FROM {LINES} WHERE order_id = 100 AND line_number = 2",
             "DELETE FROM chart.quarantine WHERE entity_name = 'orders'"],
            {"order_lines.reconcile.chart": ("fail", "accuracy"),
             "orders.reconcile.rejected": ("fail", "accuracy"),
             "orders.reconcile.chart": ("fail", "accuracy")},
            id="accuracy",
        ),
    ],
)  # fmt: skip
def test_dirty_data_fails_exactly_the_checks_of_its_dimension(
    fresh_warehouse_dsn: str, dirt: list[str], expected: dict[str, tuple[str, str]]
) -> None:
    """Each kind of seeded dirt fails (or warns) only the checks of the dimension it violates."""
    land_and_promote(fresh_warehouse_dsn, SHOP)
    execute(fresh_warehouse_dsn, *dirt)
    assert _not_passed(fresh_warehouse_dsn) == expected


def test_row_removed_between_layers_is_caught_with_its_count(fresh_warehouse_dsn: str) -> None:
    """Deleting one promoted row from chart makes the explore→chart reconciliation fail with metric 1."""
    land_and_promote(fresh_warehouse_dsn, SHOP)
    execute(fresh_warehouse_dsn, "DELETE FROM chart.shop__products WHERE product_id = 6")
    found = QualityHook().check_interval(SHOP, INTERVAL, dag_id="atlas_shop", run_id="r1")
    chart = next(r for r in found.results if r.name == "products.reconcile.chart")
    assert (chart.outcome, chart.metric_value, chart.details["actual"]) == ("fail", 1.0, 1)
    assert [r.name for r in found.failed] == ["products.reconcile.chart", "order_lines.reference.products"]


def test_yaml_severity_override_turns_a_failure_into_a_warning(fresh_warehouse_dsn: str) -> None:
    """``quality.severity`` set to warn for one check: the same dirt now warns instead of failing."""
    import yaml

    document = yaml.safe_load((SOURCES_DIR / "shop.yaml").read_text())
    document["quality"] = {"severity": {"orders.allowed_values.status": "warn"}, "freshness_hours": 1}
    config = parse_source(document, "shop.yaml")
    land_and_promote(fresh_warehouse_dsn, config)
    execute(fresh_warehouse_dsn, f"UPDATE {ORDERS} SET status = 'lost' WHERE order_id = 100")
    assert _not_passed(fresh_warehouse_dsn, config) == {"orders.allowed_values.status": ("warn", "validity")}
    execute(fresh_warehouse_dsn, f"UPDATE {ORDERS} SET _promoted_at = now() - interval '2 hours'")
    assert _not_passed(fresh_warehouse_dsn, config) == {
        "orders.allowed_values.status": ("warn", "validity"),
        "orders.freshness": ("warn", "timeliness"),
    }
