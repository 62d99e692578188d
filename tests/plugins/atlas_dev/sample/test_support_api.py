"""The sample support API server: filtering, cursor pagination, auth, injected faults."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from atlas_dev.sample.api import SupportApiServer
from atlas_dev.sample.support import generate_tickets

TICKETS = generate_tickets(dt.date(2026, 1, 1), dt.date(2026, 1, 3), bad_rows=False)
DAY1 = {"updated_from": "2026-01-01T00:00:00Z", "updated_to": "2026-01-02T00:00:00Z", "page_size": "10"}


def test_cursor_pages_cover_the_interval() -> None:
    """Following next_cursor returns every ticket of the interval once, then null."""
    with SupportApiServer(TICKETS, token="t") as server:
        seen, params = [], dict(DAY1)
        while True:
            body = requests.get(
                f"{server.url}/api/v1/tickets",
                params=params,
                headers={"Authorization": "Bearer t"},
                timeout=5,
            ).json()
            seen += [r["ticket_id"] for r in body["data"]]
            if body["next_cursor"] is None:
                break
            params["cursor"] = body["next_cursor"]
    expected = [t.ticket_id for t in TICKETS if t.updated_at < "2026-01-02"]
    assert seen == expected


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({}, 401, id="no-credentials"),
        pytest.param({"Authorization": "Bearer nope"}, 401, id="wrong-token"),
        pytest.param({"Authorization": "Bearer t"}, 200, id="token"),
    ],
)
def test_authentication_is_required(headers: dict[str, str], status: int) -> None:
    """Requests without the right bearer token are refused."""
    with SupportApiServer(TICKETS, token="t") as server:
        response = requests.get(f"{server.url}/api/v1/tickets", params=DAY1, headers=headers, timeout=5)
    assert response.status_code == status


def test_injected_faults_come_first_with_retry_after() -> None:
    """fail_next answers the next requests with the given status and Retry-After, then recovers."""
    with SupportApiServer(TICKETS, token=None) as server:
        server.fail_next(2, status=429, retry_after=3)
        answers = [requests.get(f"{server.url}/api/v1/tickets", params=DAY1, timeout=5) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3"


def test_bad_parameters_are_a_400() -> None:
    """A malformed timestamp is answered with 400 and a message."""
    with SupportApiServer(TICKETS, token=None) as server:
        response = requests.get(
            f"{server.url}/api/v1/tickets", params={"updated_from": "yesterday"}, timeout=5
        )
    assert response.status_code == 400
    assert "updated_from" in response.json()["error"]
