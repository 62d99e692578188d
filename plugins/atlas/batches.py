"""Batches: one (source, entity, data interval), addressed by a deterministic id."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jinja2 import pass_context

from atlas.constants import BATCH_NAMESPACE
from atlas.exceptions import AtlasError

INTERVAL_EXTRA_KEYS = ("interval_start", "interval_end")
"""Keys of an asset event's ``extra`` that name the interval an asset-triggered run processes."""


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
    def from_context(cls, context: Any) -> Interval:
        """The interval a run processes: its data interval, or for a run triggered by asset events
        (which Airflow gives no data interval) the interval the events name.

        A run with neither (triggered without a logical date) is refused: processing "everything"
        silently is never what a re-runnable interval pipeline should do.
        """
        start, end = context.get("data_interval_start"), context.get("data_interval_end")
        if start is not None and end is not None:
            return cls(_utc(start), _utc(end))
        events = context.get("triggering_asset_events")
        if events:
            return interval_from_asset_events(
                event for asset_events in events.values() for event in asset_events
            )
        raise AtlasError(
            f"run {context.get('run_id')!r} has no data interval: trigger it with a logical date "
            "(the UI's and REST API's logical_date) so its interval is the schedule's interval ending "
            "there, or through an asset event whose extra names "
            f"{INTERVAL_EXTRA_KEYS[0]!r} and {INTERVAL_EXTRA_KEYS[1]!r}"
        )


def interval_from_asset_events(events: Iterable[Any]) -> Interval:
    """The interval named in the events' ``extra``.

    An external system that posts ``POST /api/v2/assets/events`` with
    ``{"extra": {"interval_start": "2026-01-05T00:00:00Z", "interval_end": "2026-01-06T00:00:00Z"}}``
    says which interval it delivered. Several events consumed by one run must name the same
    interval; events for different intervals are refused with what to do instead.
    """
    bounds: list[Interval] = []
    for event in events:
        extra = getattr(event, "extra", None) or {}
        missing = [key for key in INTERVAL_EXTRA_KEYS if not extra.get(key)]
        where = (
            f"asset event {getattr(event, 'id', '?')} on {getattr(getattr(event, 'asset', None), 'uri', '?')}"
        )
        if missing:
            raise AtlasError(
                f"{where} has no {' and '.join(repr(k) for k in missing)} in its extra ({extra!r}): "
                "post the interval the event delivers, e.g. "
                '{"extra": {"interval_start": "2026-01-05T00:00:00Z", "interval_end": "2026-01-06T00:00:00Z"}}'
            )
        try:
            start, end = (_parse_instant(extra[key]) for key in INTERVAL_EXTRA_KEYS)
            bounds.append(Interval(start, end))
        except ValueError as exc:
            raise AtlasError(f"{where}: invalid interval in its extra {extra!r}: {exc}") from None
    if not bounds:
        raise AtlasError("the run was triggered by assets but consumed no asset event")
    distinct = sorted(set(bounds), key=lambda b: (b.start, b.end))
    if len(distinct) > 1:
        # one run is one interval and one batch per entity; a span over several intervals would
        # land as a batch of its own, beside the batches of the intervals it covers
        named = ", ".join(f"{b.start.isoformat()}..{b.end.isoformat()}" for b in distinct)
        raise AtlasError(
            f"the run consumed asset events for {len(distinct)} different intervals ({named}): a run "
            "processes one interval; run the others with a backfill (POST /api/v2/backfills) or "
            "post one event per run"
        )
    return distinct[0]


def _parse_instant(value: object) -> dt.datetime:
    """An ISO 8601 instant with its offset (``Z`` or ``+00:00``); a naive one is refused."""
    parsed = dt.datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset (write 2026-01-05T00:00:00Z)")
    return _utc(parsed)


@pass_context
def interval_macro(context: Any, bound: str) -> str:
    """``{{ atlas_interval('start') }}`` / ``('end')`` in a template: :meth:`Interval.from_context`
    of the rendering task as ISO 8601 (the DAG's ``user_defined_macros``), so templated fields
    see the same interval as the operators, asset-triggered runs included."""
    if bound not in ("start", "end"):
        raise ValueError(f"atlas_interval({bound!r}): use 'start' or 'end'")
    interval = Interval.from_context(context)
    return (interval.start if bound == "start" else interval.end).isoformat()


def _utc(value: dt.datetime) -> dt.datetime:
    return dt.datetime.fromtimestamp(value.timestamp(), tz=dt.UTC)


def batch_id(source: str, entity: str, interval: Interval) -> uuid.UUID:
    """The id of a batch: the same for every re-run or backfill of the same interval."""
    name = f"{source}/{entity}/{interval.start.isoformat()}/{interval.end.isoformat()}"
    return uuid.uuid5(BATCH_NAMESPACE, name)
