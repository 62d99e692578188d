"""The files connector: CSV / JSON lines / Parquet, local and on S3, rejects with reasons."""

from __future__ import annotations

import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from atlas.batches import Interval
from atlas.connectors.base import Chunk
from atlas.connectors.files.config import FilesConnector, FilesEntity
from atlas.connectors.files.reader import FilesSourceConnector
from atlas_dev.sample.crm import BROKEN_LINE_KINDS, generate_crm

HEADER = b"id,name,city\n"
DAY = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
INTERVAL = Interval(DAY, DAY + dt.timedelta(days=1))


def entity(path: str) -> FilesEntity:
    """An entity with the three columns of the small test files."""
    return FilesEntity(
        name="things", path=path, key=["id"], columns=[{"name": "id"}, {"name": "name"}, {"name": "city"}]
    )


def extract(connector: FilesSourceConnector, path: str, interval: Interval = INTERVAL) -> list[Chunk]:
    """Every chunk of one extract."""
    return list(connector.extract(entity(path), interval))


def flatten(chunks: list[Chunk]) -> tuple[list, list]:
    """All records and all rejects of the chunks."""
    return [r for c in chunks for r in c.records], [r for c in chunks for r in c.rejects]


def local(tmp_path: Path, fmt: str, **kwargs: object) -> FilesSourceConnector:
    """A connector over ``tmp_path``."""
    return FilesSourceConnector(FilesConnector(format=fmt, location=str(tmp_path), **kwargs))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        pytest.param(b"9,wide,row,extra\n", "row has 4 fields, header has 3", id="wider-than-header"),
        pytest.param(b"9,narrow\n", "row has 2 fields, header has 3", id="narrower-than-header"),
        pytest.param(b'9,"unterminated,Berlin\n', "unterminated quoted field", id="unterminated-quote"),
        pytest.param(b'9,"bad"quote,Berlin\n', "malformed CSV", id="strict-quote-error"),
        pytest.param(
            b"9,J\xc3\x28rg,Berlin\n",
            "cannot decode byte(s) 0xc3 at byte offset 42 with utf-8",
            id="invalid-utf8",
        ),
    ],
)
def test_csv_bad_line_is_rejected_and_the_rest_is_read(tmp_path: Path, line: bytes, reason: str) -> None:
    """A bad CSV line becomes one Reject with its reason; every other line is still read."""
    body = HEADER + b"1,Anna,Berlin\n2,Ben,Paris\n" + line + b"3,Clara,Rome\n4,,Oslo\n"
    (tmp_path / "things.csv").write_bytes(body)
    records, rejects = flatten(extract(local(tmp_path, "csv"), "things.csv"))
    assert [r[0]["id"] for r in records] == ["1", "2", "3", "4"]
    assert len(records) + len(rejects) == body.count(b"\n") - 1
    assert len(rejects) == 1
    assert reason in rejects[0].reason
    assert rejects[0].line_number == 4
    assert rejects[0].location == f"{tmp_path}/things.csv:4"
    assert rejects[0].raw.startswith("9,")
    assert records[3] == ({"id": "4", "name": "", "city": "Oslo"}, f"{tmp_path}/things.csv:6")


def test_csv_invalid_utf8_reason_names_the_file_byte_offset(tmp_path: Path) -> None:
    """The decode reject names the byte offset of the bad byte within the file."""
    body = HEADER + b"1,Anna,Berlin\n2,J\xffrg,Paris\n"
    (tmp_path / "things.csv").write_bytes(body)
    _, rejects = flatten(extract(local(tmp_path, "csv"), "things.csv"))
    offset = body.index(b"\xff")
    assert f"at byte offset {offset}" in rejects[0].reason
    assert rejects[0].raw == "2,J\ufffdrg,Paris"


def test_csv_quoted_newline_is_one_record(tmp_path: Path) -> None:
    """A properly quoted value spanning lines is one record located at its first line."""
    (tmp_path / "things.csv").write_bytes(HEADER + b'1,"Anna\nMaria",Berlin\n2,Ben,Paris\n')
    records, rejects = flatten(extract(local(tmp_path, "csv"), "things.csv"))
    assert rejects == []
    assert records[0] == ({"id": "1", "name": "Anna\nMaria", "city": "Berlin"}, f"{tmp_path}/things.csv:2")
    assert records[1][1] == f"{tmp_path}/things.csv:4"


def test_csv_chunks_never_exceed_the_chunk_size(tmp_path: Path) -> None:
    """Chunks hold at most ``chunk_rows`` records plus rejects, and lose nothing."""
    lines = [f"{i},name{i},city\n".encode() for i in range(1, 101)]
    lines[50] = b"51,broken\n"
    (tmp_path / "things.csv").write_bytes(HEADER + b"".join(lines))
    connector = FilesSourceConnector(FilesConnector(format="csv", location=str(tmp_path)), chunk_rows=7)
    chunks = extract(connector, "things.csv")
    assert max(len(c) for c in chunks) <= 7
    records, rejects = flatten(chunks)
    assert (len(records), len(rejects)) == (99, 1)


