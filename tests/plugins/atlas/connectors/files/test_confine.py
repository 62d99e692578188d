"""Reading stays inside the location: symlinks out, swapped files and stray S3 keys are refused."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import pytest

from atlas.batches import Interval
from atlas.connectors.base import Chunk
from atlas.connectors.files.config import FilesConnector, FilesEntity
from atlas.connectors.files.confine import SOURCE_ROOT_ENV, open_confined
from atlas.connectors.files.reader import FilesSourceConnector
from atlas.exceptions import ConnectorError

DAY = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
INTERVAL = Interval(DAY, DAY + dt.timedelta(days=1))
CSV = b"id,name\n1,Ada\n2,Grace\n"


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The only source root of this test (``ATLAS_SOURCE_ROOT``), holding the location ``data/``."""
    folder = tmp_path / "root"
    (folder / "data").mkdir(parents=True)
    monkeypatch.setenv(SOURCE_ROOT_ENV, str(folder))
    return folder


def entity(path: str) -> FilesEntity:
    """An entity of two columns read from ``path``."""
    return FilesEntity(name="people", path=path, key=["id"], columns=[{"name": "id"}, {"name": "name"}])


def extract(location: Path | str, path: str, fmt: str = "csv", **options: Any) -> list[Chunk]:
    """Every chunk of the interval's extract of ``path`` under ``location``."""
    connector = FilesSourceConnector(FilesConnector(format=fmt, location=str(location), **options))
    return list(connector.extract(entity(path), INTERVAL))


def records(chunks: list[Chunk]) -> list[tuple[dict[str, Any], str]]:
    """The records of the chunks, with their locations."""
    return [record for chunk in chunks for record in chunk.records]


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("/etc/passwd", id="etc-passwd"),
        pytest.param("/proc/self/environ", id="proc-self-environ"),
        pytest.param("{tmp}/secret.csv", id="file-outside-the-root"),
        pytest.param("{root}/elsewhere.csv", id="file-in-the-root-outside-the-location"),
    ],
)
def test_a_symlink_out_of_the_location_is_refused_at_read(root: Path, tmp_path: Path, target: str) -> None:
    """A file the glob finds that resolves outside the location fails the extract, naming it."""
    (tmp_path / "secret.csv").write_bytes(CSV)
    (root / "elsewhere.csv").write_bytes(CSV)
    (root / "data" / "a.csv").write_bytes(CSV)
    (root / "data" / "b.csv").symlink_to(target.format(tmp=tmp_path, root=root))
    with pytest.raises(ConnectorError) as info:
        extract(root / "data", "*.csv", select="modified")
    assert f"{root / 'data'}/b.csv resolves to " in str(info.value)
    assert f"outside the source's location {(root / 'data').resolve()}" in str(info.value)


