"""EnsurePartitionsOperator against a real warehouse: interval partitions, partitions ahead, catalog."""

from __future__ import annotations

import datetime as dt

import pytest

from atlas.hooks.warehouse import WarehouseHook
from atlas.operators.partitions import EnsurePartitionsOperator

pytestmark = pytest.mark.postgres


def _context(start: dt.datetime, end: dt.datetime) -> dict:
    return {"data_interval_start": start, "data_interval_end": end}


def _names(table: str) -> set[str]:
    return {name for name, _ in WarehouseHook().list_partitions(table)}


@pytest.mark.parametrize(
    ("start", "end", "ahead", "expected"),
    [
        pytest.param(
            dt.datetime(2031, 1, 5, tzinfo=dt.UTC),
            dt.datetime(2031, 1, 6, tzinfo=dt.UTC),
            0,
            ["203101"],
            id="day",
        ),
        pytest.param(
            dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
            dt.datetime(2031, 2, 1, tzinfo=dt.UTC),
            0,
            ["203101"],
            id="month-end-exclusive",
        ),
        pytest.param(
            dt.datetime(2031, 1, 1, tzinfo=dt.UTC),
            dt.datetime(2031, 3, 15, tzinfo=dt.UTC),
            0,
            ["203101", "203102", "203103"],
            id="span",
        ),
        pytest.param(
            dt.datetime(2031, 11, 30, tzinfo=dt.UTC),
            dt.datetime(2031, 11, 30, tzinfo=dt.UTC),
            2,
            ["203111", "203112", "203201"],
            id="ahead-zero-width",
        ),
    ],
)
def test_partitions_cover_the_interval_and_ahead(
    fresh_warehouse_dsn: str, start: dt.datetime, end: dt.datetime, ahead: int, expected: list[str]
) -> None:
    """The partitions holding [start, end) and `ahead` more months are created, no others."""
    before = _names("explore.raw_data")
    op = EnsurePartitionsOperator(task_id="ensure", ahead=ahead)
    result = op.execute(_context(start, end))
    wanted = [f"explore.raw_data_p{suffix}" for suffix in expected]
    assert result == {"explore.raw_data": wanted}
    assert _names("explore.raw_data") - before == set(wanted)


def test_catalog_mode_covers_every_known_partitioned_table(fresh_warehouse_dsn: str) -> None:
    """tables=None ensures each partitioned table of the catalog in its own grain."""
    start = dt.datetime(2033, 2, 10, tzinfo=dt.UTC)
    op = EnsurePartitionsOperator(task_id="ensure", tables=None, ahead=1)
    result = op.execute(_context(start, start + dt.timedelta(days=1)))
    assert result["explore.raw_data"] == ["explore.raw_data_p203302", "explore.raw_data_p203303"]
    assert result["compliance.audit_log"] == ["compliance.audit_log_p2033q1", "compliance.audit_log_p2033q2"]
    assert result["quality.check_results"] == ["quality.check_results_p2033", "quality.check_results_p2034"]
    for table, partitions in result.items():
        assert set(partitions) <= _names(table)


def test_operator_constructor_does_no_io() -> None:
    """Building the operator only stores its arguments (no connection is looked up)."""
    op = EnsurePartitionsOperator(
        task_id="ensure", tables=[("x.y", "month")], ahead=4, warehouse_conn_id="nope"
    )
    assert (op.tables, op.ahead, op.warehouse_conn_id) == ([("x.y", "month")], 4, "nope")
