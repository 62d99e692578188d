"""The daily quality scorecard: per table and day, a score per dimension, an overall score and a grade.

For each table, the latest outcome of each check run that day counts once. A dimension's score is
the share of its checks that passed, each check weighted by its severity (``fail`` checks twice
a ``warn`` check: a failed blocking check costs more). The overall score is the dimensions'
scores weighted by ``quality.dimensions.weight`` (seeded; they sum to 1), re-normalised over the
dimensions the table has checks in. The grade is ``quality.score_grade``: A >= 90, B >= 80,
C >= 70, D >= 60, else F. Stored in ``quality.scorecards`` (one row per day and table, replaced
by a re-run), shown by the view ``quality.latest_scorecards``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

SEVERITY_WEIGHT = {"fail": 2.0, "warn": 1.0}
GRADES = ((90.0, "A"), (80.0, "B"), (70.0, "C"), (60.0, "D"))
"""Lower bounds of the grades above F (the same as ``quality.score_grade``)."""


@dataclass(frozen=True)
class CheckOutcome:
    """One check's latest outcome of the day."""

    dimension: str
    severity: str
    outcome: str


@dataclass(frozen=True)
class Scorecard:
    table: str
    dimension_scores: dict[str, float]
    score: float
    grade: str
    total: int
    passed: int
    warned: int
    failed: int


def grade(score: float) -> str:
    return next((letter for bound, letter in GRADES if score >= bound), "F")


def scorecard(table: str, outcomes: Iterable[CheckOutcome], weights: Mapping[str, float]) -> Scorecard:
    """The scorecard of ``table`` from its checks' outcomes and the dimension weights."""
    outcomes = list(outcomes)
    earned: dict[str, float] = {}
    possible: dict[str, float] = {}
    for check in outcomes:
        weight = SEVERITY_WEIGHT.get(check.severity, 1.0)
        possible[check.dimension] = possible.get(check.dimension, 0.0) + weight
        earned[check.dimension] = earned.get(check.dimension, 0.0) + (
            weight if check.outcome == "pass" else 0.0
        )
    scores = {d: round(100 * earned[d] / possible[d], 2) for d in possible}
    total_weight = sum(weights[d] for d in scores)
    overall = round(sum(weights[d] * s for d, s in scores.items()) / total_weight, 2) if total_weight else 0.0
    return Scorecard(
        table,
        scores,
        overall,
        grade(overall),
        len(outcomes),
        sum(c.outcome == "pass" for c in outcomes),
        sum(c.outcome == "warn" for c in outcomes),
        sum(c.outcome in ("fail", "error") for c in outcomes),
    )


def compute_scorecards(conn: psycopg.Connection[Any], day: dt.date) -> list[Scorecard]:
    """Score every table checked on ``day`` (UTC) and store the scorecards, in one transaction."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    with conn.transaction(), conn.cursor() as cur:
        weights = {
            name: float(w) for name, w in cur.execute("SELECT dimension_name, weight FROM quality.dimensions")
        }
        rows = cur.execute(
            "SELECT DISTINCT ON (r.table_name, r.check_name) r.table_name, r.dimension_name,"
            " coalesce(d.severity, CASE WHEN r.outcome = 'warn' THEN 'warn' ELSE 'fail' END), r.outcome"
            " FROM quality.check_results AS r LEFT JOIN quality.check_definitions AS d ON d.check_id = r.check_id"
            " WHERE r.executed_at >= %s AND r.executed_at < %s AND r.dimension_name IS NOT NULL"
            " ORDER BY r.table_name, r.check_name, r.executed_at DESC",
            (start, start + dt.timedelta(days=1)),
        ).fetchall()
        by_table: dict[str, list[CheckOutcome]] = {}
        for table, dimension, severity, outcome in rows:
            by_table.setdefault(table, []).append(CheckOutcome(dimension, severity, outcome))
        cards = [scorecard(table, outcomes, weights) for table, outcomes in sorted(by_table.items())]
        for card in cards:
            cur.execute(
                "INSERT INTO quality.scorecards (scorecard_date, table_name, score, grade, dimension_scores,"
                " checks_total, checks_passed, checks_warned, checks_failed) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (scorecard_date, table_name) DO UPDATE SET score = EXCLUDED.score,"
                " grade = EXCLUDED.grade, dimension_scores = EXCLUDED.dimension_scores,"
                " checks_total = EXCLUDED.checks_total, checks_passed = EXCLUDED.checks_passed,"
                " checks_warned = EXCLUDED.checks_warned, checks_failed = EXCLUDED.checks_failed, computed_at = now()",
                (
                    day,
                    card.table,
                    card.score,
                    card.grade,
                    Jsonb(card.dimension_scores),
                    card.total,
                    card.passed,
                    card.warned,
                    card.failed,
                ),
            )
    return cards