def test_proc_self_environ_never_lands_from_a_jsonl_source(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reported attack, /proc/self/environ read as JSON lines, fails every way it is tried."""
    data = root / "data"
    (data / "environ.jsonl").symlink_to("/proc/self/environ")
    with pytest.raises(ConnectorError, match=r"environ\.jsonl resolves to /proc/"):
        extract(data, "environ.jsonl", fmt="jsonl")
    (root / "self").symlink_to(data)  # valid now, swapped for /proc/self before the read
    connector = FilesSourceConnector(FilesConnector(format="jsonl", location=str(root / "self")))
    (root / "self").unlink()
    (root / "self").symlink_to("/proc/self")
    with pytest.raises(ConnectorError, match="outside the source roots"):
        list(connector.extract(entity("environ"), INTERVAL))
    monkeypatch.setenv(SOURCE_ROOT_ENV, "/proc")
    with pytest.raises(ConnectorError, match="would let a source read system files"):
        list(connector.extract(entity("environ"), INTERVAL))


def test_roots_are_read_again_when_files_are_read(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A location valid where the YAML was loaded is refused by a worker whose roots exclude it."""
    (root / "data" / "a.csv").write_bytes(CSV)
    connector = FilesSourceConnector(FilesConnector(format="csv", location=str(root / "data")))
    monkeypatch.setenv(SOURCE_ROOT_ENV, str(tmp_path / "elsewhere"))
    with pytest.raises(ConnectorError) as info:
        list(connector.extract(entity("a.csv"), INTERVAL))
    assert f"files location {str(root / 'data')!r} resolves to " in str(info.value)


def test_a_nested_path_and_a_symlink_inside_the_location_are_read(root: Path) -> None:
    """Files in dated sub-folders, and a symlink to a file inside the location, are read as usual."""
    day = root / "data" / "people" / "2026" / "01" / "02"
    day.mkdir(parents=True)
    (day / "people.csv").write_bytes(CSV)
    (day / "again.csv").symlink_to(day / "people.csv")
    chunks = extract(root / "data", "people/{start:%Y}/{start:%m}/{start:%d}/*.csv")
    found = records(chunks)
    assert [(r["id"], where) for r, where in found] == [
        ("1", f"{root}/data/people/2026/01/02/again.csv:2"),
        ("2", f"{root}/data/people/2026/01/02/again.csv:3"),
        ("1", f"{root}/data/people/2026/01/02/people.csv:2"),
        ("2", f"{root}/data/people/2026/01/02/people.csv:3"),
    ]


def test_a_location_reached_through_a_symlink_inside_the_roots_is_read(root: Path) -> None:
    """A location that is a symlink to a folder inside the roots reads that folder."""
    (root / "data" / "a.csv").write_bytes(CSV)
    (root / "current").symlink_to(root / "data")
    assert [r["name"] for r, _ in records(extract(root / "current", "a.csv"))] == ["Ada", "Grace"]


def test_a_file_swapped_for_a_symlink_or_a_fifo_after_listing_is_not_opened(root: Path) -> None:
    """open_confined refuses a symlink as the last component, and anything but a regular file."""
    folder = (root / "data").resolve()
    (folder / "link.csv").symlink_to("/etc/passwd")
    with pytest.raises(ConnectorError, match=r"cannot open data/link\.csv"):
        open_confined(folder / "link.csv", folder, "data/link.csv")
    os.mkfifo(folder / "pipe.csv")
    with pytest.raises(ConnectorError, match=r"data/pipe\.csv is not a regular file"):
        open_confined(folder / "pipe.csv", folder, "data/pipe.csv")
    (folder / "ok.csv").write_bytes(CSV)
    with open_confined(folder / "ok.csv", folder, "data/ok.csv") as handle:
        assert handle.read() == CSV
    with pytest.raises(
        ConnectorError, match=re.escape(f"opened {folder}/ok.csv, outside the source's location")
    ):
        open_confined(folder / "ok.csv", root / "other", "data/ok.csv")


class _Listing:
    """An S3 client whose listing returns the given keys (what a misbehaving endpoint could do)."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys

    def get_conn(self) -> _Listing:
        return self

    def get_paginator(self, name: str) -> _Listing:
        return self

    def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
        return [{"Contents": [{"Key": key, "LastModified": DAY} for key in self.keys]}]


def test_an_s3_key_outside_the_prefix_fails_the_listing() -> None:
    """Listed keys must start with the location's prefix; one that does not fails the extract."""
    connector = FilesSourceConnector(FilesConnector(format="csv", location="s3://bucket/landing"))
    connector._s3_hook = _Listing(["landing/a.csv", "secrets/b.csv"])
    with pytest.raises(
        ConnectorError, match=r"s3://bucket/secrets/b\.csv lies outside the prefix 'landing/'"
    ):
        connector.list_files(entity("*.csv"), INTERVAL)
    connector._s3_hook = _Listing(["landing/a.csv", "landing/sub/b.csv"])
    assert [f.name for f in connector.list_files(entity("*.csv"), INTERVAL)] == ["s3://bucket/landing/a.csv"]