def test_csv_sample_files_of_the_interval_only(tmp_path: Path) -> None:
    """``select: path`` formats the entity path with the interval and reads only that day's file."""
    generate_crm(tmp_path, dt.date(2026, 1, 1), dt.date(2026, 1, 4), bad_rows=True)
    connector = local(tmp_path, "csv")
    path = "customers/{start:%Y/%m}/customers_{start:%Y%m%d}.csv"
    customers = FilesEntity(
        name="customers",
        path=path,
        key=["customer_id"],
        columns=[{"name": "customer_id"}, {"name": "updated_at"}],
        on_unknown_columns="ignore",
    )
    files = connector.list_files(customers, INTERVAL)
    assert [f.name for f in files] == [f"{tmp_path}/customers/2026/01/customers_20260102.csv"]
    day_file = files[0].path
    records, rejects = flatten(list(connector.extract(customers, INTERVAL)))
    assert len(records) + len(rejects) == day_file.read_bytes().count(b"\n") - 1
    assert len(rejects) == len(BROKEN_LINE_KINDS)
    assert all(loc.startswith(f"{tmp_path}/customers/2026/01/customers_20260102.csv:") for _, loc in records)
    assert {r["updated_at"][:10] for r, _ in records} == {"2026-01-02"}


def test_select_modified_picks_files_modified_in_the_interval(tmp_path: Path) -> None:
    """``select: modified`` takes every file under the glob whose mtime lies in ``[start, end)``."""
    for name, when in [
        ("a.csv", DAY - dt.timedelta(seconds=1)),
        ("b.csv", DAY),
        ("c.csv", DAY + dt.timedelta(hours=23)),
        ("d.csv", INTERVAL.end),
    ]:
        path = tmp_path / "in" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(HEADER + f"1,{name},x\n".encode())
        os.utime(path, (when.timestamp(), when.timestamp()))
    connector = local(tmp_path, "csv", select="modified")
    records, _ = flatten(extract(connector, "in/*.csv"))
    assert [r["name"] for r, _ in records] == ["b.csv", "c.csv"]


def test_jsonl_records_and_rejects(tmp_path: Path) -> None:
    """JSON lines: objects are records; invalid JSON, non-objects and bad bytes are rejects."""
    body = b'{"id": 1, "name": "Anna"}\n{"id": 2,\n[1, 2]\n\n{"id": "\xff"}\n{"id": 3}\n'
    (tmp_path / "t.jsonl").write_bytes(body)
    records, rejects = flatten(extract(local(tmp_path, "jsonl"), "*.jsonl"))
    assert records == [
        ({"id": 1, "name": "Anna"}, f"{tmp_path}/t.jsonl:1"),
        ({"id": 3}, f"{tmp_path}/t.jsonl:6"),
    ]
    reasons = {r.line_number: r.reason for r in rejects}
    assert reasons[2].startswith("invalid JSON")
    assert reasons[3] == "line is a JSON list, not an object"
    offset = body.index(b"\xff")
    assert reasons[5].startswith(f"cannot decode byte(s) 0xff at byte offset {offset}")


def parquet_bytes() -> bytes:
    """A Parquet file with dates, timestamps, decimals and nulls."""
    table = pa.table(
        {
            "id": pa.array([1, 2, 3], pa.int64()),
            "name": ["Anna", None, "Clara"],
            "born": pa.array([dt.date(1990, 5, 1), dt.date(1985, 1, 2), None], pa.date32()),
            "seen": pa.array(
                [dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)] * 3, pa.timestamp("us", tz="UTC")
            ),
            "price": pa.array([Decimal("1.10"), Decimal("2.00"), Decimal("3.33")], pa.decimal128(10, 2)),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=2)
    return sink.getvalue()


def test_parquet_values_become_json_serialisable(tmp_path: Path) -> None:
    """Parquet rows become payloads with ISO dates/timestamps and decimal strings."""
    (tmp_path / "t.parquet").write_bytes(parquet_bytes())
    connector = FilesSourceConnector(FilesConnector(format="parquet", location=str(tmp_path)), chunk_rows=2)
    chunks = extract(connector, "t.parquet")
    records, _ = flatten(chunks)
    assert max(len(c) for c in chunks) <= 2
    assert records[0] == (
        {"id": 1, "name": "Anna", "born": "1990-05-01", "seen": "2026-01-02T03:04:05+00:00", "price": "1.10"},
        f"{tmp_path}/t.parquet#1",
    )
    assert [loc for _, loc in records] == [f"{tmp_path}/t.parquet#{i}" for i in (1, 2, 3)]
    assert orjson.loads(orjson.dumps([r for r, _ in records]))[2]["born"] is None


