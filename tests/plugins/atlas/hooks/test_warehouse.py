"""WarehouseHook against a real migrated PostgreSQL warehouse: batches, partitions, registry."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import psycopg
import pytest

from atlas.batches import Interval, batch_id
from atlas.config import load_source
from atlas.connectors.base import Chunk, Reject
from atlas.exceptions import PartitionError
from atlas.hooks.warehouse import WarehouseHook
from atlas.partitions import add_grains, partition_grain

pytestmark = pytest.mark.postgres

JAN = Interval(dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 1, 2, tzinfo=dt.UTC))
ROOT = Path(__file__).resolve().parents[4]


def _records(n: int, version: int = 1, start: int = 0) -> list[tuple[dict, str]]:
    return [
        ({"id": i, "name": f"name {i} v{version}", "city": 'Zürich\t\\ "q"\n'}, f"file.csv:{i + 2}")
        for i in range(start, start + n)
    ]


def _chunks(n_chunks: int, size: int, version: int = 1) -> Iterator[Chunk]:
    for c in range(n_chunks):
        yield Chunk(records=_records(size, version, start=c * size))


def _land(hook: WarehouseHook, chunks, interval: Interval = JAN, key=("id",)):
    return hook.land_batch(
        source="crm",
        entity="customers",
        interval=interval,
        key_columns=list(key),
        chunks=chunks,
        dag_id="atlas_crm",
        run_id="manual__test",
    )


def _raw_rows(dsn: str, interval: Interval = JAN) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT record_key, payload_checksum, payload, tableoid::regclass::text FROM explore.raw_data "
            "WHERE interval_start = %s ORDER BY record_key",
            (interval.start,),
        ).fetchall()


def _one(dsn: str, query: str, params=()) -> tuple:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchone()


@pytest.fixture
def hook(fresh_warehouse_dsn: str) -> WarehouseHook:
    """A hook on a fresh warehouse whose January 2025 partition exists."""
    hook = WarehouseHook()
    hook.ensure_partitions("explore.raw_data", "month", JAN.start, JAN.start)
    return hook


def test_landing_twice_is_idempotent(hook: WarehouseHook, fresh_warehouse_dsn: str) -> None:
    """Landing the same interval twice leaves the same rows, counts, checksum and one batch row."""
    first = _land(hook, _chunks(3, 50))
    rows_first = _raw_rows(fresh_warehouse_dsn)
    second = _land(hook, _chunks(3, 50))
    rows_second = _raw_rows(fresh_warehouse_dsn)

    assert first.rows_landed == second.rows_landed == 150
    assert first.checksum == second.checksum
    assert [r[:2] for r in rows_first] == [r[:2] for r in rows_second]
    assert len(rows_second) == 150
    assert {r[3] for r in rows_second} == {"explore.raw_data_p202501"}
    count = _one(fresh_warehouse_dsn, "SELECT count(*) FROM pipeline.batches")[0]
    assert count == 1
    stored = hook.batch_counts(first.batch_id)
    assert stored["batch_id"] == batch_id("crm", "customers", JAN)
    assert (stored["rows_read"], stored["rows_landed"], stored["rows_quarantined"]) == (150, 150, 0)
    assert stored["checksum"] == first.checksum
    assert stored["status"] == "landed"
    assert (stored["dag_id"], stored["run_id"]) == ("atlas_crm", "manual__test")


def test_checksums_follow_the_documented_formats(hook: WarehouseHook, fresh_warehouse_dsn: str) -> None:
    """payload_checksum is md5 of the sorted orjson text; the batch checksum is their sum mod 2**128."""
    result = _land(hook, _chunks(1, 20))
    rows = _raw_rows(fresh_warehouse_dsn)
    total = 0
    for key, checksum, payload, _ in rows:
        text = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
        assert hashlib.md5(text).hexdigest() == checksum
        assert payload["city"] == 'Zürich\t\\ "q"\n'
        assert key == str(payload["id"])
        total += int(checksum, 16)
    assert result.checksum == f"{total % 2**128:032x}"


def test_crash_mid_batch_keeps_previous_landing(hook: WarehouseHook, fresh_warehouse_dsn: str) -> None:
    """A connector failing after k chunks leaves the previous batch intact; the retry lands whole."""
    _land(hook, _chunks(2, 40, version=1))
    before = _raw_rows(fresh_warehouse_dsn)
    batch_before = hook.batch_counts(batch_id("crm", "customers", JAN))

    def crashing() -> Iterator[Chunk]:
        yield from _chunks(2, 60, version=2)
        raise ConnectionError("source went away after 2 chunks")

    with pytest.raises(ConnectionError, match="went away"):
        _land(hook, crashing())
    assert _raw_rows(fresh_warehouse_dsn) == before
    assert hook.batch_counts(batch_id("crm", "customers", JAN)) == batch_before

    retried = _land(hook, _chunks(3, 60, version=2))
    after = _raw_rows(fresh_warehouse_dsn)
    assert retried.rows_landed == len(after) == 180
    assert all(r[2]["name"].endswith("v2") for r in after)
    assert hook.batch_counts(retried.batch_id)["rows_landed"] == 180


@pytest.mark.parametrize(
    ("key", "bad_payload", "reason"),
    [
        pytest.param(("id",), {"name": "no id"}, "missing key field 'id'", id="absent"),
        pytest.param(("id",), {"id": "", "name": "empty id"}, "missing key field 'id'", id="empty"),
        pytest.param(("id", "name"), {"id": 7, "name": None}, "missing key field 'name'", id="composite"),
    ],
)
def test_rejects_and_missing_keys_are_quarantined(
    hook: WarehouseHook, fresh_warehouse_dsn: str, key: tuple, bad_payload: dict, reason: str
) -> None:
    """Rejects and keyless records land in explore.quarantine with a reason: read = landed + quarantined."""
    chunk = Chunk(
        records=[*_records(5), (bad_payload, "file.csv:99")],
        rejects=[Reject("file.csv", 100, "a,b,c,d", "row has 4 fields, header has 3")],
    )
    result = _land(hook, [chunk], key=key)
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (7, 5, 2)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        reasons = conn.execute(
            "SELECT reason, line_number, raw_record, source_location FROM explore.quarantine "
            "WHERE batch_id = %s ORDER BY reason",
            (result.batch_id,),
        ).fetchall()
    assert [r[0] for r in reasons] == sorted([reason, "row has 4 fields, header has 3"])
    assert ("row has 4 fields, header has 3", 100, "a,b,c,d", "file.csv") in reasons
    assert (reason, 99, "file.csv:99") in [
        (r[0], r[1], r[3]) for r in reasons
    ]  # the line of the keyless record
    stored = hook.batch_counts(result.batch_id)
    assert stored["rows_read"] == stored["rows_landed"] + stored["rows_quarantined"] == 7
    again = _land(hook, [chunk], key=key)
    assert again.rows_quarantined == 2
    count = _one(fresh_warehouse_dsn, "SELECT count(*) FROM explore.quarantine")[0]
    assert count == 2


def test_nul_in_payload_is_quarantined(hook: WarehouseHook, fresh_warehouse_dsn: str) -> None:
    """A payload with a NUL character (jsonb cannot hold it) is quarantined, the rest lands."""
    chunk = Chunk(records=[({"id": 1, "v": "a\x00b"}, "x"), ({"id": 2, "v": "ok \\u0000 text"}, "x")])
    result = _land(hook, [chunk])
    assert (result.rows_landed, result.rows_quarantined) == (1, 1)
    reason = _one(fresh_warehouse_dsn, "SELECT reason FROM explore.quarantine")[0]
    assert "NUL" in reason
    assert _raw_rows(fresh_warehouse_dsn)[0][2]["v"] == "ok \\u0000 text"


def test_missing_partition_fails_loudly(fresh_warehouse_dsn: str) -> None:
    """No default partition: landing or inserting into a month without a partition fails."""
    hook = WarehouseHook()
    old = Interval(dt.datetime(2019, 3, 1, tzinfo=dt.UTC), dt.datetime(2019, 3, 2, tzinfo=dt.UTC))
    with pytest.raises(PartitionError, match="no partition for interval_start 2019-03-01"):
        _land(hook, _chunks(1, 3), interval=old)
    assert hook.batch_counts(batch_id("crm", "customers", old)) is None
    defaults = _one(
        fresh_warehouse_dsn,
        "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partdefid",
    )[0]
    assert defaults == 0
    with psycopg.connect(fresh_warehouse_dsn) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, payload, "
            "payload_checksum) VALUES ('s', 'e', gen_random_uuid(), '2019-03-05', '{}', md5('{}'))"
        )


def test_concurrent_ensure_partitions(fresh_warehouse_dsn: str) -> None:
    """Two threads ensuring the same partitions at once both succeed and agree."""
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []
    start, end = dt.datetime(2030, 1, 1, tzinfo=dt.UTC), dt.datetime(2030, 12, 1, tzinfo=dt.UTC)

    def worker() -> None:
        try:
            barrier.wait()
            results.append(WarehouseHook().ensure_partitions("explore.raw_data", "month", start, end))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results[0] == results[1]
    assert len(results[0]) == 12
    names = {name for name, _ in WarehouseHook().list_partitions("explore.raw_data")}
    assert {f"explore.raw_data_p2030{m:02d}" for m in range(1, 13)} <= names


def test_sync_source_system_upserts(fresh_warehouse_dsn: str) -> None:
    """The source registry gets one row per source, with its config and a stable checksum."""
    hook = WarehouseHook()
    config = load_source(ROOT / "include" / "sources" / "crm.yaml")
    assert hook.sync_source_system(config) is True
    assert hook.sync_source_system(config) is False
    row = _one(
        fresh_warehouse_dsn,
        "SELECT count(*), min(owner), min(connector_type), min(config->>'name'), min(config_checksum) "
        "FROM explore.source_systems",
    )
    assert row[:4] == (1, "crm-team", "files", "crm")
    assert len(row[4]) == 32


@pytest.mark.parametrize(
    ("table", "grain"),
    [
        pytest.param("explore.raw_data", "month", id="raw"),
        pytest.param("compliance.audit_log", "quarter", id="audit"),
        pytest.param("quality.check_results", "year", id="checks"),
        pytest.param("navigate.fct_orders", "year", id="facts"),
        pytest.param("chart.crm__customers", None, id="unknown"),
    ],
)
def test_partition_grain_registry(table: str, grain: str | None) -> None:
    """The registry knows each partitioned table's grain, navigate facts by schema."""
    assert partition_grain(table) == grain


