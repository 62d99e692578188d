"""Batches: one (source, entity, data interval), addressed by a deterministic id."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from atlas.constants import BATCH_NAMESPACE


@dataclass(frozen=True, slots=True)
class Interval:
    """A data interval ``[start, end)`` in UTC."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"interval bounds must be timezone-aware: {self.start!r}, {self.end!r}")
        if self.end < self.start:
            raise ValueError(f"interval ends before it starts: {self.start} > {self.end}")

    @classmethod
    def from_context(cls, context: dict) -> Interval:
        """The data interval of an Airflow task context."""
        return cls(_utc(context["data_interval_start"]), _utc(context["data_interval_end"]))


def _utc(value: dt.datetime) -> dt.datetime:
    return dt.datetime.fromtimestamp(value.timestamp(), tz=dt.UTC)


def batch_id(source: str, entity: str, interval: Interval) -> uuid.UUID:
    """The id of a batch: the same for every re-run or backfill of the same interval."""
    name = f"{source}/{entity}/{interval.start.isoformat()}/{interval.end.isoformat()}"
    return uuid.uuid5(BATCH_NAMESPACE, name)
