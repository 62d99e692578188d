"""atlas_quality_scorecard: every day, the quality scorecard of each table checked the day before.

Per table: a score per dimension (the share of its checks that passed, weighted by severity), an
overall score weighted by the seeded dimension weights, and a grade A-F (A >= 90, B >= 80,
C >= 70, D >= 60, else F), stored in ``quality.scorecards`` and shown by the view
``quality.latest_scorecards`` (``atlas.quality.scorecard``). Re-running a day replaces its rows.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG, CronDataIntervalTimetable

from atlas.alerts import task_callbacks
from atlas.operators.quality import ScorecardOperator

with DAG(
    dag_id="atlas_quality_scorecard",
    schedule=CronDataIntervalTimetable("30 0 * * *", timezone="UTC"),  # after midnight: the day before
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["atlas", "global", "quality"],
    default_args={
        "owner": "atlas-platform",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=1),
        **task_callbacks(None),  # the project's default alert routes (include/alerts.yaml)
    },
    doc_md=__doc__,
):
    ScorecardOperator(task_id="score_tables")
