"""A small files source written to a temporary folder, for tests that run ``atlas.cli run``."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import psycopg
import pytest

SOURCE_YAML = """\
name: {name}
owner: data-team
schedule: "@daily"
start_date: 2026-01-01
connector:
  type: files
  format: csv
  location: {location}
  select: path
entities:
  - name: orders
    path: "orders/{{start:%Y%m%d}}.csv"
    key: [order_id]
    columns:
      - {{name: order_id, type: bigint, required: true}}
      - {{name: amount, type: numeric, required: true}}
"""
DAY = dt.date(2026, 1, 5)
ORDERS_CSV = "order_id,amount\n1,10.5\n2,abc\n3,7\n4,1,extra\n"
"""Four records: two good, one whose amount is no number (rejected in chart), one wider than
its header (quarantined at ingest)."""
EXPECTED_COUNTS = (4, 3, 1, 2, 1)
"""read, landed, quarantined, promoted, rejected of the orders batch of ``DAY``."""


def write_source(folder: Path, name: str, location: Path) -> Path:
    """A files source ``name`` in ``folder`` reading ``location/orders/<day>.csv``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(SOURCE_YAML.format(name=name, location=location), encoding="utf-8")
    return path


def write_orders(location: Path, day: dt.date = DAY) -> None:
    """The orders file of ``day`` under ``location``."""
    (location / "orders").mkdir(parents=True, exist_ok=True)
    (location / "orders" / f"{day:%Y%m%d}.csv").write_text(ORDERS_CSV, encoding="utf-8")


def printed_batch(out: str, entity: str) -> tuple[int, ...]:
    """The read, landed, quarantined, promoted and rejected counts ``run`` printed for ``entity``."""
    match = re.search(rf"^\s+{entity}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s", out, flags=re.MULTILINE)
    assert match, out
    return tuple(int(n) for n in match.groups())


def use_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, *, orders: bool = True) -> Path:
    """The source ``name`` alone in ``tmp_path/sources``, which ``$ATLAS_SOURCES_DIR`` names; the orders of
    ``DAY`` in ``tmp_path/data`` unless ``orders`` is false (then the folder is missing)."""
    if orders:
        write_orders(tmp_path / "data")
    monkeypatch.setenv("ATLAS_SOURCES_DIR", str(tmp_path / "sources"))
    return write_source(tmp_path / "sources", name, tmp_path / "data")


def stored_batch(dsn: str, source: str, day: dt.date = DAY) -> list[tuple[int, ...]]:
    """The counts ``pipeline.batches`` holds for the daily interval of ``day`` of ``source``."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT rows_read, rows_landed, rows_quarantined, rows_promoted, rows_rejected "
            "FROM pipeline.batches WHERE source_name = %s AND interval_start = %s AND interval_end = %s",
            (source, start, start + dt.timedelta(days=1)),
        ).fetchall()
