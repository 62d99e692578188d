"""Operators of archiving: partitions past retention, snapshots on demand, restores (``ArchiveHook``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator

from atlas.archive import RunInfo, SnapshotResult
from atlas.constants import S3_CONN_ID, WAREHOUSE_CONN_ID
from atlas.hooks.archive import ArchiveHook

log = logging.getLogger(__name__)


def run_info(context: Any) -> RunInfo:
    """The DAG, run and task of a task's context, for the manifest and the audit log."""
    ti = context.get("ti")
    dag = context.get("dag")
    return RunInfo(
        dag_id=getattr(dag, "dag_id", None),
        run_id=context.get("run_id"),
        task_id=getattr(ti, "task_id", None),
    )


def _shown(results: Sequence[SnapshotResult]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(result) for result in results]


class _ArchiveOperator(BaseOperator):
    template_fields: Sequence[str] = ("warehouse_conn_id", "s3_conn_id")
    ui_color = "#f3ecfb"

    def __init__(
        self, *, warehouse_conn_id: str = WAREHOUSE_CONN_ID, s3_conn_id: str = S3_CONN_ID, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.warehouse_conn_id = warehouse_conn_id
        self.s3_conn_id = s3_conn_id

    @cached_property
    def hook(self) -> ArchiveHook:
        return ArchiveHook(warehouse_conn_id=self.warehouse_conn_id, s3_conn_id=self.s3_conn_id)


class ArchivePartitionsOperator(_ArchiveOperator):
    """Archive to S3 and drop every partition past its table's retention (``atlas.retention``).

    The policy is read when the task runs (``include/retention.yaml``, the sources' ``retention``,
    the dbt manifest), for the partitioned tables the catalog holds; "now" is the wall clock, so a
    retried or late run archives what is due when it runs.
    """

    def execute(self, context: Any) -> list[dict[str, Any]]:
        from atlas.config.retention import project_retention
        from atlas.retention import load_policy

        project = project_retention()
        tables = self.hook.partitioned_tables()
        rules = [rule for rule in load_policy(tables) if rule.table in tables and rule.months is not None]
        now = dt.datetime.now(dt.UTC)
        log.info(
            "archiving partitions past retention at %s into bucket %s: %s",
            now,
            project.bucket,
            ", ".join(f"{rule.table} {rule.period}" for rule in rules) or "no table has a finite retention",
        )
        done = self.hook.archive_due(
            rules, now, bucket=project.bucket, keep_months=project.keep_archives, run=run_info(context)
        )
        log.info("archived and dropped %s partition(s)", len(done))
        return _shown(done)


class SnapshotTableOperator(_ArchiveOperator):
    """A point-in-time Parquet snapshot of a navigate table, with its manifest row.

    :param table: ``navigate.<table>`` (templated: a DAG run's conf).
    """

    template_fields: Sequence[str] = (*_ArchiveOperator.template_fields, "table")

    def __init__(self, *, table: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.table = table

    def execute(self, context: Any) -> dict[str, Any]:
        from atlas.config.retention import project_retention

        project = project_retention()
        log.info("snapshot of %s into bucket %s", self.table, project.bucket)
        result = self.hook.snapshot_table(
            self.table, bucket=project.bucket, keep_months=project.keep_archives, run=run_info(context)
        )
        return dataclasses.asdict(result)


class RestorePartitionOperator(_ArchiveOperator):
    """Bring an archived partition back from S3: a manifest id, or a table and a partition (templated)."""

    template_fields: Sequence[str] = (*_ArchiveOperator.template_fields, "snapshot_id", "table", "partition")

    def __init__(
        self,
        *,
        snapshot_id: int | str | None = None,
        table: str | None = None,
        partition: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.snapshot_id = snapshot_id
        self.table = table
        self.partition = partition

    def execute(self, context: Any) -> dict[str, Any]:
        raw = self.snapshot_id
        snapshot_id = None if raw is None or str(raw) in ("", "None") else int(raw)
        log.info("restoring snapshot %s / %s %s", snapshot_id, self.table, self.partition)
        result = self.hook.restore(
            snapshot_id=snapshot_id,
            table=self.table or None,
            partition=self.partition or None,
            run=run_info(context),
        )
        return dataclasses.asdict(result)
