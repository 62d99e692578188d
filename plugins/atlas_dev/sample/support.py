"""The ``support`` sample source: helpdesk tickets whose free text mentions people.

Tickets carry the columns of ``include/sources/support.yaml``; ``subject`` and ``body`` name
customers, their e-mail addresses and phone numbers (what the PII scan must find). Each day
of ``[start, end)`` opens new tickets; some tickets of earlier days are updated later (status
changes), which moves their ``updated_at``: the API serves every ticket's latest state. With
``bad_rows`` each day also has one record that is not a JSON object (the connector rejects it)
and one ticket with priority ``critical`` (chart validation rejects it).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from atlas_dev.sample import people
from atlas_dev.sample.crm import population

log = logging.getLogger(__name__)

TICKETS_PER_DAY = 30
CHANNELS = ("email", "phone", "chat", "web")
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
TOPICS = (
    ("Order {order} has not arrived", "my order {order} was due last week and still has not arrived."),
    (
        "Refund for order {order}",
        "I returned order {order} two weeks ago and I am still waiting for the refund.",
    ),
    ("Cannot log in", "I cannot log in to my account since yesterday, the password reset mail never comes."),
    ("Wrong item delivered", "order {order} contained the wrong item, I ordered something else."),
    ("Change of address", "I moved, please send future orders to my new address."),
    ("Invoice needed", "please send me an invoice for order {order} for my employer."),
)
BAD_ID_BASE = 9_000_000
"""Ids of the deliberately invalid tickets: ``BAD_ID_BASE + day_index``."""


@dataclass(frozen=True, slots=True)
class Ticket:
    """One record the API serves: its latest ``updated_at`` (ISO, ``Z``), id and JSON value."""

    updated_at: str
    ticket_id: int
    record: Any
    """Normally a dict; a bad record (``bad_rows``) is a JSON string instead."""


def _ticket(rng: random.Random, ticket_id: int, day: dt.date, customers: int) -> dict[str, Any]:
    first, last = people.person(rng)
    country = rng.choice(people.COUNTRIES)
    order = rng.randint(1, 5000)
    subject, text = rng.choice(TOPICS)
    contact = rng.choice(
        (
            f"You can reach me at {people.email(rng, first, last)}.",
            f"Please call me back on {people.phone(rng, country)}.",
            f"My e-mail is {people.email(rng, first, last)}, phone {people.phone(rng, country)}.",
        )
    )
    opened = people.moment(rng, day)
    return {
        "ticket_id": ticket_id,
        "customer_id": rng.randint(1, customers) if rng.random() < 0.9 else None,
        "opened_at": people.iso(opened),
        "channel": rng.choice(CHANNELS),
        "priority": rng.choice(PRIORITIES),
        "status": "open",
        "subject": subject.format(order=order),
        "body": f"Hello, this is {first} {last}: {text.format(order=order)} {contact} Regards, {first}",
        "updated_at": people.iso(opened),
    }


BURST_FACTOR = 10
"""How many times the usual new tickets a burst day opens (``generate_tickets(burst=day)``)."""


def generate_tickets(
    start: dt.date,
    end: dt.date,
    *,
    seed: int = 7,
    scale: float = 1.0,
    bad_rows: bool = True,
    burst: dt.date | None = None,
) -> list[Ticket]:
    """Every ticket's latest state after ``[start, end)``, ordered by ``(updated_at, ticket_id)``.

    On the day ``burst`` (none by default) the helpdesk opens :data:`BURST_FACTOR` times the usual
    new tickets, as after an outage: the demo's row-count anomaly.
    """
    tickets: dict[int, dict[str, Any]] = {}
    bad: list[Ticket] = []
    customers = population(scale)
    for index, day in enumerate(people.days(start, end)):
        rng = people.day_rng(seed, "support", day)
        for ticket in tickets.values():  # earlier tickets progress
            if ticket["status"] != "closed" and rng.random() < 0.3:
                ticket["status"] = {"open": "pending", "pending": "solved", "solved": "closed"}[
                    ticket["status"]
                ]
                ticket["updated_at"] = people.iso(people.moment(rng, day))
        first_id = max(tickets, default=0) + 1
        opened = max(1, int(TICKETS_PER_DAY * scale)) * (BURST_FACTOR if day == burst else 1)
        for ticket_id in range(first_id, first_id + opened):
            tickets[ticket_id] = _ticket(rng, ticket_id, day, customers)
        if bad_rows:
            invalid = _ticket(rng, BAD_ID_BASE + index, day, customers) | {"priority": "critical"}
            bad.append(Ticket(invalid["updated_at"], invalid["ticket_id"], invalid))
            moment = people.iso(people.moment(rng, day))
            bad.append(Ticket(moment, BAD_ID_BASE + 500 + index, f"ticket export failed at {moment}"))
    good = [Ticket(t["updated_at"], t["ticket_id"], t) for t in tickets.values()]
    return sorted(good + bad, key=lambda t: (t.updated_at, t.ticket_id))


def generate_support(
    out: Path, start: dt.date, end: dt.date, *, seed: int = 7, scale: float = 1.0, bad_rows: bool = True
) -> Path:
    """Write the tickets as JSON lines to ``<out>/tickets.jsonl`` (for inspection); return the file.

    The API server is built from ``generate_tickets`` (or ``SupportApiServer.from_jsonl``).
    """
    tickets = generate_tickets(start, end, seed=seed, scale=scale, bad_rows=bad_rows)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "tickets.jsonl"
    with path.open("wb") as handle:
        for ticket in tickets:
            envelope = {
                "updated_at": ticket.updated_at,
                "ticket_id": ticket.ticket_id,
                "record": ticket.record,
            }
            handle.write(orjson.dumps(envelope) + b"\n")
    log.info("support: wrote %s ticket(s) to %s", len(tickets), path)
    return path


def read_tickets(path: Path) -> list[Ticket]:
    """The tickets of a file written by ``generate_support``."""
    with path.open("rb") as handle:
        return [Ticket(**orjson.loads(line)) for line in handle if line.strip()]
