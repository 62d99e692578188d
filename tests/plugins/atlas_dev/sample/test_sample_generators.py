"""The sample generators: deterministic, day-specific, with the bad rows when asked."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import psycopg
import pytest

from atlas_dev.sample import generate
from atlas_dev.sample.bench import BENCH_COLUMNS, write_bench_csv
from atlas_dev.sample.cli import main
from atlas_dev.sample.crm import COLUMNS, MOVING_CUSTOMER_ID, customer_file, generate_crm
from atlas_dev.sample.shop import build_shop
from atlas_dev.sample.support import BURST_FACTOR, TICKETS_PER_DAY, generate_tickets

START, END = dt.date(2026, 1, 1), dt.date(2026, 1, 4)


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in ("crm", "support")])
def test_same_seed_gives_byte_identical_files(tmp_path: Path, name: str) -> None:
    """Two runs with the same seed write identical bytes; another seed differs."""
    generate(name, tmp_path / "a", START, END)
    generate(name, tmp_path / "b", START, END)
    generate(name, tmp_path / "c", START, END, seed=8)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert tree(tmp_path / "a") != tree(tmp_path / "c")


def test_crm_days_differ_and_hold_only_that_day(tmp_path: Path) -> None:
    """Each day's file differs and its valid rows were updated on that day; day 1 is the population."""
    files = generate_crm(tmp_path, START, END, bad_rows=False)
    assert files == [customer_file(tmp_path, START + dt.timedelta(days=i)) for i in range(3)]
    days = [list(csv.DictReader(io.StringIO(f.read_text()))) for f in files]
    assert len(days[0]) == 1000
    assert days[1] != days[2]
    for index, rows in enumerate(days):
        assert list(rows[0]) == list(COLUMNS)
        assert {r["updated_at"][:10] for r in rows} == {(START + dt.timedelta(days=index)).isoformat()}


def test_crm_moving_customer_changes_address_on_day_two(tmp_path: Path) -> None:
    """Customer 1 appears on day 1 and again on day 2 in another city, nowhere else."""
    files = generate_crm(tmp_path, START, END, bad_rows=False)
    seen = [
        [r for r in csv.DictReader(io.StringIO(f.read_text())) if r["customer_id"] == str(MOVING_CUSTOMER_ID)]
        for f in files
    ]
    assert [len(s) for s in seen] == [1, 1, 0]
    before, after = seen[0][0], seen[1][0]
    assert before["city"] != after["city"]
    assert {k: v for k, v in before.items() if k not in ("street", "city", "postal_code", "updated_at")} == {
        k: v for k, v in after.items() if k not in ("street", "city", "postal_code", "updated_at")
    }


def test_crm_bad_rows_only_when_asked(tmp_path: Path) -> None:
    """With bad_rows the files hold a wide row, an unterminated quote, invalid UTF-8 and invalid values."""
    clean = generate_crm(tmp_path / "clean", START, END, bad_rows=False)[1].read_bytes()
    dirty = generate_crm(tmp_path / "dirty", START, END, bad_rows=True)[1].read_bytes()
    clean.decode("utf-8")
    with pytest.raises(UnicodeDecodeError):
        dirty.decode("utf-8")
    text = dirty.decode("utf-8", errors="replace")
    lines = text.splitlines()
    assert any(line.count(",") == len(COLUMNS) for line in lines)  # one field too many
    assert sum(line.count('"') % 2 for line in lines) == 1  # one unterminated quote
    assert ",XX," in text
    assert " at " in text
    assert ",2086-05-01," in text
    assert any(line.split(",")[2] == "" for line in lines[1:] if line.count(",") == len(COLUMNS) - 1)


def test_shop_is_deterministic_and_has_later_updates() -> None:
    """build_shop is deterministic and later days update earlier orders."""
    first = build_shop(START, END)
    assert first == build_shop(START, END)
    assert first != build_shop(START, END, seed=8)
    _, orders, lines = first
    moved = [o for o in orders.values() if o[5].date() > o[2]]
    assert moved
    assert {o[3] for o in moved} - {"placed"}
    assert {len([line for line in lines if line[0] == order_id]) for order_id in orders} <= set(range(1, 6))
    assert all(o[2] == o[5].date() for o in orders.values() if o[3] == "placed")
    assert all(1 <= o[1] <= 1000 for o in orders.values())


def test_shop_fills_a_database(empty_db_dsn: str) -> None:
    """generate('shop') creates schema shop and loads the generated rows."""
    counts = generate("shop", empty_db_dsn, START, END)
    with psycopg.connect(empty_db_dsn) as conn:
        for table, count in counts.items():
            assert conn.execute(f"SELECT count(*) FROM shop.{table}").fetchone() == (count,)
        assert conn.execute("SELECT count(*) FROM shop.order_lines WHERE quantity = 0").fetchone() == (3,)


def test_support_tickets_mention_people() -> None:
    """Ticket bodies carry names, e-mail addresses or phone numbers; bad records only when asked."""
    tickets = generate_tickets(START, END)
    bodies = [t.record["body"] for t in tickets if isinstance(t.record, dict)]
    assert all(b.startswith("Hello, this is ") for b in bodies)
    assert sum("@" in b for b in bodies) > len(bodies) // 3
    assert sum("+" in b for b in bodies) > len(bodies) // 3
    assert sum(not isinstance(t.record, dict) for t in tickets) == 3
    assert all(isinstance(t.record, dict) for t in generate_tickets(START, END, bad_rows=False))


def test_a_support_burst_day_opens_ten_times_the_tickets() -> None:
    """The demo's anomaly: on the burst day ten times the usual tickets open; other days are unchanged."""
    burst = START + dt.timedelta(days=1)

    def opened(tickets: list[Any]) -> dict[str, int]:
        days = [t.record["opened_at"][:10] for t in tickets if isinstance(t.record, dict)]
        return {day: days.count(day) for day in sorted(set(days))}

    usual = opened(generate_tickets(START, END, bad_rows=False))
    assert set(usual.values()) == {TICKETS_PER_DAY}
    assert opened(generate_tickets(START, END, bad_rows=False, burst=burst)) == usual | {
        burst.isoformat(): BURST_FACTOR * TICKETS_PER_DAY
    }


def test_csv_bench_is_deterministic(tmp_path: Path) -> None:
    """csv-bench writes N rows of 10 columns, identical for the same seed."""
    size = write_bench_csv(tmp_path / "a.csv", 50_000)
    write_bench_csv(tmp_path / "b.csv", 50_000)
    data = (tmp_path / "a.csv").read_bytes()
    assert size == len(data)
    assert data == (tmp_path / "b.csv").read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode())))
    assert rows[0] == list(BENCH_COLUMNS)
    assert len(rows) == 50_001
    assert {len(r) for r in rows} == {10}


def test_cli_generates_crm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m atlas_dev.sample crm`` writes one file per day of [start, end)."""
    code = main(
        ["crm", "--out", str(tmp_path), "--start", "2026-01-01", "--end", "2026-01-03", "--no-bad-rows"]
    )
    assert code == 0
    assert "wrote 2 file(s)" in capsys.readouterr().out
    assert len(list(tmp_path.rglob("*.csv"))) == 2
