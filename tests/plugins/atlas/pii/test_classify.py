"""PII column classification on the labelled set, and the analyzer built from configuration."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from atlas.exceptions import AtlasError
from atlas.pii.classify import classify_column, names_a_person, words
from atlas.pii.engine import DEFAULT_PII_FILE, build_analyzer, load_settings
from atlas_dev.sample.pii_labels import labelled_columns

COLUMNS = labelled_columns(rows=40, seed=11)


@pytest.mark.parametrize("column", COLUMNS, ids=[c.label for c in COLUMNS])
def test_each_labelled_column_is_classified_as_labelled(column) -> None:
    """Positives get exactly their entities; hard negatives (ids, SKUs, IBAN-shaped codes,
    timestamps, amounts, order subjects, cities that are surnames) get none."""
    others = [c.name for c in COLUMNS if c.table == column.table and c.name != column.name]
    result = classify_column(
        column.name, column.values, hint=column.hint, free_text=column.free_text, other_columns=others
    )
    assert result.entities == column.expected, result.shares
    assert result.sampled == len(column.values)


def test_the_column_name_and_neighbours_decide_whether_a_name_is_a_persons() -> None:
    assert words("customerEmail2") == {"customer", "email"}
    assert names_a_person("first_name", None, [])
    assert names_a_person("CustomerName", None, [])
    assert names_a_person("name", None, ["email", "phone"])
    assert not names_a_person("name", None, ["sku", "unit_price"])  # a product's name
    assert not names_a_person("city", None, ["street"])
    assert names_a_person("x", "PERSON", [])


def test_the_allow_list_and_blanks_are_not_sampled() -> None:
    values = ["support@example.com"] * 5 + ["", None, "  "]
    result = classify_column("email", values)
    assert result.sampled == 0
    assert result.entities == frozenset()


def test_the_analyzer_needs_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """No model or suffix-list download: building and analysing work with every socket refused."""

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    engine = build_analyzer(load_settings())
    found = engine.analyze(text="write to anna.smith@example.org or anna@mail.de", language="en")
    assert sorted(r.entity_type for r in found) == ["EMAIL_ADDRESS", "EMAIL_ADDRESS"]


def write_settings(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(DEFAULT_PII_FILE.read_text()) | changes
    path = tmp_path / "pii.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_blank_pipeline_finds_patterns_but_no_person(tmp_path: Path) -> None:
    path = write_settings(tmp_path, nlp_model="blank")
    assert classify_column("email", ["a.b@example.com"] * 3, settings_file=path).entities == {"EMAIL_ADDRESS"}
    assert classify_column("full_name", ["Anna Müller"] * 3, settings_file=path).entities == frozenset()


def test_settings_errors_name_the_file_the_key_and_the_value(tmp_path: Path) -> None:
    bad_regex = write_settings(
        tmp_path, recognizers=[{"entity": "X", "name": "x", "score": 0.5, "patterns": ["("]}]
    )
    with pytest.raises(
        AtlasError, match=r"pii.yaml: invalid PII settings: recognizers\.0\.patterns = \['\('\]"
    ):
        load_settings(bad_regex)
    unknown = write_settings(tmp_path, entities={"PASSPORT": 0.5})
    with pytest.raises(AtlasError, match=r"entities \['PASSPORT'\] have no recognizer"):
        load_settings(unknown)
    score = write_settings(tmp_path, entities={"PERSON": 1.5})
    with pytest.raises(AtlasError, match="must be in"):
        load_settings(score)
