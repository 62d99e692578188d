"""A source that only adds its YAML gets masked current-state tables, its dbt tests and an SCD2 history.

The module adds a new source ``library`` (CSV files; ``members`` with personal data and
``history: scd2``, ``loans`` referencing them) to a temporary copy of the sources folder, generates its dbt
files into a private copy of the dbt project, parses and splits it as ``make setup`` does, then
runs the DAG ``build_dag`` makes of the YAML with ``dag.test()`` for one day against a fresh
warehouse: land -> chart -> navigate (Cosmos) -> publish. Nothing in the dbt project names the
source by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.dags.new_source import new_source
from tests.fixtures.environment import SessionDirs
from tests.fixtures.postgres import PgServer
from tests.fixtures.warehouse import WarehouseTemplate

pytestmark = [pytest.mark.postgres, pytest.mark.airflow, pytest.mark.dbt, pytest.mark.slow(seconds=15)]

DAY = dt.date(2026, 1, 5)
DAG_ID = "atlas_library"
MEMBERS_CSV = """member_id,full_name,email,tier,city,updated_at
1,Ada Lovelace,ada@example.org,gold,London,2026-01-05T08:00:00Z
2,Alan Turing,alan@example.org,basic,Manchester,2026-01-05T09:30:00Z
3,Grace Hopper,,basic,,2026-01-05T10:00:00Z
"""
LOANS_CSV = """loan_id,member_id,title,due_on
10,1,Notes on the Analytical Engine,2026-02-01
11,2,On Computable Numbers,2026-02-03
12,2,Computing Machinery and Intelligence,
"""


def library_source(data_dir: Path) -> dict[str, Any]:
    """The source YAML a data engineer writes: nothing else is written for it."""
    return {
        "name": "library",
        "description": "Members and loans of the town library, exported daily as CSV files.",
        "owner": "library-team",
        "schedule": "@daily",
        "start_date": "2026-01-01",
        "connector": {"type": "files", "format": "csv", "location": str(data_dir), "select": "path"},
        "entities": [
            {
                "name": "members",
                "path": "members/{start:%Y%m%d}.csv",
                "key": ["member_id"],
                "history": "scd2",
                "columns": [
                    {"name": "member_id", "type": "bigint", "required": True},
                    {"name": "full_name", "type": "text", "required": True, "pii": "PERSON"},
                    {"name": "email", "type": "text", "pii": "EMAIL_ADDRESS"},
                    {"name": "tier", "type": "text", "required": True, "allowed_values": ["basic", "gold"]},
                    {"name": "city", "type": "text"},
                    {"name": "updated_at", "type": "timestamp", "required": True},
                ],
            },
            {
                "name": "loans",
                "path": "loans/{start:%Y%m%d}.csv",
                "key": ["loan_id"],
                "references": [{"columns": ["member_id"], "entity": "members"}],
                "columns": [
                    {"name": "loan_id", "type": "bigint", "required": True},
                    {"name": "member_id", "type": "bigint", "required": True},
                    {"name": "title", "type": "text", "required": True},
                    {"name": "due_on", "type": "date"},
                ],
            },
        ],
    }


@pytest.fixture(scope="module")
def library_run(
    pg_server: PgServer,
    warehouse_template: WarehouseTemplate,
    airflow_db: Path,
    session_dirs: SessionDirs,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """Generate, parse and run the library DAG for DAY; yield the run's task states and the warehouse."""
    root = tmp_path_factory.mktemp("library")
    stamp = f"{DAY:%Y%m%d}"
    with new_source(
        root,
        library_source(root / "data"),
        {f"members/{stamp}.csv": MEMBERS_CSV, f"loans/{stamp}.csv": LOANS_CSV},
        pg_server=pg_server,
        warehouse_template=warehouse_template,
        session_dirs=session_dirs,
    ) as source:
        yield source.run(DAY)


def rows(dsn: str, statement: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(statement).fetchall()


def test_the_dag_of_a_new_source_runs_through_navigate(library_run):
    """Every task succeeds, the navigate group included."""
    assert library_run["state"] == "success", library_run["states"]
    assert set(library_run["states"].values()) == {"success"}, library_run["states"]


def test_the_generated_dbt_tests_ran_after_each_node(library_run):
    """The current states and the history each have a test task in the navigate group, and it succeeded."""
    tests = {task: state for task, state in library_run["states"].items() if ".test" in task}
    assert tests == {
        "navigate.library__members.test": "success",
        "navigate.library__loans.test": "success",
        "navigate.library__members_history.test": "success",
    }
    staging = {task for task in library_run["states"] if task.startswith("navigate.stg_")}
    assert staging == {"navigate.stg_library__members_run", "navigate.stg_library__loans_run"}


def test_current_states_mask_personal_data_only(library_run):
    """navigate.library__members: PERSON / EMAIL redacted as compliance.mask does; other columns equal chart."""
    dsn = library_run["dsn"]
    current = rows(
        dsn,
        "SELECT member_id, full_name, email, tier, city, updated_at FROM navigate.library__members ORDER BY 1",
    )
    chart = rows(
        dsn,
        "SELECT member_id, full_name, email, tier, city, updated_at FROM chart.library__members ORDER BY 1",
    )
    assert [r[0] for r in current] == [1, 2, 3]
    for shown, stored in zip(current, chart, strict=True):
        assert (shown[0], *shown[3:]) == (stored[0], *stored[3:]), "a column without pii is chart's value"
    assert [r[1:3] for r in current] == [("***", "***"), ("***", "***"), ("***", None)]
    loans = rows(dsn, "SELECT loan_id, member_id, title, due_on FROM navigate.library__loans ORDER BY 1")
    assert loans == rows(dsn, "SELECT loan_id, member_id, title, due_on FROM chart.library__loans ORDER BY 1")
    assert len(loans) == 3


def test_scd2_history_is_built_from_the_yaml(library_run):
    """history: scd2 gives navigate.library__members_history: one current, masked version per member."""
    history = rows(
        library_run["dsn"],
        "SELECT member_id, full_name, is_current, valid_to, library__members_key IS NOT NULL, "
        "change_hash IS NOT NULL, source_updated_at FROM navigate.library__members_history ORDER BY 1",
    )
    assert [r[:4] for r in history] == [
        (1, "***", True, None),
        (2, "***", True, None),
        (3, "***", True, None),
    ]
    assert all(r[4] and r[5] for r in history)
    assert history[0][6] == dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("relation", "readable"),
    [
        pytest.param("navigate.library__members", True, id="current-state"),
        pytest.param("navigate.library__members_history", True, id="history"),
        pytest.param("chart.library__members", False, id="chart"),
    ],
)
def test_the_analyst_role_reads_the_masked_relations(library_run, relation, readable):
    """atlas_read reads the generated navigate relations (masked) and never the chart table behind them."""
    with psycopg.connect(library_run["dsn"]) as conn:
        conn.execute("SET ROLE atlas_read")
        if readable:
            names = {r[0] for r in conn.execute(f"SELECT full_name FROM {relation}")}
            assert names == {"***"}
        else:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT count(*) FROM {relation}")