@pytest.mark.parametrize(
    ("at", "grain", "count", "expected"),
    [
        pytest.param(
            dt.datetime(2025, 1, 31, tzinfo=dt.UTC),
            "month",
            1,
            dt.datetime(2025, 2, 28, tzinfo=dt.UTC),
            id="clamp",
        ),
        pytest.param(
            dt.datetime(2025, 11, 1, tzinfo=dt.UTC),
            "quarter",
            1,
            dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
            id="quarter",
        ),
        pytest.param(
            dt.datetime(2025, 6, 1, tzinfo=dt.UTC),
            "year",
            3,
            dt.datetime(2028, 6, 1, tzinfo=dt.UTC),
            id="year",
        ),
    ],
)
def test_add_grains(at: dt.datetime, grain: str, count: int, expected: dt.datetime) -> None:
    """Moving by partition grains lands on the right month."""
    assert add_grains(at, grain, count) == expected


class _Buffer:
    """Collects what a ``BatchWriter`` streams (stands in for an open COPY)."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, block: bytes) -> None:
        self.data += block


_TRICKY = ['","', '"', "a,", ",a", "],", "[,", "\\", '\\"', ':""', "[", "]", "%b", "%", "\t", "\n", "\r", "\x1f", "é", "Zürich", "😀",
           "null", "{}", "x", "42"]  # fmt: skip
_AMBIGUOUS = [",", "],["]
"""Values next to which a value separator could be misread: such chunks are rendered row by row."""


def _csv_chunk(header: list[str], rows: list[tuple[str, ...]], name: str = "dir/f%s.csv"):
    from atlas.connectors.files.csv_reader import CsvChunk

    chunk = CsvChunk(header, name)
    chunk.rows = list(rows)
    chunk.lines = list(range(2, len(rows) + 2))
    return chunk


def _written(chunk: Chunk, key: tuple[str, ...]) -> tuple[bytes, str, int]:
    from atlas.batch_writer import BatchWriter

    buffer = _Buffer()
    writer = BatchWriter(
        copy=buffer,  # type: ignore[arg-type]
        source="crm",
        entity="cust%omers",
        batch_id=batch_id("crm", "customers", JAN),
        interval_start=JAN.start,
        key_columns=key,
    )
    writer.write(chunk)
    writer.discard()
    return bytes(buffer.data), writer.checksum, writer.rows_quarantined


@pytest.mark.parametrize(
    ("header", "key"),
    [
        pytest.param(["id", "b", "a", "Ä", "a b", "%s"], ("id",), id="unsorted-header"),
        pytest.param(["id", "x", "id2", "x"], ("id", "id2"), id="duplicate-column-composite-key"),
        pytest.param(["id"], ("id",), id="one-column"),
    ],
)
@pytest.mark.parametrize("ambiguous", [pytest.param(False, id="safe"), pytest.param(True, id="ambiguous")])
def test_csv_rows_render_like_their_records(header: list[str], key: tuple[str, ...], ambiguous: bool) -> None:
    """A CSV chunk rendered from its rows gives the bytes and checksum of its records' render."""
    import random

    rng = random.Random(7)
    tokens = ["", *_TRICKY, *(_AMBIGUOUS if ambiguous else [])]
    fast_chunks = 0
    for _ in range(60):
        rows = []
        for i in range(rng.randint(1, 40)):
            values = ["".join(rng.choices(tokens, k=rng.randint(0, 2))) for _ in header]
            if not ambiguous:
                values = [f"{v}." if v in _AMBIGUOUS else v for v in values]
            for k in key:
                values[header.index(k)] = values[header.index(k)] or f"k{i}"
            rows.append(tuple(values))
        fast = _csv_chunk(header, rows)
        fast_out = _written(fast, key)
        fast_chunks += not fast.built  # rendered from its rows, no records were built
        records = _csv_chunk(header, rows).records
        assert fast_out == _written(Chunk(records=records), key)
        for (payload, _), row in zip(records, rows, strict=True):
            assert payload == dict(zip(header, row, strict=True))
    if ambiguous:
        assert fast_chunks < 60  # some chunks fell back to rendering their records
    else:
        assert fast_chunks == 60


