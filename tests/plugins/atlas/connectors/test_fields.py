"""Source fields against declared columns: what always fails, what on_unknown_columns decides."""

from __future__ import annotations

from typing import Any

import pytest

from atlas.config.source import Entity
from atlas.connectors.base import Chunk
from atlas.connectors.fields import RecordFields, check_fields
from atlas.exceptions import ConnectorError


def entity(**options: Any) -> Entity:
    """id (the key), note, and ``user`` read from the source field ``User Name``."""
    columns = [{"name": "id"}, {"name": "note"}, {"name": "user", "source_field": "User Name"}]
    return Entity(name="things", key=["id"], columns=columns, **options)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            ["id", "note", "note", "User Name"], "the field 'note' appears 2 times (positions 2, 3)", id="dup"
        ),
        pytest.param(["id", "no\x00te", "User Name"], "hold a NUL character", id="nul"),
        pytest.param(["note", "User Name"], "no field 'id' for key column 'id'", id="no-key"),
        pytest.param([" ID", "note", "User Name"], "(found ' ID': set `source_field`", id="key-case"),
    ],
)
def test_fatal_problems_fail_whatever_the_policy(fields: list[str], message: str) -> None:
    """Duplicates, NUL and a missing key field fail even with on_unknown_columns: ignore."""
    with pytest.raises(ConnectorError) as info:
        check_fields(fields, entity(on_unknown_columns="ignore"), "f.csv header")
    assert message in str(info.value)
    assert str(info.value).startswith("f.csv header: ")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        pytest.param(
            ["id", "Note", "User Name"], "field 'Note' matches the field 'note' of column 'note'", id="case"
        ),
        pytest.param(["id", " note ", "User Name"], "field ' note ' matches the field 'note'", id="spaces"),
        pytest.param(
            ["id", "note", "User Name", "extra"], "field(s) 'extra' match no declared column", id="undeclared"
        ),
        pytest.param(["id", "User Name"], "no field 'note' for the declared column(s)", id="missing"),
        pytest.param(["id", "note", "User Name", ""], "field(s) at position 4 have no name", id="empty"),
    ],
)
def test_policy_problems_warn_fail_or_pass(fields: list[str], message: str) -> None:
    """warn returns the problem as a note, fail raises it, ignore says nothing."""
    notes = check_fields(fields, entity(), "f.csv header")
    assert any(message in note for note in notes), notes
    with pytest.raises(ConnectorError, match="on_unknown_columns: fail"):
        check_fields(fields, entity(on_unknown_columns="fail"), "f.csv header")
    assert check_fields(fields, entity(on_unknown_columns="ignore"), "f.csv header") == []


def test_matching_fields_say_nothing() -> None:
    """The declared fields (source_field included), in any order, give no note."""
    assert check_fields(["User Name", "note", "id"], entity(), "f.csv header") == []


def test_records_without_a_schema_are_checked_once_per_new_key() -> None:
    """JSON records: an undeclared key is noted once per extract; a record lacking a field is not a problem."""
    check = RecordFields(entity(), "GET /api")
    first = check.check(Chunk(records=[({"id": 1, "extra": 2}, "a#1"), ({"id": 2}, "a#2")]))
    assert first.notes == ["GET /api: field(s) 'extra' match no declared column (they land in explore only)"]
    again = check.check(Chunk(records=[({"id": 3, "extra": 4}, "a#3")]))
    assert again.notes == []
