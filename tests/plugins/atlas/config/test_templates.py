"""Interval templates (files ``path``, HTTP ``params``): only {start} and {end}, strftime formats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas.config import load_source
from atlas.config.templates import render, template_problem
from atlas.exceptions import SourceConfigError

COLUMNS = [{"name": "id"}]


def load_problems(tmp_path: Path, document: dict[str, Any]) -> str:
    """The error text of loading ``document`` as ``demo.yaml``."""
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with pytest.raises(SourceConfigError) as info:
        load_source(path)
    return str(info.value)


@pytest.mark.parametrize(
    ("template", "says"),
    [
        pytest.param("{stat:%Y}/x.csv", "{stat:%Y} is not a field of the interval", id="unknown-field"),
        pytest.param("{0}.csv", "{0} is not a field of the interval", id="positional"),
        pytest.param("{}.csv", "{} is not a field of the interval", id="auto-numbered"),
        pytest.param("{start.__class__}", "{start.__class__} is not a field", id="attribute"),
        pytest.param("{start[0]}", "{start[0]} is not a field", id="index"),
        pytest.param("{start!r}", "not a conversion", id="conversion"),
        pytest.param("{start:{end}}", "cannot hold another field", id="nested-field"),
        pytest.param("{start:%Q}", "'%Q' is not a strftime directive", id="unknown-directive"),
        pytest.param("{start:%s}", "'%s' is not a strftime directive", id="glibc-epoch"),
        pytest.param("{start:%-d}", "'%-' is not a strftime directive", id="glibc-flag"),
        pytest.param("{start:%Y%}", "a lone '%' at the end", id="lone-percent"),
        pytest.param("{start:Y-m-d}", "holds no strftime directive", id="no-directive"),
        pytest.param("{start:%Y", "unmatched '{' in format spec", id="unclosed"),
        pytest.param("x/{start", "expected '}' before end of string", id="unclosed-name"),
        pytest.param("start}.csv", "Single '}' encountered", id="lone-close"),
        pytest.param("x}{start:%Y}", "Single '}' encountered", id="close-before-open"),
    ],
)
def test_a_bad_template_is_refused_with_the_reason(template: str, says: str) -> None:
    """Anything but {start} or {end} with a documented strftime format is refused, saying why."""
    problem = template_problem(template)
    assert problem is not None
    assert says in problem


@pytest.mark.parametrize(
    "template",
    [
        pytest.param("customers/{start:%Y/%m}/customers_{start:%Y%m%d}.csv", id="crm-sample"),
        pytest.param("{start:%Y-%m-%dT%H:%M:%SZ}", id="iso-timestamp"),
        pytest.param("{end:%G-W%V-%u}", id="iso-week"),
        pytest.param("{{literal}}/{start:%j}.csv", id="escaped-braces"),
        pytest.param("{start}", id="no-format"),
        pytest.param("{start:100%%-%d}", id="escaped-percent"),
        pytest.param("orders/*.csv", id="no-field"),
    ],
)
def test_a_good_template_passes(template: str) -> None:
    """{start} / {end} with documented directives, literal text and escaped braces are accepted."""
    assert template_problem(template) is None


def test_render_fills_the_interval() -> None:
    """render() formats start and end, the one way templates are filled."""
    start = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    assert render("a/{start:%Y/%m/%d}_{end:%d}{{x}}.csv", start, end) == "a/2026/01/02_03{x}.csv"


def test_a_files_path_with_an_unknown_field_names_file_key_and_value(tmp_path: Path) -> None:
    """A files entity's path {stat:%Y} is refused on load with the file, key path and value."""
    message = load_problems(
        tmp_path,
        {
            "name": "demo",
            "start_date": "2026-01-01",
            "connector": {"type": "files", "format": "csv", "location": "include/sample_data/demo"},
            "entities": [{"name": "orders", "path": "{stat:%Y}/x.csv", "key": ["id"], "columns": COLUMNS}],
        },
    )
    assert str(tmp_path / "demo.yaml") in message
    assert "  - entities[0].path = '{stat:%Y}/x.csv': {stat:%Y} is not a field of the interval" in message


def test_an_http_param_with_an_attribute_names_file_key_and_value(tmp_path: Path) -> None:
    """An HTTP entity's params value {start.__class__} is refused naming the parameter's key."""
    entity = {
        "name": "tickets",
        "endpoint": "/api/tickets",
        "params": {"updated_from": "{start:%Y-%m-%d}", "updated_to": "{start.__class__}"},
        "key": ["id"],
        "columns": COLUMNS,
    }
    message = load_problems(
        tmp_path,
        {
            "name": "demo",
            "start_date": "2026-01-01",
            "connector": {"type": "http", "conn_id": "demo_api"},
            "entities": [entity],
        },
    )
    assert str(tmp_path / "demo.yaml") in message
    assert (
        "  - entities[0].params.updated_to = '{start.__class__}': {start.__class__} is not a field" in message
    )
    assert "updated_from" not in message
