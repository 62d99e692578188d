"""Generation of a source's quality checks and their SodaCL from the YAML: pure logic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas.config import load_source, parse_source
from atlas.constants import SOURCES_DIR
from atlas.dsr.targets import ERASED_PATTERN, ERASED_TEXT
from atlas.exceptions import QualityError, SourceConfigError
from atlas.quality.checks import CheckKind, Dimension, generate_checks
from atlas.quality.sodacl import hand_written_files, render_sodacl

SHOP = load_source(SOURCES_DIR / "shop.yaml")


def _shop(**quality: Any) -> Any:
    document = yaml.safe_load((SOURCES_DIR / "shop.yaml").read_text())
    if quality:
        document["quality"] = quality
    return parse_source(document, "shop.yaml")


def _by_name(config: Any = SHOP, **kwargs: Any) -> dict[str, Any]:
    return {check.name: check for check in generate_checks(config, **kwargs)}


def test_every_rule_of_the_yaml_becomes_a_check_with_its_dimension_and_default_severity() -> None:
    """Required columns, key, pattern, range, allowed set, freshness, schema, references, reconciliation."""
    checks = _by_name()
    expected = {
        "orders.row_count": (CheckKind.ROW_COUNT, Dimension.COMPLETENESS, "fail"),
        "orders.missing.status": (CheckKind.MISSING, Dimension.COMPLETENESS, "fail"),
        "order_lines.duplicate": (CheckKind.DUPLICATE, Dimension.UNIQUENESS, "fail"),
        "products.pattern.sku": (CheckKind.PATTERN, Dimension.VALIDITY, "fail"),
        "order_lines.range.quantity": (CheckKind.RANGE, Dimension.VALIDITY, "fail"),
        "orders.allowed_values.currency": (CheckKind.ALLOWED_VALUES, Dimension.VALIDITY, "fail"),
        "orders.freshness": (CheckKind.FRESHNESS, Dimension.TIMELINESS, "warn"),
        "orders.schema": (CheckKind.SCHEMA, Dimension.CONSISTENCY, "fail"),
        "order_lines.reference.orders": (CheckKind.REFERENCE, Dimension.CONSISTENCY, "fail"),
        "orders.reconcile.chart": (CheckKind.RECONCILE, Dimension.ACCURACY, "fail"),
    }
    for name, (kind, dimension, severity) in expected.items():
        assert (checks[name].kind, checks[name].dimension, checks[name].severity.value) == (
            kind, dimension, severity,
        ), name  # fmt: skip
    assert checks["order_lines.duplicate"].params == {"columns": ["order_id", "line_number"]}
    assert checks["order_lines.range.quantity"].params == {"min": 1, "max": 1000}
    assert checks["orders.range.order_date"].params == {"min": "2000-01-01", "max": None}
    assert "orders.pattern.status" not in checks
    assert {c.dimension for c in checks.values()} == set(Dimension)


def test_text_rules_of_personal_columns_accept_the_erased_text() -> None:
    """crm's e-mail and phone patterns also accept [erased] (an erased subject's row); country and sku do not."""
    crm = load_source(SOURCES_DIR / "crm.yaml")
    checks, customers = _by_name(crm), crm.entity("customers")
    for column in ("email", "phone"):
        pattern = customers.column(column).pattern
        assert checks[f"customers.pattern.{column}"].params == {"pattern": f"{ERASED_PATTERN}|{pattern}"}
    assert ERASED_TEXT not in checks["customers.allowed_values.country"].params["values"]
    assert (
        _by_name()["products.pattern.sku"].params["pattern"] == SHOP.entity("products").column("sku").pattern
    )


def test_row_count_only_for_entities_that_landed_rows() -> None:
    """``landed`` limits ``row_count`` to the entities whose interval landed rows."""
    checks = _by_name(landed={"orders"})
    assert [n for n in checks if n.endswith(".row_count")] == ["orders.row_count"]


def test_severity_override_and_freshness_hours_from_the_yaml() -> None:
    """``quality.severity`` changes one check; ``freshness_hours`` becomes the threshold in minutes."""
    config = _shop(
        severity={"orders.missing.status": "warn", "orders.freshness": "fail"}, freshness_hours=1.5
    )
    checks = _by_name(config)
    assert checks["orders.missing.status"].severity.value == "warn"
    assert checks["orders.missing.customer_id"].severity.value == "fail"
    assert checks["orders.freshness"].severity.value == "fail"
    document = yaml.safe_load(render_sodacl(generate_checks(config)))
    scoped = document["checks for shop__orders [interval]"]
    assert {"missing_count(status)": {"name": "orders.missing.status", "warn": "when > 0",
                                      "attributes": {"dimension": "completeness"}}} in scoped  # fmt: skip
    assert {"freshness(_promoted_at)": {"name": "orders.freshness", "fail": "when > 90m",
                                        "attributes": {"dimension": "timeliness"}}} in scoped  # fmt: skip


@pytest.mark.parametrize(
    ("quality", "key", "message"),
    [
        pytest.param({"severity": {"orders.missing.nope": "warn"}}, "quality.severity.orders.missing.nope",
                     "names no generated check", id="unknown-check"),
        pytest.param({"severity": {"orders.row_count": "loud"}}, "quality.severity.orders.row_count",
                     "'warn' or 'fail'", id="bad-severity"),
        pytest.param({"freshness_hours": 0}, "quality.freshness_hours", "greater than 0", id="zero-hours"),
        pytest.param({"freshnes_hours": 2}, "quality.freshnes_hours", "Extra inputs", id="typo"),
    ],
)  # fmt: skip
def test_bad_quality_section_names_file_key_and_value(
    quality: dict[str, Any], key: str, message: str
) -> None:
    """A bad ``quality`` key is refused with the file, the key path and the problem."""
    with pytest.raises(SourceConfigError) as err:
        _shop(**quality)
    text = str(err.value)
    assert "shop.yaml" in text
    assert key in text
    assert message in text


def test_sodacl_scopes_checks_to_the_interval_and_the_schema_to_the_whole_table() -> None:
    """Each table: an ``[interval]`` filter on ``_interval_start``; the schema check unfiltered."""
    document = yaml.safe_load(render_sodacl(generate_checks(SHOP)))
    assert document["filter shop__orders [interval]"] == {
        "where": "_interval_start >= '${interval_start}' AND _interval_start < '${interval_end}'"
    }
    whole = document["checks for shop__order_lines"]
    assert [next(iter(c)) for c in whole] == ["schema"]
    schema = whole[0]["schema"]["fail"]["when wrong column type"]
    assert (schema["quantity"], schema["updated_at"]) == ("integer", "timestamp with time zone")
    scoped = {c[next(iter(c))]["name"]: c for c in document["checks for shop__order_lines [interval]"]}
    query = scoped["order_lines.reference.products"]["failed rows"]["fail query"]
    assert (
        'NOT EXISTS (SELECT FROM chart."shop__products" AS p WHERE p."product_id" = c."product_id")' in query
    )
    assert "${interval_start}" in query
    assert scoped["order_lines.range.quantity"]["failed rows"]["fail condition"] == (
        '"quantity" < 1.0 OR "quantity" > 1000.0'
    )
    assert not any(".reconcile." in name for name in scoped)


def _write(folder: Path, text: str) -> Path:
    (folder / "shop").mkdir(parents=True, exist_ok=True)
    path = folder / "shop" / "orders.yml"
    path.write_text(text)
    return path


def test_hand_written_file_is_picked_up_per_table(tmp_path: Path) -> None:
    """``include/soda/<source>/*.yml`` is found with the tables and checks it names."""
    path = _write(tmp_path, "checks for shop__orders:\n  - row_count < 1000000:\n      name: orders.hand\n"
                            "      attributes: {dimension: validity}\n")  # fmt: skip
    [found] = hand_written_files(SHOP, tmp_path)
    assert (found.path, found.tables, found.checks) == (path, ("shop__orders",), ("orders.hand",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("checks for crm__customers:\n  - row_count > 0:\n      name: x\n",
                     "'crm__customers' is not a chart table of this source", id="other-table"),
        pytest.param("checks for shop__orders:\n  - row_count > 0:\n      name: x\n",
                     "attributes.dimension is None", id="no-dimension"),
        pytest.param("checks for shop__orders:\n  - row_count > 0\n", "needs a 'name'", id="no-name"),
    ],
)  # fmt: skip
def test_bad_hand_written_file_is_refused_naming_it(tmp_path: Path, text: str, message: str) -> None:
    """A hand-written file checking another table, or a check without name or dimension, is refused."""
    path = _write(tmp_path, text)
    with pytest.raises(QualityError) as err:
        hand_written_files(SHOP, tmp_path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_quality_show_prints_the_generated_sodacl_and_the_check_list(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``python -m atlas.cli quality show shop``: every check with dimension and severity, then the SodaCL."""
    from atlas.cli import main

    assert main(["quality", "show", "shop"]) == 0
    out = capsys.readouterr().out
    assert "#   orders.freshness: timeliness, warn (soda)" in out
    assert "#   orders.reconcile.chart: accuracy, fail (sql)" in out
    sodacl = yaml.safe_load("\n".join(line for line in out.splitlines() if not line.startswith("#")))
    assert sodacl == yaml.safe_load(render_sodacl(generate_checks(SHOP)))


def test_quality_show_of_an_unknown_source_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown source exits 2 and lists the known ones."""
    from atlas.cli import main

    assert main(["quality", "show", "nope"]) == 2
    assert "no source 'nope'" in capsys.readouterr().err
