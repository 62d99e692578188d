"""Hostile files landed for real: nothing silently changed, every reject kept exactly, clear failures."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from atlas.batches import Interval
from atlas.connectors.files.config import FilesConnector, FilesEntity
from atlas.connectors.files.reader import FilesSourceConnector
from atlas.exceptions import ConnectorError
from atlas.hooks.warehouse import WarehouseHook

DAY = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
INTERVAL = Interval(DAY, DAY + dt.timedelta(days=1))


def land(
    dsn: str, tmp_path: Path, body: bytes | None, *, columns: tuple[str, ...] = ("id", "note"), **options: Any
) -> dict[str, Any]:
    """Write ``body`` as the day's file (none if None), land it, and read back what the warehouse holds."""
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    if body is not None:
        (folder / "f_20260102.csv").write_bytes(body)
    connector_options = {
        k: options.pop(k) for k in ("encoding", "max_record_bytes", "select") if k in options
    }
    connector = FilesSourceConnector(FilesConnector(format="csv", location=str(folder), **connector_options))
    entity = FilesEntity(
        name="things",
        path="f_{start:%Y%m%d}.csv",
        key=["id"],
        columns=[{"name": c} for c in columns],
        **options,
    )
    hook = WarehouseHook()
    hook.ensure_partitions("explore.raw_data", "month", INTERVAL.start, INTERVAL.start)
    result = hook.land_batch(
        source="hostile",
        entity="things",
        interval=INTERVAL,
        key_columns=entity.key_fields,
        chunks=connector.extract(entity, INTERVAL),
    )
    with psycopg.connect(dsn) as conn:
        payloads = conn.execute(
            "SELECT record_key, payload::text, source_location FROM explore.raw_data ORDER BY raw_id"
        ).fetchall()
        rejects = conn.execute(
            "SELECT line_number, byte_offset, raw_bytes, raw_record, reason FROM explore.quarantine "
            "ORDER BY line_number"
        ).fetchall()
        notes = conn.execute("SELECT notes FROM pipeline.batches").fetchone()[0]
    return {"result": result, "payloads": payloads, "rejects": rejects, "notes": notes}


def test_a_header_that_looks_like_json_is_a_name_not_a_payload(
    fresh_warehouse_dsn: str, tmp_path: Path
) -> None:
    """A header `zz":"q","id` lands as one literal key: the record's id and values are untouched."""
    body = b'id,"zz"":""q"",""id",note\n1,evil,a\n2,x,"b\\c"\n'
    landed = land(fresh_warehouse_dsn, tmp_path, body)
    assert [(key, loc) for key, _, loc in landed["payloads"]] == [
        ("1", f"{tmp_path}/in/f_20260102.csv:2"),
        ("2", f"{tmp_path}/in/f_20260102.csv:3"),
    ]
    assert [json.loads(p) for _, p, _ in landed["payloads"]] == [
        {"id": "1", 'zz":"q","id': "evil", "note": "a"},
        {"id": "2", 'zz":"q","id': "x", "note": "b\\c"},
    ]
    assert landed["notes"] == [
        f'{tmp_path}/in/f_20260102.csv header: field(s) \'zz":"q","id\' match no declared column (they land in explore only)'
    ]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        pytest.param(
            b"id,name,amount,name\n", "the field 'name' appears 2 times (positions 2, 4)", id="duplicate"
        ),
        pytest.param(b"ID,note\n", "no field 'id' for key column 'id' (found 'ID'", id="key-case"),
        pytest.param(b"id,no\x00te\n", "hold a NUL character", id="nul"),
    ],
)
def test_a_header_that_would_lose_data_fails_the_batch(
    fresh_warehouse_dsn: str, tmp_path: Path, header: bytes, message: str
) -> None:
    """Duplicate names, a key field only in another case, a NUL: the batch fails naming file and field."""
    with pytest.raises(ConnectorError) as info:
        land(fresh_warehouse_dsn, tmp_path, header + b"1,a,2,b\n", on_unknown_columns="ignore")
    assert f"{tmp_path}/in/f_20260102.csv header: " in str(info.value)
    assert message in str(info.value)
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM explore.raw_data").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pipeline.batches").fetchone() == (0,)


