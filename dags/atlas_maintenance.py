"""atlas_maintenance: keep the partitions of every partitioned warehouse table ahead of time, and
archive those past their retention.

Every day it lists the range-partitioned tables of the seven Atlas schemas from the catalog and
ensures, for each one whose grain the registry knows (``atlas.partitions.PARTITION_GRAINS``:
``explore.raw_data`` monthly, ``compliance.audit_log`` quarterly, ``quality.check_results`` and
``navigate`` facts yearly), the partition holding today plus the next ``PARTITIONS_AHEAD``.
There is no default partition anywhere, so this is what keeps writers from failing.

Then ``archive_partitions_past_retention`` archives every partition whose whole range is older
than its table's retention (``python -m atlas.cli retention show``: explore 13 months, the audit
log 7 years, navigate facts as the source YAML says): exported to Parquet, uploaded to the
``atlas_s3`` bucket as ``<schema>/<table>/<partition>.parquet``, read back and verified, recorded
in ``archive.snapshots``, and only then detached and dropped, with audit entries. A failure at
any step leaves the partition in place; the next run resumes.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from atlas.alerts import task_callbacks
from atlas.operators.archive import ArchivePartitionsOperator
from atlas.operators.partitions import EnsurePartitionsOperator

PARTITIONS_AHEAD = 3
"""Partitions kept ahead of the current one, per table, in the table's own grain."""

with DAG(
    dag_id="atlas_maintenance",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    tags=["atlas", "global", "maintenance"],
    default_args={
        "owner": "atlas-platform",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=1),
        **task_callbacks(None),  # the project's default alert routes (include/alerts.yaml)
    },
    doc_md=__doc__,
):
    ensure = EnsurePartitionsOperator(task_id="ensure_partitions_ahead", tables=None, ahead=PARTITIONS_AHEAD)
    archive = ArchivePartitionsOperator(task_id="archive_partitions_past_retention")
    ensure >> archive