def test_csv_fast_path_payload_bytes_are_sorted_orjson() -> None:
    """The rows path's payload is exactly orjson.dumps(dict(zip(header, row)), OPT_SORT_KEYS)."""
    header = ["id", "name", "city", "note"]
    rows = [("1", 'A "q" \\ b', "Zürich", ""), ("2", "x,y", "", "😀\t")]
    chunk = _csv_chunk(header, rows, name="f.csv")
    data, checksum, _ = _written(chunk, ("id",))
    assert not chunk.built
    total = 0
    for line, row in zip(data.splitlines(), rows, strict=True):
        expected = orjson.dumps(dict(zip(header, row, strict=True)), option=orjson.OPT_SORT_KEYS)
        fields = line.split(b"\t")
        assert fields[5] == expected.replace(b"\\", b"\\\\")
        assert fields[6].decode() == hashlib.md5(expected).hexdigest()
        total += int(hashlib.md5(expected).hexdigest(), 16)
    assert checksum == f"{total % (1 << 128):032x}"


def test_csv_file_lands_with_record_checksums(
    hook: WarehouseHook, fresh_warehouse_dsn: str, tmp_path: Path
) -> None:
    """CSV rows landed through the reader carry md5 of their sorted-key orjson payloads."""
    import csv

    from atlas.connectors.files.csv_reader import CsvReader

    path = tmp_path / "f.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "city"])
        writer.writerows((i, f'n "{i}" \\', "" if i % 2 else "Oslo,\tNO") for i in range(1, 2001))
        writer.writerow([2001, "", ""])
        writer.writerow(["", "no key", ""])
    with path.open("rb") as stream:
        result = _land(hook, CsvReader(chunk_rows=500).chunks(stream, "f.csv"))
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (2002, 2001, 1)
    expected = {}
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        header = next(rows)
        for line, row in enumerate(rows, 2):
            payload = orjson.dumps(dict(zip(header, row, strict=True)), option=orjson.OPT_SORT_KEYS)
            if row[0]:
                expected[row[0]] = (hashlib.md5(payload).hexdigest(), f"f.csv:{line}", orjson.loads(payload))
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        landed = conn.execute(
            "SELECT record_key, payload_checksum, source_location, payload FROM explore.raw_data"
        ).fetchall()
    assert {key: (md5, where, payload) for key, md5, where, payload in landed} == expected
    total = sum(int(md5, 16) for md5, _, _ in expected.values()) % (1 << 128)
    assert result.checksum == f"{total:032x}"
