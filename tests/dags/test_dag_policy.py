"""DAG policy: every DAG in dags/ (generated and global) is tagged, owned, retried and documented."""

from __future__ import annotations

import pytest
from airflow.dag_processing.dagbag import DagBag

from atlas.constants import ROOT
from atlas.factory.loader import STRICT_ENV

MIN_RETRIES = 2
DEFAULT_OWNER = "airflow"


@pytest.fixture(scope="module")
def dags() -> list:
    """Every DAG of dags/, parsed strictly from the repository's sources."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(STRICT_ENV, "1")
        patch.delenv("ATLAS_SOURCES_DIR", raising=False)
        bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    assert bag.dags, "dags/ yields no DAG"
    return list(bag.dags.values())


def test_every_dag_has_tags(dags: list) -> None:
    """Every DAG carries tags, among them 'atlas'."""
    assert [d.dag_id for d in dags if "atlas" not in d.tags] == []


def test_every_task_has_a_real_owner(dags: list) -> None:
    """No task is owned by Airflow's default owner or by nobody."""
    bad = [
        f"{d.dag_id}.{t.task_id}={t.owner!r}" for d in dags for t in d.tasks if t.owner in ("", DEFAULT_OWNER)
    ]
    assert bad == []


def test_every_task_retries(dags: list) -> None:
    """Every task retries at least twice."""
    bad = [f"{d.dag_id}.{t.task_id}={t.retries}" for d in dags for t in d.tasks if t.retries < MIN_RETRIES]
    assert bad == []


def test_every_dag_is_documented(dags: list) -> None:
    """Every DAG has a doc_md."""
    assert [d.dag_id for d in dags if not (d.doc_md or "").strip()] == []
