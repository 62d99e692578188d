"""The HTTP connector against the real ``SupportApiServer``: pagination, retries, auth."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from atlas.batches import Interval
from atlas.connectors.http.config import HttpConnector, HttpEntity
from atlas.connectors.http.reader import HttpSourceConnector
from atlas.exceptions import ConnectorError
from atlas_dev.sample.api import SupportApiServer
from atlas_dev.sample.support import Ticket, generate_tickets

START = dt.date(2026, 1, 1)
DAY2 = Interval(dt.datetime(2026, 1, 2, tzinfo=dt.UTC), dt.datetime(2026, 1, 3, tzinfo=dt.UTC))
TICKETS = generate_tickets(START, START + dt.timedelta(days=3))
ENTITY = HttpEntity(
    name="tickets",
    endpoint="/api/v1/tickets",
    records_path="data",
    params={"updated_from": "{start:%Y-%m-%dT%H:%M:%SZ}", "updated_to": "{end:%Y-%m-%dT%H:%M:%SZ}"},
    key=["ticket_id"],
    columns=[{"name": "ticket_id"}, {"name": "updated_at"}],
)


def in_day2(tickets: list[Ticket]) -> list[Ticket]:
    """The tickets the API should return for DAY2, in its order."""
    return [t for t in tickets if "2026-01-02T" <= t.updated_at < "2026-01-03T"]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[SupportApiServer]:
    """A running API with a bearer token; ``support_api`` is its Airflow connection."""
    with SupportApiServer(TICKETS, token="s3cret") as server:
        monkeypatch.setenv("AIRFLOW_CONN_SUPPORT_API", server.connection_uri())
        yield server


def connector(sleeps: list[float] | None = None, **kwargs: object) -> HttpSourceConnector:
    """A connector on ``support_api`` whose sleeps are recorded instead of waited."""
    options = {"conn_id": "support_api", "pagination": "cursor", "page_size": 7} | kwargs
    recorder = sleeps if sleeps is not None else []
    return HttpSourceConnector(HttpConnector(**options), sleep=recorder.append)


@pytest.mark.parametrize("pagination", [pytest.param(p, id=p) for p in ("cursor", "page", "offset")])
def test_every_page_is_read(api: SupportApiServer, pagination: str) -> None:
    """Each pagination style returns every record of the interval once, in order."""
    chunks = list(connector(pagination=pagination).extract(ENTITY, DAY2))
    records = [r for c in chunks for r, _ in c.records]
    rejects = [r for c in chunks for r in c.rejects]
    expected = in_day2(TICKETS)
    assert len(expected) > 21  # several pages of 7
    assert [r["ticket_id"] for r in records] == [t.ticket_id for t in expected if isinstance(t.record, dict)]
    assert len(records) + len(rejects) == len(expected)
    assert len(api.requests) >= len(expected) // 7


def test_non_object_record_is_rejected_with_location(api: SupportApiServer) -> None:
    """A record that is not a JSON object is a Reject naming the request and position."""
    chunks = list(connector().extract(ENTITY, DAY2))
    rejects = [r for c in chunks for r in c.rejects]
    assert len(rejects) == 1
    assert rejects[0].reason == "record is a JSON string, not an object"
    assert rejects[0].location.startswith(
        f"GET {api.url}/api/v1/tickets?updated_from=2026-01-02T00%3A00%3A00Z"
    )
    assert rejects[0].raw.startswith('"ticket export failed')
    _, location = chunks[0].records[0]
    assert location.endswith("&page_size=7#1")


def test_no_pagination_reads_one_response(api: SupportApiServer) -> None:
    """``pagination: none`` makes exactly one request."""
    chunks = list(connector(pagination="none").extract(ENTITY, DAY2))
    assert len(api.requests) == 1
    assert sum(len(c) for c in chunks) == min(100, len(in_day2(TICKETS)))


@pytest.mark.parametrize(
    ("status", "retry_after", "expected_sleeps"),
    [
        pytest.param(429, 2.5, [2.5, 2.5], id="429-retry-after"),
        pytest.param(503, None, [0.5, 1.0], id="503-exponential"),
    ],
)
def test_retries_then_succeeds(
    api: SupportApiServer, status: int, retry_after: float | None, expected_sleeps: list[float]
) -> None:
    """429 and 5xx are retried with backoff (Retry-After honoured) and the extract completes."""
    api.fail_next(2, status=status, retry_after=retry_after)
    sleeps: list[float] = []
    records = [r for c in connector(sleeps, backoff_seconds=0.5).extract(ENTITY, DAY2) for r in c.records]
    assert sleeps == expected_sleeps
    assert len(records) == len([t for t in in_day2(TICKETS) if isinstance(t.record, dict)])


def test_gives_up_after_max_retries(api: SupportApiServer) -> None:
    """After max_retries failed retries the extract fails with the URL and status."""
    api.fail_next(10, status=503)
    sleeps: list[float] = []
    with pytest.raises(
        ConnectorError, match=r"GET http://127\.0\.0\.1:\d+/api/v1/tickets\?.*3 attempt\(s\): last HTTP 503"
    ):
        list(connector(sleeps, max_retries=2, backoff_seconds=1).extract(ENTITY, DAY2))
    assert sleeps == [1, 2]
    assert len(api.requests) == 3


def test_retry_sleep_is_capped(api: SupportApiServer) -> None:
    """A huge Retry-After is capped at the connector's maximum sleep."""
    api.fail_next(1, status=429, retry_after=3600)
    sleeps: list[float] = []
    conn = HttpSourceConnector(HttpConnector(conn_id="support_api"), sleep=sleeps.append, max_sleep=5)
    list(conn.extract(ENTITY, DAY2))
    assert sleeps == [5]


def test_basic_auth_from_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Login and password of the connection are sent as basic auth."""
    with SupportApiServer(TICKETS, token=None, basic_auth=("agent", "pa:ss")) as server:
        conn = {
            "conn_type": "http",
            "host": "127.0.0.1",
            "port": server.port,
            "login": "agent",
            "password": "pa:ss",
        }
        monkeypatch.setenv("AIRFLOW_CONN_SUPPORT_API", json.dumps(conn))
        records = [r for c in connector().extract(ENTITY, DAY2) for r in c.records]
        assert records


def test_wrong_credentials_fail_without_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 401 is not retried: the error names the URL, the status and what to check."""
    with SupportApiServer(TICKETS, token="right") as server:
        uri = f"http://127.0.0.1:{server.port}?__extra__=" + json.dumps({"bearer_token": "wrong"})
        monkeypatch.setenv("AIRFLOW_CONN_SUPPORT_API", uri)
        sleeps: list[float] = []
        with pytest.raises(ConnectorError, match=r"answered HTTP 401.*credentials"):
            list(connector(sleeps).extract(ENTITY, DAY2))
        assert sleeps == []
        assert len(server.requests) == 1
