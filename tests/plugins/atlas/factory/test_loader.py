"""The DAG loader: one DAG per YAML, a broken file never hides the others, strict mode raises."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from atlas.constants import INCLUDE_DIR
from atlas.exceptions import SourceConfigError
from atlas.factory import load_dags
from atlas.factory.loader import CONFIG_ERROR_TAG, STRICT_ENV, placeholder_dag_id

SOURCES = INCLUDE_DIR / "sources"
BROKEN = (
    "name: broken\nowner: x\nstart_date: 2026-01-01\nconnector: {type: files, format: csv, location: x}\n"
)
BROKEN += "entities:\n  - {name: 'orders; drop table x', path: a.csv, key: [id], columns: [{name: id}]}\n"


@pytest.fixture
def mixed_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sources folder with the good crm source beside a broken one."""
    monkeypatch.delenv(STRICT_ENV, raising=False)
    shutil.copy(SOURCES / "crm.yaml", tmp_path / "crm.yaml")
    (tmp_path / "broken.yaml").write_text(BROKEN, encoding="utf-8")
    return tmp_path


def test_broken_yaml_does_not_hide_good_one(mixed_folder: Path) -> None:
    """The good source builds its DAG; the broken one becomes a paused, tagged placeholder."""
    namespace: dict[str, object] = {}
    dags = load_dags(namespace, mixed_folder)
    assert set(dags) == {"atlas_crm", "atlas_broken"}
    assert namespace["atlas_crm"] is dags["atlas_crm"]
    assert CONFIG_ERROR_TAG not in dags["atlas_crm"].tags
    assert "land_customers" in dags["atlas_crm"].task_ids

    placeholder = dags["atlas_broken"]
    assert set(placeholder.tags) == {"atlas", CONFIG_ERROR_TAG}
    assert placeholder.is_paused_upon_creation is True
    assert placeholder.task_ids == ["config_error"]
    assert "entities[0].name = 'orders; drop table x'" in placeholder.doc_md
    assert str(mixed_folder / "broken.yaml") in placeholder.doc_md


def test_broken_yaml_is_logged_at_error(mixed_folder: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The config error is logged at ERROR with the file and the key path."""
    load_dags({}, mixed_folder)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("broken.yaml" in m and "entities[0].name" in m for m in errors), errors


def test_placeholder_task_raises_the_config_error(mixed_folder: Path) -> None:
    """Executing the placeholder's task raises SourceConfigError with the full message."""
    task = load_dags({}, mixed_folder)["atlas_broken"].get_task("config_error")
    with pytest.raises(SourceConfigError) as info:
        task.execute(context={})
    message = str(info.value)
    assert str(mixed_folder / "broken.yaml") in message
    assert "entities[0].name = 'orders; drop table x'" in message
    assert "is not a safe identifier" in message


def test_placeholder_run_fails_with_the_reason(
    mixed_folder: Path, monkeypatch: pytest.MonkeyPatch, airflow_db: Path
) -> None:
    """A real dag.test() of the placeholder fails its config_error task."""
    monkeypatch.setenv("ATLAS_SOURCES_DIR", str(mixed_folder))  # dags/atlas_sources.py reads it
    dag = load_dags({}, mixed_folder)["atlas_broken"]
    run = dag.test(logical_date=dt.datetime(2026, 1, 2, tzinfo=dt.UTC))
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == {"config_error": "failed"}


def test_strict_mode_raises_first_error(mixed_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ATLAS_STRICT_SOURCES=1 raises the config error instead of building a placeholder."""
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(SourceConfigError, match=r"broken\.yaml"):
        load_dags({}, mixed_folder)


def test_duplicate_source_names_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two files defining the same source name keep the first DAG and report the second."""
    monkeypatch.delenv(STRICT_ENV, raising=False)
    shutil.copy(SOURCES / "crm.yaml", tmp_path / "crm.yaml")
    shutil.copy(SOURCES / "crm.yaml", tmp_path / "crm.yml")
    dags = load_dags({}, tmp_path)
    assert set(dags) == {"atlas_crm", "atlas_crm_yml"}
    assert CONFIG_ERROR_TAG not in dags["atlas_crm"].tags
    doc = dags["atlas_crm_yml"].doc_md
    assert str(tmp_path / "crm.yml") in doc
    assert str(tmp_path / "crm.yaml") in doc
    assert "name = 'crm': is already the name of" in doc


def test_sources_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an explicit folder the loader reads ATLAS_SOURCES_DIR at call time."""
    shutil.copy(SOURCES / "support.yaml", tmp_path / "support.yaml")
    monkeypatch.setenv("ATLAS_SOURCES_DIR", str(tmp_path))
    assert set(load_dags({})) == {"atlas_support"}


def test_missing_folder_yields_no_dags_or_raises_in_strict_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing sources folder builds nothing, and is an error in strict mode."""
    monkeypatch.delenv(STRICT_ENV, raising=False)
    assert load_dags({}, tmp_path / "nope") == {}
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(SourceConfigError, match="does not exist"):
        load_dags({}, tmp_path / "nope")


@pytest.mark.parametrize(
    ("file_name", "dag_id"),
    [
        pytest.param("crm.yaml", "atlas_crm", id="plain"),
        pytest.param("My Source-2.yaml", "atlas_my_source_2", id="spaces-and-dashes"),
        pytest.param("--.yaml", "atlas_unnamed", id="nothing-left"),
    ],
)
def test_placeholder_dag_id_is_sanitised(file_name: str, dag_id: str) -> None:
    """Placeholder DAG ids are atlas_<stem> reduced to lower-case snake case."""
    assert placeholder_dag_id(Path(file_name)) == dag_id


def test_a_worker_running_one_dags_task_builds_only_that_dag(
    mixed_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Airflow's parsing context naming a DAG (set while a task runs), only that DAG is built;
    the broken file is still read, and its placeholder is built when it is the one asked for."""
    shutil.copy(SOURCES / "support.yaml", mixed_folder / "support.yaml")
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "atlas_support")
    assert list(load_dags({}, mixed_folder)) == ["atlas_support"]
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", placeholder_dag_id(mixed_folder / "broken.yaml"))
    (placeholder,) = load_dags({}, mixed_folder).values()
    assert CONFIG_ERROR_TAG in placeholder.tags
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "atlas_unknown")
    assert load_dags({}, mixed_folder) == {}
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID")
    assert sorted(load_dags({}, mixed_folder)) == sorted(
        ["atlas_crm", "atlas_support", placeholder_dag_id(mixed_folder / "broken.yaml")]
    )
