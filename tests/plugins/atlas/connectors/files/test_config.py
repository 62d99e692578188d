"""The files connector's models: a location stays below the source roots, a path below its location."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from atlas.config import load_source, source_files
from atlas.connectors.files.confine import SOURCE_ROOT_ENV, source_roots
from atlas.constants import INCLUDE_DIR, ROOT
from atlas.exceptions import SourceConfigError

PATH = "orders/{start:%Y/%m}/orders_{start:%Y%m%d}.csv"


def document(location: str, path: str = PATH, fmt: str = "csv") -> dict[str, Any]:
    """A files source reading ``path`` under ``location``."""
    entity = {"name": "orders", "path": path, "key": ["id"], "columns": [{"name": "id"}]}
    return {
        "name": "demo",
        "start_date": "2026-01-01",
        "connector": {"type": "files", "format": fmt, "location": location},
        "entities": [entity],
    }


def write(folder: Path, doc: dict[str, Any]) -> Path:
    """``doc`` as ``folder/demo.yaml``."""
    path = folder / "demo.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def refused(folder: Path, doc: dict[str, Any]) -> tuple[Path, str]:
    """The file written for ``doc`` and the error text of loading it."""
    path = write(folder, doc)
    with pytest.raises(SourceConfigError) as info:
        load_source(path)
    return path, str(info.value)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The only source root of this test (``ATLAS_SOURCE_ROOT``), holding ``data/``."""
    folder = tmp_path / "root"
    (folder / "data" / "orders").mkdir(parents=True)
    monkeypatch.setenv(SOURCE_ROOT_ENV, str(folder))
    return folder


@pytest.mark.parametrize(
    ("location", "says"),
    [
        pytest.param("../../../../../../etc", "has a '..' segment", id="relative-traversal"),
        pytest.param("{root}/data/../../..", "has a '..' segment", id="absolute-with-dotdot"),
        pytest.param("/etc", "resolves to /etc, outside the source roots", id="absolute-outside"),
        pytest.param("/proc/self", "outside the source roots", id="proc"),
        pytest.param("include/sample_data/crm", "outside the source roots", id="relative-outside-root"),
        pytest.param("{root}/out", "resolves to /etc, outside the source roots", id="symlink-out"),
    ],
)
def test_a_location_leaving_the_roots_is_refused_naming_file_key_and_value(
    root: Path, tmp_path: Path, location: str, says: str
) -> None:
    """A location with '..', outside the roots, or a symlink out of them is refused on load."""
    (root / "out").symlink_to("/etc")
    location = location.format(root=root)
    path, message = refused(tmp_path, document(location))
    assert str(path) in message
    assert f"  - connector.location = {location!r}: " in message
    assert says in message
    assert str(root) in message or "'..'" in message


@pytest.mark.parametrize(
    ("entity_path", "says"),
    [
        pytest.param("../../../../../../etc/passwd", "has a '..' segment", id="traversal"),
        pytest.param("orders/../../x.csv", "has a '..' segment", id="inner-traversal"),
        pytest.param("{start:../%Y}/x.csv", "has a '..' segment", id="traversal-in-the-format"),
        pytest.param("/etc/passwd", "is absolute", id="absolute"),
        pytest.param("{start:/%Y}/x.csv", "is absolute", id="absolute-by-format"),
        pytest.param("", "is empty", id="empty"),
    ],
)
@pytest.mark.parametrize("location", ["{root}/data", "s3://bucket/landing"])
def test_a_path_leaving_its_location_is_refused_naming_file_key_and_value(
    root: Path, tmp_path: Path, location: str, entity_path: str, says: str
) -> None:
    """A path with '..' or a leading '/' (as written or once formatted) is refused, local or S3."""
    path, message = refused(tmp_path, document(location.format(root=root), entity_path))
    assert str(path) in message
    assert f"  - entities[0].path = {entity_path!r}: {says}" in message


