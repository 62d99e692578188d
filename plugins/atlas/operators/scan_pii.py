"""ScanPiiOperator: classify the personal data of one entity's landed batch (the ``pii`` stage).

Runs between land and promote. It reads the source YAML at run time, scans the interval's
batch (:func:`atlas.pii.scan.scan_batch`) and applies the source's ``pii.on_undeclared`` policy to
personal data found in a column the YAML does not declare: ``mask_and_alert`` (default) and
``alert`` send an alert through the source's routes and let the run go on (under
``mask_and_alert`` the generated staging model masks the column from the navigate build on,
reading the detections this scan records); ``fail`` alerts by failing the task, so nothing of the
batch is promoted.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from airflow.providers.postgres.hooks.postgres import PostgresHook

from atlas.batches import Interval
from atlas.exceptions import AtlasError
from atlas.hooks import psycopg_connection
from atlas.operators.base import SourceEntityOperator

log = logging.getLogger(__name__)


class UndeclaredPersonalData(AtlasError):
    """Personal data in columns the source YAML does not declare, under ``on_undeclared: fail``."""


class ScanPiiOperator(SourceEntityOperator):
    """Scan the interval's batch of ``entity`` for personal data and record what it found.

    :param source_path: the source YAML (relative paths are relative to the project root).
    :param entity: the entity whose batch to scan.
    :param warehouse_conn_id: the warehouse connection.
    """

    ui_color = "#fde2e4"

    def execute(self, context: Any) -> dict[str, Any]:
        from atlas.alerts import alert_from_context, routes_for, send_alert
        from atlas.pii.scan import scan_batch

        source = self.load_config()
        policy = source.pii  # type: ignore[attr-defined]
        interval = Interval.from_context(context)
        hook = PostgresHook(postgres_conn_id=self.warehouse_conn_id)
        with psycopg_connection(hook) as conn:
            ti = context.get("ti")
            report = scan_batch(
                conn,
                source,
                self.entity,
                interval,
                sample_size=policy.sample_size,
                dag_id=getattr(ti, "dag_id", None),
                run_id=getattr(ti, "run_id", None),
                task_id=self.task_id,
            )
        summary = report.summary()
        log.info("PII scan of %s.%s, %s records: %s", source.name, self.entity, report.records, summary)
        if report.undeclared:
            found = ", ".join(f"{column} ({entity})" for column, entity in report.undeclared)
            message = (
                f"{source.name}.{self.entity}: personal data in columns the YAML does not declare: {found}. "
                "Declare them (`pii:` and `classification:` on each column) so navigate masks them"
            )
            if policy.on_undeclared == "fail":
                raise UndeclaredPersonalData(
                    message + "; the batch is not promoted (pii.on_undeclared: fail)"
                )
            if policy.on_undeclared == "mask_and_alert":
                message += "; navigate masks them from this run's navigate build on (pii.on_undeclared: mask_and_alert)"
            alert = dataclasses.replace(
                alert_from_context(context, message, source=source.name), severity="warning"
            )
            send_alert(alert, routes_for(source.alerts))
        return summary
