"""The daily scorecard: hand-computed scores and grades, and the stored rows and view."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from atlas.quality.scorecard import CheckOutcome, compute_scorecards, grade, scorecard

WEIGHTS = {
    "completeness": 0.25,
    "uniqueness": 0.15,
    "timeliness": 0.15,
    "validity": 0.20,
    "accuracy": 0.15,
    "consistency": 0.10,
}
"""The seeded weights (sql/V011)."""


def test_a_failed_blocking_check_costs_twice_a_failed_warning() -> None:
    """completeness: two fail-severity checks pass, one warn-severity check fails: (2+2)/(2+2+1) = 80;
    validity: its one fail-severity check fails: 0; overall (0.25*80 + 0.20*0) / 0.45 = 44.44: F."""
    outcomes = [
        CheckOutcome("completeness", "fail", "pass"),
        CheckOutcome("completeness", "fail", "pass"),
        CheckOutcome("completeness", "warn", "warn"),
        CheckOutcome("validity", "fail", "fail"),
    ]
    card = scorecard("chart.t", outcomes, WEIGHTS)
    assert card.dimension_scores == {"completeness": 80.0, "validity": 0.0}
    assert card.score == 44.44
    assert card.grade == "F"
    assert (card.total, card.passed, card.warned, card.failed) == (4, 2, 1, 1)


def test_every_dimension_weighs_as_seeded() -> None:
    """All six dimensions, all passing but timeliness (one warn check failed): 100 - 15 = 85: B."""
    outcomes = [CheckOutcome(d, "fail", "pass") for d in WEIGHTS if d != "timeliness"]
    outcomes.append(CheckOutcome("timeliness", "warn", "warn"))
    card = scorecard("chart.t", outcomes, WEIGHTS)
    assert card.score == 85.0
    assert card.grade == "B"
    assert scorecard("chart.t", [CheckOutcome("uniqueness", "fail", "pass")], WEIGHTS).grade == "A"


@pytest.mark.parametrize(
    ("score", "letter"),
    [
        (100, "A"),
        (90, "A"),
        (89.99, "B"),
        (80, "B"),
        (79.99, "C"),
        (70, "C"),
        (60, "D"),
        (59.99, "F"),
        (0, "F"),
    ],
)
def test_grade_thresholds(score: float, letter: str) -> None:
    assert grade(score) == letter


@pytest.mark.postgres
def test_scorecards_are_stored_replaced_by_a_rerun_and_agree_with_score_grade(
    fresh_warehouse_dsn: str,
) -> None:
    day = dt.date(2026, 1, 5)
    at = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    with psycopg.connect(fresh_warehouse_dsn, autocommit=True) as conn:
        conn.execute("SELECT pipeline.ensure_partition('quality.check_results', 'year', %s)", (at,))
        ids = {}
        for name, dimension, severity in [
            ("t.missing.a", "completeness", "fail"),
            ("t.freshness", "timeliness", "warn"),
            ("t.pattern.b", "validity", "fail"),
        ]:
            ids[name] = conn.execute(
                "INSERT INTO quality.check_definitions (check_name, table_name, dimension_name, check_type, severity)"
                " VALUES (%s, 'chart.t', %s, 'test', %s) RETURNING check_id",
                (name, dimension, severity),
            ).fetchone()[0]

        def result(name: str, dimension: str, outcome: str, when: dt.datetime) -> None:
            conn.execute(
                "INSERT INTO quality.check_results (check_id, table_name, check_name, dimension_name, outcome, executed_at)"
                " VALUES (%s, 'chart.t', %s, %s, %s, %s)",
                (ids[name], name, dimension, outcome, when),
            )

        result("t.missing.a", "completeness", "fail", at)  # failed first, passed on the re-run:
        result("t.missing.a", "completeness", "pass", at + dt.timedelta(hours=1))  # the latest counts
        result("t.freshness", "timeliness", "warn", at)
        result("t.pattern.b", "validity", "pass", at)
        result("t.pattern.b", "validity", "fail", at - dt.timedelta(days=1))  # another day: not counted
        (card,) = compute_scorecards(conn, day)
        (card_again,) = compute_scorecards(conn, day)
        stored = conn.execute(
            "SELECT score, grade, dimension_scores, checks_total FROM quality.latest_scorecards WHERE table_name = 'chart.t'"
        ).fetchone()
        rows = conn.execute("SELECT count(*) FROM quality.scorecards").fetchone()
        sql_grades = [
            conn.execute("SELECT quality.score_grade(%s::numeric)", (s,)).fetchone()[0]
            for s in (90, 89.99, 60, 59.99)
        ]
    # completeness 100, timeliness 0, validity 100: (0.25*100 + 0.15*0 + 0.20*100) / 0.60 = 75: C
    assert (card.score, card.grade) == (75.0, "C")
    assert card_again == card
    assert stored == (75, "C", {"completeness": 100.0, "timeliness": 0.0, "validity": 100.0}, 3)
    assert rows == (1,)
    assert sql_grades == [grade(s) for s in (90, 89.99, 60, 59.99)]