def test_proc_self_environ_as_jsonl_is_refused_on_load(root: Path, tmp_path: Path) -> None:
    """The reported attack, a jsonl source reaching /proc/self/environ, never validates."""
    for location, entity_path in [
        (str(root / "data"), "../../../../../../../../proc/self/environ"),
        ("/proc/self", "environ"),
        (str(root), "../../../../../../../../proc/self/environ"),
    ]:
        _, message = refused(tmp_path, document(location, entity_path, fmt="jsonl"))
        assert "outside the source roots" in message or "has a '..' segment" in message


@pytest.mark.parametrize(
    ("location", "says"),
    [
        pytest.param("s3://bucket/../other", "has a '..' segment in its prefix", id="dotdot-prefix"),
        pytest.param("s3:///landing", "names no bucket", id="no-bucket"),
    ],
)
def test_an_s3_location_stays_in_its_bucket(tmp_path: Path, location: str, says: str) -> None:
    """An s3:// location names a bucket and a prefix without '..'."""
    path, message = refused(tmp_path, document(location))
    assert str(path) in message
    assert f"  - connector.location = {location!r}: {says}" in message


@pytest.mark.parametrize(
    "location",
    [
        pytest.param("{root}/data", id="absolute-inside"),
        pytest.param("{root}", id="the-root-itself"),
        pytest.param("{root}/inner", id="symlink-inside"),
        pytest.param("{root}/not/there/yet", id="not-created-yet"),
        pytest.param("s3://bucket", id="s3-bucket"),
        pytest.param("s3://bucket/landing/2026", id="s3-prefix"),
    ],
)
def test_a_location_below_the_roots_loads(root: Path, tmp_path: Path, location: str) -> None:
    """A folder below the roots (a symlink staying inside too) and an s3:// location load."""
    (root / "inner").symlink_to(root / "data")
    location = location.format(root=root)
    config = load_source(write(tmp_path, document(location)))
    assert config.connector.location == location  # type: ignore[attr-defined]
    assert config.entities[0].path == PATH  # type: ignore[attr-defined]


def test_several_roots_and_relative_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ATLAS_SOURCE_ROOT lists folders like PATH; a relative one is under the project root."""
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv(SOURCE_ROOT_ENV, os.pathsep.join(["include/sample_data", "", str(other)]))
    assert source_roots() == [(ROOT / "include" / "sample_data").resolve(), other.resolve()]
    assert load_source(write(tmp_path, document("include/sample_data/crm"))).name == "demo"
    assert load_source(write(tmp_path, document(str(other)))).name == "demo"
    _, message = refused(tmp_path, document("include/sources"))
    assert "connector.location = 'include/sources': resolves to" in message


@pytest.mark.parametrize("setting", ["/", "/proc", "/dev/shm"])
def test_a_root_of_system_files_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    """ATLAS_SOURCE_ROOT cannot open the file system's root, /proc, /sys or /dev to sources."""
    monkeypatch.setenv(SOURCE_ROOT_ENV, setting)
    _, message = refused(tmp_path, document("/etc" if setting == "/" else f"{setting}/x"))
    assert f"{SOURCE_ROOT_ENV} names {setting!r}, which would let a source read system files" in message


def test_the_default_root_is_include(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ATLAS_SOURCE_ROOT the root is the repository's include/, relative locations under the project."""
    monkeypatch.delenv(SOURCE_ROOT_ENV, raising=False)
    assert source_roots() == [INCLUDE_DIR.resolve()]
    assert load_source(write(tmp_path, document("include/sample_data/crm"))).name == "demo"
    _, message = refused(tmp_path, document("dags"))
    assert (
        f"resolves to {(ROOT / 'dags').resolve()}, outside the source roots ({INCLUDE_DIR.resolve()})"
        in message
    )


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in source_files(INCLUDE_DIR / "sources")])
def test_the_sample_sources_load_with_the_default_root(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every shipped sample source validates with the default root, include/."""
    monkeypatch.delenv(SOURCE_ROOT_ENV, raising=False)
    assert load_source(path).name == path.stem
