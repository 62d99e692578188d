"""The retention section of a source YAML and the project's include/retention.yaml: periods, errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas.config import load_source
from atlas.config.retention import ProjectRetention, SourceRetention, describe, project_retention
from atlas.constants import INCLUDE_DIR
from atlas.exceptions import SourceConfigError
from tests.plugins.atlas.config.test_loader import BASE, _write


@pytest.mark.parametrize(
    ("text", "months"),
    [
        pytest.param("13 months", 13, id="months"),
        pytest.param("1 month", 1, id="one-month"),
        pytest.param("7 years", 84, id="years"),
        pytest.param("1 year", 12, id="one-year"),
        pytest.param("forever", None, id="forever"),
        pytest.param(18, 18, id="int-months"),
    ],
)
def test_periods_parse_to_months(text: Any, months: int | None) -> None:
    """A period is N months, N years or forever, held in months."""
    assert SourceRetention.model_validate({"explore": text}).explore == months


BAD_PERIODS: dict[str, Any] = {
    "no-unit": "13",
    "zero": "0 months",
    "weeks": "2 weeks",
    "negative": "-1 years",
    "bool": True,
    "never": "never",
}
"""Values that are not a period, by test id."""


@pytest.mark.parametrize("text", [pytest.param(value, id=key) for key, value in BAD_PERIODS.items()])
def test_bad_periods_are_refused_with_file_and_key(tmp_path: Path, text: Any) -> None:
    """A source whose retention period is not a period fails to load, naming the key and the value."""
    path = _write(tmp_path, BASE | {"retention": {"navigate": text}})
    with pytest.raises(SourceConfigError) as info:
        load_source(path)
    assert "retention.navigate" in str(info.value)
    assert "a retention period is" in str(info.value)


def test_source_retention_section_is_read(tmp_path: Path) -> None:
    """retention: explore, navigate and per-table periods reach the source's model; unset keys stay unset."""
    doc = BASE | {"retention": {"explore": "2 years", "tables": {"fact_orders": "forever"}}}
    retention = load_source(_write(tmp_path, doc)).retention
    assert retention.explore == 24
    assert retention.tables == {"fact_orders": None}
    assert retention.is_set("explore")
    assert not retention.is_set("navigate")
    assert load_source(_write(tmp_path, BASE)).retention == SourceRetention()


def test_unknown_retention_key_is_refused(tmp_path: Path) -> None:
    """A key the retention section does not know is an error, not silently ignored."""
    with pytest.raises(SourceConfigError, match=r"retention\.keep"):
        load_source(_write(tmp_path, BASE | {"retention": {"keep": "1 year"}}))


def test_project_file_shipped_matches_the_built_in_defaults() -> None:
    """include/retention.yaml says what the issue asks: explore 13 months, audit log 7 years."""
    shipped = project_retention(INCLUDE_DIR / "retention.yaml")
    assert shipped == ProjectRetention()
    assert (shipped.explore, shipped.audit_log, shipped.navigate) == (13, 84, None)


def test_project_file_errors_name_the_file_and_key(tmp_path: Path) -> None:
    """A bad project file raises naming the file, retention.<key> and the value; a missing one gives defaults."""
    path = tmp_path / "retention.yaml"
    assert project_retention(path) == ProjectRetention()
    path.write_text(
        yaml.safe_dump({"retention": {"explore": "soon", "bucket": "Bad_Bucket"}}), encoding="utf-8"
    )
    problems = _problems(path)
    assert problems[0].startswith(f"{path}: ")
    assert any(line.startswith("- retention.explore = 'soon': ") for line in problems[1:])
    assert any(line.startswith("- retention.bucket = 'Bad_Bucket': ") for line in problems[1:])
    path.write_text("other: 1\n", encoding="utf-8")
    with pytest.raises(SourceConfigError, match="expected one mapping 'retention:'"):
        project_retention(path)


def _problems(path: Path) -> list[str]:
    """The lines of the error loading the project file ``path`` raises."""
    with pytest.raises(SourceConfigError) as info:
        project_retention(path)
    return [line.strip() for line in str(info.value).splitlines()]


@pytest.mark.parametrize(
    ("months", "text"),
    [
        pytest.param(None, "forever"),
        pytest.param(13, "13 months"),
        pytest.param(12, "1 year"),
        pytest.param(84, "7 years"),
    ],
)
def test_describe(months: int | None, text: str) -> None:
    """Periods are shown as they are written."""
    assert describe(months) == text