def test_a_header_in_another_case_is_reported_and_can_fail(fresh_warehouse_dsn: str, tmp_path: Path) -> None:
    """`Note` for the declared `note` lands with a note by default; on_unknown_columns: fail refuses it."""
    landed = land(fresh_warehouse_dsn, tmp_path, b"id,Note\n1,a\n")
    assert landed["result"].rows_landed == 1
    assert "field 'Note' matches the field 'note' of column 'note'" in landed["notes"][0]
    with pytest.raises(ConnectorError, match="on_unknown_columns: fail"):
        land(fresh_warehouse_dsn, tmp_path, b"id,Note\n1,a\n", on_unknown_columns="fail")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_byte_order_mark_decides_the_encoding(
    fresh_warehouse_dsn: str, tmp_path: Path, encoding: str
) -> None:
    """UTF-16/32 and UTF-8 files with a BOM: the header is the header, every data row lands and counts."""
    text = "id,note\n1,Zürich 😀\n2,b\n"
    body = text.encode(encoding)
    if encoding == "utf-16-be":
        body = b"\xfe\xff" + body
    landed = land(fresh_warehouse_dsn, tmp_path, body)
    result = landed["result"]
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (2, 2, 0)
    assert [key for key, _, _ in landed["payloads"]] == ["1", "2"]
    assert '"note": "Zürich 😀"' in landed["payloads"][0][1]
    assert landed["notes"] == []


def test_a_reject_keeps_its_exact_bytes_offset_and_line(fresh_warehouse_dsn: str, tmp_path: Path) -> None:
    """An undecodable line and a wide row are kept byte for byte with their line and byte offset."""
    bad = b"2,J\xffrg\r\n"
    wide = b"3,a,b\x01,c\n"
    body = b"id,note\n1,ok\n" + bad + wide + b"4,end\n"
    landed = land(fresh_warehouse_dsn, tmp_path, body)
    assert landed["result"].rows_read == 4
    (line2, offset2, bytes2, text2, reason2), (line3, offset3, bytes3, _, reason3) = landed["rejects"]
    assert (line2, offset2, bytes2) == (3, len(b"id,note\n1,ok\n"), bad)
    assert "0xff at byte offset 16" in reason2
    assert text2 == "2,J\ufffdrg"
    assert (line3, offset3, bytes3) == (4, len(b"id,note\n1,ok\n") + len(bad), wide)
    assert reason3 == "row has 4 fields, header has 2"


def test_a_huge_multiline_field_is_one_record_or_one_reject(fresh_warehouse_dsn: str, tmp_path: Path) -> None:
    """A 5 MB quoted field over many lines lands as one record; over max_record_bytes it is one reject."""
    field = ("line of text\n" * 400_000)[: 5 * 1024 * 1024]
    body = b"id,note\n1,a\n" + b'2,"' + field.encode() + b'"\n3,c\n'
    landed = land(fresh_warehouse_dsn, tmp_path, body)
    result = landed["result"]
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (3, 3, 0)
    assert [key for key, _, _ in landed["payloads"]] == ["1", "2", "3"]

    limit = 1024 * 1024
    landed = land(fresh_warehouse_dsn, tmp_path, body, max_record_bytes=limit)
    result = landed["result"]
    assert (result.rows_read, result.rows_landed, result.rows_quarantined) == (3, 2, 1)
    assert [key for key, _, _ in landed["payloads"]] == ["1", "3"]
    ((line, offset, kept, _, reason),) = landed["rejects"]
    assert (line, offset) == (3, len(b"id,note\n1,a\n"))
    assert kept == body[offset : offset + limit]
    assert f"larger than max_record_bytes ({limit})" in reason


@pytest.mark.parametrize(
    ("body", "what"),
    [
        pytest.param(None, "no file matches", id="no-file"),
        pytest.param(b"", "holds no record", id="empty-file"),
        pytest.param(b"id,note\n", "holds no record", id="header-only"),
    ],
)
def test_a_missing_delivery_fails_warns_or_passes(
    fresh_warehouse_dsn: str, tmp_path: Path, body: bytes | None, what: str
) -> None:
    """on_missing: fail (the default with select: path) fails, warn notes it on the batch, skip lands 0 rows."""
    with pytest.raises(ConnectorError, match=f"{what}.*on_missing is fail"):
        land(fresh_warehouse_dsn, tmp_path, body)
    warned = land(fresh_warehouse_dsn, tmp_path, body, on_missing="warn")
    assert warned["result"].rows_read == 0
    assert len(warned["notes"]) == 1
    assert what in warned["notes"][0]
    assert warned["notes"][0].endswith("(on_missing: warn)")
    skipped = land(fresh_warehouse_dsn, tmp_path, body, on_missing="skip")
    assert (skipped["result"].rows_read, skipped["notes"]) == (0, [])
