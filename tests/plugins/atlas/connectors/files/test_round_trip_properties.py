"""Property: whatever a valid CSV or JSON lines file holds, every record reaches chart byte for byte
(trim and empty_as_null off) or is quarantined with a reason, and the counts reconcile.

Header names and values are arbitrary Unicode (quotes, separators, newlines, carriage returns,
backslashes, tabs, NUL in values, fields over the old 128 KiB csv limit), written by Python's own
csv writer or as JSON; each example lands and promotes for real against PostgreSQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from atlas.batches import Interval
from atlas.config import parse_source
from atlas.connectors import open_connector
from atlas.hooks.chart import ChartHook
from atlas.hooks.warehouse import WarehouseHook

DAY = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
INTERVAL = Interval(DAY, DAY + dt.timedelta(days=1))
_counter = itertools.count()

_TEXT = st.characters(blacklist_categories=("Cs",))  # any code point a UTF-8 file can hold
names = st.lists(
    st.text(_TEXT.filter(lambda c: c != "\x00"), min_size=1, max_size=12).filter(lambda n: n != "id"),
    min_size=1,
    max_size=4,
    unique=True,
)
values = st.one_of(
    st.text(_TEXT, max_size=40),
    st.sampled_from(["", " ", '"', '""', ",", "\\", "\t", "\r\n", "\n\n", " padded ", "a\x00b"]),
    st.integers(130_000, 140_000).map(lambda n: "x" * n),  # over csv's default field limit
)


@st.composite
def tables(draw: Any) -> tuple[list[str], list[list[str]]]:
    header = draw(names)
    count = draw(st.integers(1, 6))
    rows = [[draw(values) for _ in header] for _ in range(count)]
    return header, rows


def _write(folder: Path, fmt: str, header: list[str], rows: list[list[str]]) -> None:
    folder.mkdir(parents=True)
    if fmt == "csv":
        text = io.StringIO(newline="")
        writer = csv.writer(text)  # QUOTE_MINIMAL, \r\n: a value with \r or \n is quoted
        writer.writerow(["id", *header])
        writer.writerows([str(i), *row] for i, row in enumerate(rows, 1))
        (folder / "day.csv").write_bytes(text.getvalue().encode("utf-8"))
    else:
        lines = [
            orjson.dumps({"id": str(i), **dict(zip(header, row, strict=True))})
            for i, row in enumerate(rows, 1)
        ]
        (folder / "day.jsonl").write_bytes(b"\n".join(lines) + b"\n")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_every_record_reaches_chart_exactly_or_is_quarantined(
    fresh_warehouse_dsn: str, tmp_path: Path, fmt: str, table: tuple[list[str], list[list[str]]]
) -> None:
    """Each row lands and promotes unchanged, or (a NUL, which jsonb cannot hold) is quarantined; counts add up."""
    header, rows = table
    name = f"prop{next(_counter)}"
    folder = tmp_path / name
    _write(folder, fmt, header, rows)
    config = parse_source(
        {
            "name": name,
            "start_date": "2026-01-01",
            "connector": {"type": "files", "format": fmt, "location": str(folder)},
            "entities": [
                {
                    "name": "rows",
                    "path": f"day.{fmt}",
                    "key": ["id"],
                    "trim": False,
                    "empty_as_null": False,
                    "columns": [{"name": "id"}]
                    + [{"name": f"c{i}", "source_field": field} for i, field in enumerate(header)],
                }
            ],
        },
        f"{name}.yaml",
    )
    entity = config.entity("rows")
    hook = WarehouseHook()
    hook.ensure_partitions("explore.raw_data", "month", INTERVAL.start, INTERVAL.start)
    landed = hook.land_batch(
        source=name,
        entity="rows",
        interval=INTERVAL,
        key_columns=entity.key_fields,
        chunks=open_connector(config).extract(entity, INTERVAL),
    )
    promoted = ChartHook().promote(config, "rows", INTERVAL)

    with_nul = {str(i) for i, row in enumerate(rows, 1) if any("\x00" in v for v in row)}
    assert landed.rows_read == len(rows)
    assert (landed.rows_landed, landed.rows_quarantined) == (len(rows) - len(with_nul), len(with_nul))
    assert (promoted.rows_landed, promoted.rows_promoted, promoted.rows_rejected) == (
        landed.rows_landed,
        landed.rows_landed,
        0,
    )
    columns = sql.SQL(", ").join(sql.Identifier(f"c{i}") for i in range(len(header)))
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        chart = conn.execute(
            sql.SQL("SELECT id, {} FROM chart.{} ORDER BY id::int").format(
                columns, sql.Identifier(f"{name}__rows")
            )
        ).fetchall()
        reasons = conn.execute(
            "SELECT reason FROM explore.quarantine WHERE source_name = %s", (name,)
        ).fetchall()
    expected = [(str(i), *row) for i, row in enumerate(rows, 1) if str(i) not in with_nul]
    assert chart == expected
    assert [r for (r,) in reasons] == ["payload holds a NUL character (jsonb cannot)"] * len(with_nul)
