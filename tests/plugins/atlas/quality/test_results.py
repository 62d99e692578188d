"""Soda's results file read back: dimension, outcome, metric and the kind of check."""

from __future__ import annotations

import pytest

from atlas.exceptions import QualityError
from atlas.quality.results import parse_scan_results


def a_check(definition: str, **fields: object) -> dict[str, object]:
    return {
        "name": "tickets.customer_known",
        "table": "support__tickets",
        "column": "customer_id",
        "definition": definition,
        "outcome": "warn",
        "diagnostics": {"value": 10.0},
        "resourceAttributes": [{"name": "dimension", "value": "completeness"}],
        **fields,
    }


@pytest.mark.parametrize(
    "definition",
    [
        pytest.param(
            "checks for support__tickets [interval]:\n- missing_percent(customer_id):\n", id="flush"
        ),
        pytest.param(
            "checks for support__tickets [interval]:\n  - missing_percent(customer_id):\n", id="indented"
        ),
    ],
)
def test_the_kind_of_check_is_its_metric_however_the_file_indents(definition: str) -> None:
    (result,) = parse_scan_results({"checks": [a_check(definition)]})
    assert (result.check_type, result.outcome, result.metric_value, result.dimension) == (
        "missing_percent",
        "warn",
        10.0,
        "completeness",
    )


def test_a_check_without_a_dimension_names_the_check() -> None:
    with pytest.raises(QualityError, match=r"'tickets\.customer_known' on 'support__tickets' has no"):
        parse_scan_results({"checks": [a_check("x", resourceAttributes=[])]})
