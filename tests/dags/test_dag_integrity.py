"""DAG integrity: the dags/ folder imports cleanly, strictly, and without touching any server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

from atlas.config import source_files
from atlas.constants import INCLUDE_DIR, ROOT
from atlas.factory.loader import CONFIG_ERROR_TAG, STRICT_ENV

DAGS_DIR = ROOT / "dags"
SOURCES = INCLUDE_DIR / "sources"
LOADER_FILE = DAGS_DIR / "atlas_sources.py"
CLOSED_PORT_DSN = "postgresql://postgres@127.0.0.1:9/atlas_closed"
"""A warehouse connection nothing listens on: a parse that connects fails."""

# Run in a fresh interpreter: refuse every TCP connection made from Python, point the warehouse
# at a closed port (libpq bypasses Python sockets), then parse dags/ and report as JSON.
_PARSE_SCRIPT = textwrap.dedent(
    """
    import json, socket, sys
    attempts = []
    _connect = socket.socket.connect
    def guarded(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(repr(address))
            raise ConnectionRefusedError(f"network access at DAG parse time: {address!r}")
        return _connect(self, address)
    socket.socket.connect = guarded
    from airflow.dag_processing.dagbag import DagBag
    bag = DagBag(dag_folder=sys.argv[1])
    print(json.dumps({"dags": sorted(bag.dag_ids), "errors": bag.import_errors, "attempts": attempts}))
    """
)


def _dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS_DIR))


def test_dags_folder_has_no_import_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file in dags/ imports, in strict mode, and every sample source has its DAG."""
    monkeypatch.setenv(STRICT_ENV, "1")
    monkeypatch.delenv("ATLAS_SOURCES_DIR", raising=False)
    bag = _dagbag()
    assert bag.import_errors == {}
    expected = {f"atlas_{p.stem}" for p in source_files(SOURCES)}
    assert expected <= set(bag.dag_ids)
    assert not [d for d in bag.dags.values() if CONFIG_ERROR_TAG in d.tags]


def test_strict_mode_turns_a_broken_source_into_an_import_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ATLAS_STRICT_SOURCES=1 a broken YAML is an import error of the loader file."""
    shutil.copy(SOURCES / "crm.yaml", tmp_path / "crm.yaml")
    (tmp_path / "broken.yaml").write_text("name: broken\nschedule: [\n", encoding="utf-8")
    monkeypatch.setenv("ATLAS_SOURCES_DIR", str(tmp_path))
    monkeypatch.setenv(STRICT_ENV, "1")
    errors = _dagbag().import_errors
    loader_errors = [message for path, message in errors.items() if path.endswith("atlas_sources.py")]
    assert len(loader_errors) == 1, errors
    assert "broken.yaml" in loader_errors[0]
    assert "not valid YAML at line" in loader_errors[0]


def test_lenient_mode_keeps_good_dags_beside_a_placeholder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without strict mode the loader file imports, with the good DAG and a placeholder."""
    shutil.copy(SOURCES / "crm.yaml", tmp_path / "crm.yaml")
    (tmp_path / "broken.yaml").write_text("name: broken\nschedule: [\n", encoding="utf-8")
    monkeypatch.setenv("ATLAS_SOURCES_DIR", str(tmp_path))
    monkeypatch.delenv(STRICT_ENV, raising=False)
    bag = _dagbag()
    assert not [p for p in bag.import_errors if p.endswith("atlas_sources.py")]
    assert CONFIG_ERROR_TAG not in bag.dags["atlas_crm"].tags
    assert CONFIG_ERROR_TAG in bag.dags["atlas_broken"].tags


def test_parse_makes_no_network_or_database_access() -> None:
    """Parsing dags/ succeeds with the warehouse on a closed port and Python TCP connects refused."""
    env = os.environ | {
        "AIRFLOW_CONN_ATLAS_WAREHOUSE": CLOSED_PORT_DSN,
        STRICT_ENV: "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "plugins"), str(DAGS_DIR)]),
    }
    env.pop("ATLAS_SOURCES_DIR", None)
    done = subprocess.run(
        [sys.executable, "-c", _PARSE_SCRIPT, str(DAGS_DIR)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["errors"] == {}
    assert report["attempts"] == []
    assert {f"atlas_{p.stem}" for p in source_files(SOURCES)} <= set(report["dags"])
