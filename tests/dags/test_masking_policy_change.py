"""A changed classification in the YAML re-masks navigate on the next run, history included, and is audited.

A new source ``club`` (CSV files; ``members`` with ``history: scd2``) runs for a day; then its YAML
changes four columns: ``full_name`` from confidential to public (shown: navigate must recompute
the names from the raw payload, the versions hold ***), ``tier`` and ``joined_on`` (a date) from
internal to confidential (masked: ***, the decade) and ``email`` to restricted (withheld), and the
next day runs. Every version of the history, the first day's included, then shows what the new
policy allows; each change is one ``masking.policy_change`` entry per relation; a re-run of the
day changes nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dags.new_source import files_source, new_source, rows
from tests.fixtures.environment import SessionDirs
from tests.fixtures.postgres import PgServer
from tests.fixtures.warehouse import WarehouseTemplate

pytestmark = [pytest.mark.postgres, pytest.mark.airflow, pytest.mark.dbt, pytest.mark.slow(seconds=50)]

DAY_1, DAY_2 = dt.date(2026, 1, 5), dt.date(2026, 1, 6)
HEADER = "member_id,full_name,email,tier,joined_on,updated_at\n"
DAY_1_CSV = HEADER + (
    "1,Ada Lovelace,ada@example.org,gold,1998-03-01,2026-01-05T08:00:00Z\n"
    "2,Alan Turing,alan@example.org,basic,2011-07-21,2026-01-05T09:00:00Z\n"
)
DAY_2_CSV = HEADER + "2,Alan Turing,alan@example.org,gold,2011-07-21,2026-01-06T09:00:00Z\n"
"""Alan moves to gold: a second version of member 2."""


def club_source(data_dir: Path) -> dict[str, Any]:
    return files_source(
        "club",
        data_dir,
        [
            {
                "name": "members",
                "path": "members/{start:%Y%m%d}.csv",
                "key": ["member_id"],
                "history": "scd2",
                "columns": [
                    {"name": "member_id", "type": "bigint", "required": True},
                    {"name": "full_name", "type": "text", "pii": "PERSON"},
                    {"name": "email", "type": "text", "pii": "EMAIL_ADDRESS"},
                    {"name": "tier", "type": "text"},
                    {"name": "joined_on", "type": "date"},
                    {"name": "updated_at", "type": "timestamp", "required": True},
                ],
            }
        ],
    )


def changed_source(data_dir: Path) -> dict[str, Any]:
    source = copy.deepcopy(club_source(data_dir))
    columns = {c["name"]: c for c in source["entities"][0]["columns"]}
    columns["full_name"]["classification"] = "public"  # the team decided to publish the names
    columns["email"]["classification"] = "restricted"
    columns["tier"]["classification"] = "confidential"
    columns["joined_on"].update(classification="confidential", pii="DATE_TIME")
    return source


HISTORY = "SELECT member_id, full_name, email, tier, joined_on::text FROM navigate.club__members_history ORDER BY member_id, valid_from"


def policy_changes(dsn: str) -> list[tuple[Any, ...]]:
    return rows(
        dsn,
        "SELECT object_name, details ->> 'column', details #>> '{old,classification}', "
        "details #>> '{new,classification}', details ->> 'rewritten', rows_affected, dag_id, run_id, task_id "
        "FROM compliance.audit_log "
        "WHERE action = 'masking.policy_change' ORDER BY 1, 2",
    )


@pytest.fixture(scope="module")
def club(
    pg_server: PgServer,
    warehouse_template: WarehouseTemplate,
    airflow_db: Path,
    session_dirs: SessionDirs,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    """Day 1 under the first YAML, day 2 under the changed one, day 2 again; what navigate showed after each."""
    root = tmp_path_factory.mktemp("club")
    files = {f"members/{DAY_1:%Y%m%d}.csv": DAY_1_CSV, f"members/{DAY_2:%Y%m%d}.csv": DAY_2_CSV}
    with new_source(
        root,
        club_source(root / "data"),
        files,
        pg_server=pg_server,
        warehouse_template=warehouse_template,
        session_dirs=session_dirs,
    ) as source:
        first = source.run(DAY_1)
        before = rows(source.dsn, HISTORY)
        source.write(changed_source(root / "data"))
        second = source.run(DAY_2)
        after = rows(source.dsn, HISTORY)
        audited = policy_changes(source.dsn)
        again = source.run(DAY_2)
        runs = rows(
            source.dsn, "SELECT action, dag_id, run_id, task_id FROM compliance.audit_log ORDER BY audit_id"
        )
        yield {
            "runs": runs,
            "dsn": source.dsn,
            "states": [first, second, again],
            "before": before,
            "after": after,
            "audited": audited,
            "after_rerun": rows(source.dsn, HISTORY),
            "audited_after_rerun": policy_changes(source.dsn),
        }


def test_every_run_succeeds(club):
    """The three runs succeed, every task of them."""
    for run in club["states"]:
        assert run["state"] == "success", run["states"]
        assert set(run["states"].values()) == {"success"}, run["states"]


def test_the_history_is_remasked_under_the_new_policy(club):
    """Before: names and e-mails ***, tier and date shown. After: every version, day 1's too, shows the names
    (recomputed from the raw payload), withholds the e-mails, and masks tier and the date."""
    assert club["before"] == [
        (1, "***", "***", "gold", "1998-03-01"),
        (2, "***", "***", "basic", "2011-07-21"),
    ]
    assert club["after"] == [
        (1, "Ada Lovelace", None, "***", "1990s"),
        (2, "Alan Turing", None, "***", "2010s"),
        (2, "Alan Turing", None, "***", "2010s"),
    ]
    current = rows(
        club["dsn"],
        "SELECT member_id, full_name, email, tier, joined_on FROM navigate.club__members ORDER BY 1",
    )
    assert current == [(1, "Ada Lovelace", None, "***", "1990s"), (2, "Alan Turing", None, "***", "2010s")]


def test_each_change_is_audited_once_per_relation(club):
    """One masking.policy_change per changed column and relation, with the old and new classification."""
    expected = []
    for relation, rewritten in (("club__members", "false"), ("club__members_history", "true")):
        expected += [
            (relation, "email", "confidential", "restricted", rewritten),
            (relation, "full_name", "confidential", "public", rewritten),
            (relation, "joined_on", "internal", "confidential", rewritten),
            (relation, "tier", "internal", "confidential", rewritten),
        ]
    assert [a[:5] for a in club["audited"]] == expected
    assert {a[0]: a[5] for a in club["audited"]} == {"club__members": 2, "club__members_history": 2}
    second = club["states"][1]
    assert {a[6:] for a in club["audited"]} == {
        (second["dag_id"], second["run_id"], "navigate.dbt_producer_watcher")
    }  # the run whose dbt build saw the change, from the navigate task's environment


def test_every_audit_entry_of_the_runs_names_its_dag_run(club):
    """Each entry the three runs wrote (ingest, promotion, PII scan, policy change ...) names one of them."""
    runs = {(run["dag_id"], run["run_id"]) for run in club["states"]}
    assert {"ingest.batch", "promote.batch", "masking.policy_change"} <= {a for a, *_ in club["runs"]}
    assert [entry for entry in club["runs"] if (entry[1], entry[2]) not in runs] == []


def test_a_rerun_changes_nothing(club):
    """The day again: the same versions, no new audit entry."""
    assert club["after_rerun"] == club["after"]
    assert club["audited_after_rerun"] == club["audited"]
