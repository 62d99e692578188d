"""Anomaly detection on batch metrics: a value outside mean ± ``sigma`` standard deviations of the
same metric's previous ``history`` batches (not in Soda's open-source line, hence ours).

Per table and batch the quality gate keeps the metrics in ``quality.batch_metrics``: the row
count, the quarantine share ``(quarantined + rejected) / read``, and for each key and required
column its null rate and (for keys) its distinct ratio in the landed payloads. Each is compared
with its history (optionally only the same weekday's batches); an outlier is stored in
``quality.anomalies`` with the band it left and alerts. Re-running an interval replaces its
metrics and its anomalies, so the tables hold what one clean run leaves.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from atlas.batches import Interval, batch_id
from atlas.config.source import SourceConfig


@dataclass(frozen=True)
class Anomaly:
    """A metric value outside its band."""

    table: str
    metric: str
    value: float
    mean: float
    stddev: float
    history_points: int
    sigma: float

    @property
    def direction(self) -> str:
        return "above" if self.value > self.mean else "below"

    @property
    def z_score(self) -> float | None:
        return (self.value - self.mean) / self.stddev if self.stddev else None

    def describe(self) -> str:
        return (
            f"{self.table} {self.metric} = {self.value:g}, {self.direction} mean {self.mean:g} ± "
            f"{self.sigma:g} sd ({self.stddev:g}) of the last {self.history_points} batches"
        )


def detect(
    table: str, metric: str, history: Sequence[float], value: float, *, sigma: float, min_history: int
) -> Anomaly | None:
    """``value`` as an anomaly against ``history`` (the sample standard deviation), or ``None``
    while the history is shorter than ``min_history`` or the value is inside the band."""
    if len(history) < max(min_history, 2):
        return None
    mean = statistics.fmean(history)
    stddev = statistics.stdev(history)
    if abs(value - mean) <= sigma * stddev:
        return None
    return Anomaly(table, metric, float(value), mean, stddev, len(history), sigma)


def batch_metrics(
    cur: psycopg.Cursor[Any], config: SourceConfig, entity_name: str, batch: Any
) -> dict[str, float]:
    """The metrics of one landed batch (empty when the batch landed nothing)."""
    row = cur.execute(
        "SELECT rows_read, rows_landed, rows_quarantined, rows_rejected FROM pipeline.batches WHERE batch_id = %s",
        (batch,),
    ).fetchone()
    if row is None or not row[0]:
        return {}
    read, landed, quarantined, rejected = (int(v or 0) for v in row)
    metrics = {"row_count": float(landed), "quarantine_share": (quarantined + rejected) / read}
    entity = config.entity(entity_name)
    watched = [c for c in entity.columns if c.required or c.name in entity.key]
    if landed and watched:
        parts = []
        params: list[Any] = []
        for column in watched:
            parts.append("count(*) FILTER (WHERE coalesce(payload ->> %s, '') = '')::float / count(*)")
            params.append(column.field)
            if column.name in entity.key:
                parts.append("count(DISTINCT payload ->> %s)::float / count(*)")
                params.append(column.field)
        values = cur.execute(
            f"SELECT {', '.join(parts)} FROM explore.raw_data WHERE batch_id = %s",
            (*params, batch),
        ).fetchone()
        names = []
        for column in watched:
            names.append(f"null_rate.{column.name}")
            if column.name in entity.key:
                names.append(f"distinct_ratio.{column.name}")
        metrics.update(zip(names, (float(v) for v in values or ()), strict=True))
    return metrics


def record_and_detect(
    cur: psycopg.Cursor[Any],
    table: str,
    batch: Any,
    interval_start: Any,
    metrics: dict[str, float],
    *,
    history: int,
    min_history: int,
    sigma: float,
    by_weekday: bool,
) -> list[Anomaly]:
    """Store the batch's metrics, compare each with its history, store and return the anomalies."""
    found: list[Anomaly] = []
    for metric, value in metrics.items():
        cur.execute(
            "INSERT INTO quality.batch_metrics (table_name, metric_name, batch_id, interval_start, value)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (table_name, metric_name, batch_id)"
            " DO UPDATE SET value = EXCLUDED.value, interval_start = EXCLUDED.interval_start, recorded_at = now()",
            (table, metric, batch, interval_start, value),
        )
        past = [
            float(v)
            for (v,) in cur.execute(
                "SELECT value FROM quality.batch_metrics WHERE table_name = %s AND metric_name = %s"
                " AND interval_start < %s AND (NOT %s OR extract(dow FROM interval_start) = extract(dow FROM %s::timestamptz))"
                " ORDER BY interval_start DESC LIMIT %s",
                (table, metric, interval_start, by_weekday, interval_start, history),
            )
        ]
        anomaly = detect(table, metric, past, value, sigma=sigma, min_history=min_history)
        cur.execute(
            "DELETE FROM quality.anomalies WHERE table_name = %s AND metric_name = %s AND observed_at = %s",
            (table, metric, interval_start),
        )
        if anomaly is not None:
            cur.execute(
                "INSERT INTO quality.anomalies (table_name, metric_name, observed_at, value, mean, stddev, z_score,"
                " threshold_sigma, history_points, direction, batch_id)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    table,
                    metric,
                    interval_start,
                    anomaly.value,
                    anomaly.mean,
                    anomaly.stddev,
                    anomaly.z_score,
                    sigma,
                    anomaly.history_points,
                    anomaly.direction,
                    batch,
                ),
            )
            found.append(anomaly)
    return found


def detect_interval(
    conn: psycopg.Connection[Any], config: SourceConfig, interval: Interval, settings: Any
) -> list[Anomaly]:
    """Metrics and anomalies of every entity's batch of ``interval``, in one transaction."""
    found: list[Anomaly] = []
    with conn.transaction(), conn.cursor() as cur:
        for entity in config.entities:
            batch = batch_id(config.name, entity.name, interval)
            metrics = batch_metrics(cur, config, entity.name, batch)
            found += record_and_detect(
                cur,
                f"chart.{config.name}__{entity.name}",
                batch,
                interval.start,
                metrics,
                history=settings.history,
                min_history=settings.min_history,
                sigma=settings.sigma,
                by_weekday=settings.by_weekday,
            )
    return found
