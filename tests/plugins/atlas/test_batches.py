"""The interval a run processes: its data interval, or the one its asset events name."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import Environment

from atlas.batches import Interval, interval_from_asset_events, interval_macro
from atlas.exceptions import AtlasError

START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
END = START + dt.timedelta(days=1)


def event(extra: dict[str, Any], event_id: int = 1) -> SimpleNamespace:
    return SimpleNamespace(id=event_id, extra=extra, asset=SimpleNamespace(uri="helpdesk://exports"))


def test_a_scheduled_run_processes_its_data_interval() -> None:
    assert Interval.from_context({"data_interval_start": START, "data_interval_end": END}) == Interval(
        START, END
    )


def test_an_asset_triggered_run_processes_the_interval_its_events_name() -> None:
    """Airflow gives an asset-triggered run no data interval: the events' extra names it."""
    same = {"interval_start": "2026-01-05T00:00:00Z", "interval_end": "2026-01-06T00:00:00+00:00"}
    events = {
        "helpdesk://exports": [
            event({"interval_start": START.isoformat(), "interval_end": END.isoformat()}),
            event(same, 2),
        ]
    }
    context = {"data_interval_start": None, "data_interval_end": None, "triggering_asset_events": events}
    assert Interval.from_context(context) == Interval(START, END)


def test_events_for_different_intervals_in_one_run_are_refused() -> None:
    """One run lands one batch per entity: a span would overlap the batches of its intervals."""
    later = {"interval_start": "2026-01-06T00:00:00Z", "interval_end": "2026-01-07T00:00:00Z"}
    events = [event({"interval_start": START.isoformat(), "interval_end": END.isoformat()}), event(later, 2)]
    with pytest.raises(AtlasError, match=r"2 different intervals .*POST /api/v2/backfills"):
        interval_from_asset_events(events)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param({}, "has no 'interval_start' and 'interval_end'", id="none"),
        pytest.param({"interval_start": "2026-01-05T00:00:00Z"}, "has no 'interval_end'", id="no-end"),
        pytest.param(
            {"interval_start": "2026-01-05T00:00:00", "interval_end": "2026-01-06T00:00:00Z"},
            "no UTC offset",
            id="naive",
        ),
        pytest.param(
            {"interval_start": "2026-01-06T00:00:00Z", "interval_end": "2026-01-05T00:00:00Z"},
            "ends before",
            id="reversed",
        ),
        pytest.param(
            {"interval_start": "yesterday", "interval_end": "2026-01-05T00:00:00Z"},
            "invalid interval",
            id="not-a-date",
        ),
    ],
)
def test_an_event_without_a_valid_interval_is_refused_with_what_to_send(
    extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(AtlasError, match=message) as error:
        interval_from_asset_events([event(extra, 7)])
    assert "asset event 7 on helpdesk://exports" in str(error.value)


def test_a_run_without_any_interval_is_refused_not_run_over_everything() -> None:
    context = {
        "run_id": "manual__x",
        "data_interval_start": None,
        "data_interval_end": None,
        "triggering_asset_events": {},
    }
    with pytest.raises(AtlasError, match="has no data interval: trigger it with a logical date"):
        Interval.from_context(context)


def test_the_template_macro_renders_the_same_interval() -> None:
    """``{{ atlas_interval('start') }}`` in a templated field (the dbt environment) sees the events too."""
    events = {"a": [event({"interval_start": START.isoformat(), "interval_end": END.isoformat()})]}
    template = Environment().from_string("{{ atlas_interval('start') }}/{{ atlas_interval('end') }}")
    rendered = template.render(
        atlas_interval=interval_macro, triggering_asset_events=events, data_interval_start=None
    )
    assert rendered == f"{START.isoformat()}/{END.isoformat()}"
    with pytest.raises(ValueError, match="use 'start' or 'end'"):
        Environment().from_string("{{ atlas_interval('begin') }}").render(atlas_interval=interval_macro)