S3_CASES = [
    pytest.param(
        "csv", "things.csv", HEADER + b"1,Anna,Berlin\n2,J\xffrg,Paris\n3,Clara,Rome\n", 2, 1, id="csv"
    ),
    pytest.param("jsonl", "things.jsonl", b'{"id": 1}\nnot json\n{"id": 3}\n', 2, 1, id="jsonl"),
    pytest.param("parquet", "things.parquet", parquet_bytes(), 3, 0, id="parquet"),
]


@pytest.mark.parametrize(("fmt", "name", "body", "n_records", "n_rejects"), S3_CASES)
def test_s3_files_are_read_like_local_ones(
    s3_bucket: str, fmt: str, name: str, body: bytes, n_records: int, n_rejects: int
) -> None:
    """Files under an S3 prefix are listed by glob and streamed through S3Hook."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    hook = S3Hook(aws_conn_id="atlas_s3")
    hook.load_bytes(body, key=f"landing/2026/01/02/{name}", bucket_name=s3_bucket)
    hook.load_bytes(body, key=f"landing/2026/01/03/{name}", bucket_name=s3_bucket)
    connector = FilesSourceConnector(FilesConnector(format=fmt, location=f"s3://{s3_bucket}/landing"))
    records, rejects = flatten(extract(connector, "{start:%Y/%m/%d}/*." + name.split(".")[1]))
    assert (len(records), len(rejects)) == (n_records, n_rejects)
    assert all(loc.startswith(f"s3://{s3_bucket}/landing/2026/01/02/{name}") for _, loc in records)


def test_s3_large_csv_is_streamed_in_chunks(s3_bucket: str) -> None:
    """A CSV larger than one read block is streamed from S3 and every line is accounted for."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    rows = b"".join(f"{i},name{i},city{i % 7}\n".encode() for i in range(60_000))
    S3Hook(aws_conn_id="atlas_s3").load_bytes(HEADER + rows, key="big/things.csv", bucket_name=s3_bucket)
    connector = FilesSourceConnector(FilesConnector(format="csv", location=f"s3://{s3_bucket}"))
    chunks = extract(connector, "big/*.csv")
    records, rejects = flatten(chunks)
    assert (len(records), rejects) == (60_000, [])
    assert len(chunks) == 6
    assert records[-1] == (
        {"id": "59999", "name": "name59999", "city": "city2"},
        f"s3://{s3_bucket}/big/things.csv:60001",
    )


def test_csv_fast_and_row_by_row_paths_agree(tmp_path: Path) -> None:
    """Small blocks (mostly clean: parsed whole) read exactly like one dirty block (row by row)."""
    from atlas.connectors.files.csv_reader import CsvReader

    lines = [f"{i},name {i},{'' if i % 3 else 'Oslo'}\n".encode() for i in range(1, 400)]
    lines[40] = b"41,wide,row,extra\n"
    lines[90] = b'91,"unterminated,Berlin\n'
    lines[150] = b"151,J\xc3\x28rg,Berlin\n"
    lines[200] = b'201,"Anna\nMaria",Berlin\n'
    lines[260] = b"261,nul\x00,Rome\n"
    lines[300] = b"\n"
    body = b"\xef\xbb\xbf" + HEADER + b"".join(lines)

    def read(block_bytes: int, chunk_rows: int) -> tuple[list, list, list[Chunk]]:
        reader = CsvReader(block_bytes=block_bytes, chunk_rows=chunk_rows)
        chunks = list(reader.chunks(io.BytesIO(body), "f.csv"))
        return *flatten(chunks), chunks

    whole_records, whole_rejects, _ = read(1 << 22, 10_000)
    records, rejects, chunks = read(256, 7)
    assert records == whole_records
    assert sorted(rejects, key=str) == sorted(whole_rejects, key=str)  # decode rejects come per block
    assert max(len(c) for c in chunks) <= 7
    assert len(records) + len(rejects) == 399 - 1  # the blank line is no record
    assert sorted(r.line_number for r in rejects) == [42, 92, 152]
    assert ({"id": "261", "name": "nul\x00", "city": "Rome"}, "f.csv:263") in records  # the writer rejects it
    assert records[0] == ({"id": "1", "name": "name 1", "city": ""}, "f.csv:2")
    assert ({"id": "201", "name": "Anna\nMaria", "city": "Berlin"}, "f.csv:202") in records
    assert records[-1] == ({"id": "399", "name": "name 399", "city": "Oslo"}, "f.csv:401")
