"""QualityGateOperator: the interval's quality checks; a failed ``fail`` check stops the run.

Thin: it loads the source YAML at run time and calls ``QualityHook.check_interval``, which runs
and records every check. A failed ``fail`` check alerts the source's routes once, with each
failed check and its metric, and fails the task without retries (the data will not change by
retrying; ``AlertedFailure``, so the failure callback does not alert it again), so ``navigate``
does not run for the interval; ``warn`` outcomes are recorded, logged and alerted as warnings, and the run goes on.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator

from atlas.batches import Interval
from atlas.constants import ROOT, WAREHOUSE_CONN_ID
from atlas.hooks.quality import IntervalQuality, QualityHook

log = logging.getLogger(__name__)


class _SourceQualityOperator(BaseOperator):
    """A task that checks one source: its YAML (read at run time) and the warehouse connection.

    :param source_path: the source YAML (relative paths are relative to the project root).
    :param warehouse_conn_id: the warehouse connection.
    """

    template_fields: Sequence[str] = ("source_path", "warehouse_conn_id")
    ui_color = "#ffe4b5"

    def __init__(
        self, *, source_path: str, warehouse_conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.source_path = source_path
        self.warehouse_conn_id = warehouse_conn_id

    @cached_property
    def hook(self) -> QualityHook:
        return QualityHook(warehouse_conn_id=self.warehouse_conn_id)

    def load_config(self) -> Any:
        from atlas.config.loader import load_source

        path = Path(self.source_path)
        return load_source(path if path.is_absolute() else ROOT / path)


class QualityGateOperator(_SourceQualityOperator):
    """Check the chart tables of a source for the task's data interval."""

    def execute(self, context: Any) -> dict[str, Any]:
        config = self.load_config()
        interval = Interval.from_context(context)
        ti = context["ti"]
        log.info("quality checks of %s for [%s, %s)", config.name, interval.start, interval.end)
        found = self.hook.check_interval(config, interval, dag_id=ti.dag_id, run_id=ti.run_id)
        for result in found.results:
            log.info(
                "%-5s %s (%s) metric %s", result.outcome, result.name, result.dimension, result.metric_value
            )
        anomalies = self._anomalies(context, config, interval)
        if found.failed or found.warned:
            self._alert(context, config, found)
        if found.failed:
            from atlas.alerts import AlertedFailure

            names = ", ".join(r.name for r in found.failed)
            raise AlertedFailure(
                f"quality gate of {config.name}: {len(found.failed)} fail check(s) failed ({names}); "
                "navigate does not run for this interval; results in quality.check_results"
            )
        return {
            "checks": len(found.results),
            "warned": [r.name for r in found.warned],
            "scan_seconds": round(found.scan_seconds, 3),
            "anomalies": [a.describe() for a in anomalies],
        }

    def _anomalies(self, context: Any, config: Any, interval: Interval) -> list[Any]:
        """Record the batches' metrics and their anomalies; alert (a warning) when there are any."""
        from atlas.alerts import alert_from_context, routes_for, send_alert
        from atlas.hooks import psycopg_connection
        from atlas.quality.anomalies import detect_interval

        with psycopg_connection(self.hook) as conn:
            anomalies = detect_interval(conn, config, interval, config.quality.anomalies)
        for anomaly in anomalies:
            log.warning("anomaly: %s", anomaly.describe())
        if anomalies:
            alert = alert_from_context(
                context, f"{config.dag_id}: {len(anomalies)} anomalous batch metric(s)", source=config.name
            )
            details = {f"{a.table} {a.metric}": a.describe() for a in anomalies}
            send_alert(
                dataclasses.replace(alert, severity="warning", details={**alert.details, **details}),
                routes_for(config.alerts),
            )
        return anomalies

    def _alert(self, context: Any, config: Any, found: IntervalQuality) -> None:
        from atlas.alerts import alert_from_context, routes_for, send_alert

        bad = found.failed or found.warned
        kind = "failed" if found.failed else "warned"
        alert = alert_from_context(
            context, f"{config.dag_id}: quality gate {kind} ({len(bad)} check(s))", source=config.name
        )
        details = {r.name: f"{r.outcome} ({r.dimension}, metric {r.metric_value})" for r in bad}
        alert = dataclasses.replace(
            alert, severity="error" if found.failed else "warning", details={**alert.details, **details}
        )
        send_alert(alert, routes_for(config.alerts))


class ScorecardOperator(BaseOperator):
    """Score every table checked on the day the task's interval starts (``atlas.quality.scorecard``).

    :param warehouse_conn_id: the warehouse connection.
    """

    template_fields: Sequence[str] = ("warehouse_conn_id",)
    ui_color = "#ffe4b5"

    def __init__(self, *, warehouse_conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warehouse_conn_id = warehouse_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        from atlas.hooks import psycopg_connection
        from atlas.quality.scorecard import compute_scorecards

        day = Interval.from_context(context).start.date()
        with psycopg_connection(QualityHook(warehouse_conn_id=self.warehouse_conn_id)) as conn:
            cards = compute_scorecards(conn, day)
        for card in cards:
            log.info("%s %s: %s (%s) %s", day, card.table, card.score, card.grade, card.dimension_scores)
        return {card.table: f"{card.score} {card.grade}" for card in cards}


class NavigateCheckOperator(_SourceQualityOperator):
    """After ``navigate``: the interval's chart keys are in navigate with the same measure sums
    (:mod:`atlas.quality.navigate`); a difference alerts and fails the task, so ``publish`` does
    not announce the interval.
    """

    def execute(self, context: Any) -> dict[str, Any]:
        from atlas.alerts import alert_from_context, routes_for, send_alert
        from atlas.hooks import psycopg_connection
        from atlas.quality.navigate import check_navigate

        config = self.load_config()
        interval = Interval.from_context(context)
        ti = context["ti"]
        with psycopg_connection(self.hook) as conn:
            results = check_navigate(conn, config, interval, dag_id=ti.dag_id, run_id=ti.run_id)
        for result in results:
            log.info(
                "%-4s %s (%s) metric %s %s",
                "pass" if result.passed else "fail",
                result.name,
                result.dimension,
                result.metric,
                result.details,
            )
        failed = [r for r in results if not r.passed]
        if failed:
            names = ", ".join(r.name for r in failed)
            alert = alert_from_context(
                context, f"{config.dag_id}: navigate differs from chart ({names})", source=config.name
            )
            send_alert(alert, routes_for(config.alerts))
            from atlas.alerts import AlertedFailure

            raise AlertedFailure(
                f"navigate of {config.name} differs from chart for this interval: {names}; "
                "the interval is not published; results in quality.check_results"
            )
        return {r.name: str(r.metric) for r in results}
