"""atlas_snapshot and atlas_restore: object storage on demand (the archiving of partitions past
their retention runs daily in ``atlas_maintenance``).

- ``atlas_snapshot`` — conf ``{"table": "navigate.<table>"}``: a point-in-time Parquet snapshot of
  the table to ``s3://<bucket>/snapshots/navigate/<table>/<UTC time>.parquet`` through the
  ``atlas_s3`` connection, read back and checked, with its row in ``archive.snapshots``. Any
  Parquet reader (DuckDB, pandas, Spark) opens it without Atlas.
- ``atlas_restore`` — conf ``{"snapshot_id": 12}`` or ``{"table": "explore.raw_data",
  "partition": "explore.raw_data_p202401"}``: recreates the archived partition, loads it from its
  object, verifies the checksum against the manifest, and erases again the subjects whose erasure
  tombstones were recorded after the archive was made.

Both are triggered from the UI or the REST API (``POST /api/v2/dags/<dag_id>/dagRuns`` with the
conf); the bucket is ``include/retention.yaml``'s.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG, Param

from atlas.alerts import task_callbacks
from atlas.operators.archive import RestorePartitionOperator, SnapshotTableOperator

DEFAULT_ARGS = {
    "owner": "atlas-platform",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=1),
    **task_callbacks(None),  # the project's default alert routes (include/alerts.yaml)
}
COMMON = {
    "schedule": None,
    "start_date": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    "catchup": False,
    "default_args": DEFAULT_ARGS,
    "render_template_as_native_obj": True,
    "doc_md": __doc__,
}

with DAG(
    dag_id="atlas_snapshot",
    tags=["atlas", "global", "archive"],
    params={"table": Param("navigate.dim_customer", type="string", pattern=r"^navigate\.[a-z_][a-z0-9_]*$")},
    **COMMON,
):
    SnapshotTableOperator(task_id="snapshot_table", table="{{ params.table }}")

with DAG(
    dag_id="atlas_restore",
    tags=["atlas", "global", "archive"],
    params={
        "snapshot_id": Param(None, type=["null", "integer"], description="archive.snapshots.snapshot_id"),
        "table": Param(None, type=["null", "string"], description="schema.table, with partition"),
        "partition": Param(None, type=["null", "string"], description="schema.partition, with table"),
    },
    max_active_runs=1,
    **COMMON,
):
    RestorePartitionOperator(
        task_id="restore_partition",
        snapshot_id="{{ params.snapshot_id }}",
        table="{{ params.table }}",
        partition="{{ params.partition }}",
    )
