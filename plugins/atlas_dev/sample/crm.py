"""The ``crm`` sample source: one customers CSV per day, as the CRM would export it.

``<out>/customers/YYYY/MM/customers_YYYYMMDD.csv`` holds the customers created or changed that
day; the first day of the range holds the initial population (ids ``1..N``). The columns are
exactly those of ``include/sources/crm.yaml``.

Known change for the SCD2 demo: customer ``MOVING_CUSTOMER_ID`` (1) moves to another city on the
second day of the range (``start + 1 day``); no other change touches that customer.

With ``bad_rows`` (the default, for the demo) every day's file also holds lines a connector must
quarantine (one row wider than the header, one unterminated quote, one line with invalid UTF-8)
and rows that are valid CSV but fail chart validation (a bad e-mail, an unknown country, a birth
date in the future, a missing last name). Their customer ids are ``BAD_ID_BASE + ...``, outside
the real population.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import random
from pathlib import Path

from atlas_dev.sample import people

log = logging.getLogger(__name__)

COLUMNS = (
    "customer_id", "first_name", "last_name", "email", "phone", "street", "city", "postal_code",
    "country", "birth_date", "updated_at",
)  # fmt: skip
INITIAL_CUSTOMERS = 1_000
"""Customers on the first day at ``scale=1``."""
NEW_PER_DAY = 20
CHANGES_PER_DAY = 15
MOVING_CUSTOMER_ID = 1
"""The customer whose address changes on the second day of the range (the SCD2 demo)."""
MOVE_DAY_INDEX = 1
"""0-based day of the range on which ``MOVING_CUSTOMER_ID`` moves: the second day."""
BAD_ID_BASE = 9_000_000
"""Ids of the deliberately bad rows: ``BAD_ID_BASE + day_index * 10 + n``."""

BROKEN_LINE_KINDS = ("wide_row", "unterminated_quote", "invalid_utf8")
"""Lines the files connector quarantines (one of each per day with ``bad_rows``)."""
INVALID_ROW_KINDS = ("bad_email", "unknown_country", "future_birth_date", "missing_last_name")
"""Rows valid as CSV that chart validation quarantines (one of each per day with ``bad_rows``)."""


def population(scale: float) -> int:
    """How many customers the first day creates (ids ``1..population``)."""
    return max(10, int(INITIAL_CUSTOMERS * scale))


def customer_file(out: Path, day: dt.date) -> Path:
    """Where the export of ``day`` is written."""
    return out / "customers" / f"{day:%Y}" / f"{day:%m}" / f"customers_{day:%Y%m%d}.csv"


def new_customer(rng: random.Random, customer_id: int, day: dt.date) -> dict[str, str]:
    """A customer created on ``day``."""
    first, last = people.person(rng)
    country = rng.choice(people.COUNTRIES)
    street, city, postal = people.address(rng, country)
    return {
        "customer_id": str(customer_id),
        "first_name": first,
        "last_name": last,
        "email": people.email(rng, first, last),
        "phone": people.phone(rng, country) if rng.random() < 0.85 else "",
        "street": street,
        "city": city,
        "postal_code": postal,
        "country": country,
        "birth_date": people.birth_date(rng).isoformat(),
        "updated_at": people.iso(people.moment(rng, day)),
    }


def changed_address(customer: dict[str, str], rng: random.Random, day: dt.date) -> dict[str, str]:
    """``customer`` after moving to another city of the same country on ``day``."""
    country = customer["country"]
    while True:
        street, city, postal = people.address(rng, country)
        if city != customer["city"]:
            break
    return customer | {
        "street": street,
        "city": city,
        "postal_code": postal,
        "updated_at": people.iso(people.moment(rng, day)),
    }


def _changed(customer: dict[str, str], rng: random.Random, day: dt.date) -> dict[str, str]:
    kind = rng.choice(("address", "phone", "email"))
    if kind == "address":
        return changed_address(customer, rng, day)
    updated = people.iso(people.moment(rng, day))
    if kind == "phone":
        return customer | {"phone": people.phone(rng, customer["country"]), "updated_at": updated}
    email = people.email(rng, customer["first_name"], customer["last_name"])
    return customer | {"email": email, "updated_at": updated}


def _invalid_rows(rng: random.Random, day: dt.date, index: int) -> list[dict[str, str]]:
    rows = []
    for n, kind in enumerate(INVALID_ROW_KINDS):
        row = new_customer(rng, BAD_ID_BASE + index * 10 + n, day)
        if kind == "bad_email":
            row["email"] = row["email"].replace("@", " at ")
        elif kind == "unknown_country":
            row["country"] = "XX"
        elif kind == "future_birth_date":
            row["birth_date"] = dt.date(day.year + 60, 5, 1).isoformat()
        else:
            row["last_name"] = ""
        rows.append(row)
    return rows


def _broken_lines(rng: random.Random, day: dt.date, index: int) -> list[bytes]:
    base = BAD_ID_BASE + index * 10 + 5
    wide = new_customer(rng, base, day)
    quote = new_customer(rng, base + 1, day)
    utf8 = new_customer(rng, base + 2, day)
    wide_line = ",".join([*wide.values(), "unexpected"]).encode()
    quote_line = ",".join(quote.values()).replace(f",{quote['first_name']},", f',"{quote["first_name"]},', 1)
    utf8_line = ",".join(utf8.values()).encode().replace(utf8["first_name"].encode(), b"J\xc3\x28rg", 1)
    return [wide_line + b"\n", quote_line.encode() + b"\n", utf8_line + b"\n"]


def _render(rows: list[dict[str, str]], broken: list[bytes]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    lines = [text.getvalue().encode()]
    for row in rows:
        text.seek(0)
        text.truncate()
        writer.writerow([row[c] for c in COLUMNS])
        lines.append(text.getvalue().encode())
    # spread the broken lines through the file: the rest of a file must survive each of them
    for k, line in enumerate(broken, 1):
        lines.insert(1 + (len(lines) - 1) * k // (len(broken) + 1), line)
    return b"".join(lines)


def generate_crm(
    out: Path, start: dt.date, end: dt.date, *, seed: int = 7, scale: float = 1.0, bad_rows: bool = True
) -> list[Path]:
    """Write one customers CSV per day of ``[start, end)`` under ``out``; return the files."""
    customers: dict[int, dict[str, str]] = {}
    written = []
    for index, day in enumerate(people.days(start, end)):
        rng = people.day_rng(seed, "crm", day)
        if index == 0:
            todays = [new_customer(rng, i, day) for i in range(1, population(scale) + 1)]
        else:
            next_id = max(customers) + 1
            todays = [new_customer(rng, next_id + i, day) for i in range(max(1, int(NEW_PER_DAY * scale)))]
            movable = sorted(set(customers) - {MOVING_CUSTOMER_ID})
            for customer_id in rng.sample(movable, min(len(movable), max(1, int(CHANGES_PER_DAY * scale)))):
                todays.append(_changed(customers[customer_id], rng, day))
            if index == MOVE_DAY_INDEX and MOVING_CUSTOMER_ID in customers:
                todays.append(changed_address(customers[MOVING_CUSTOMER_ID], rng, day))
        for row in todays:
            customers[int(row["customer_id"])] = row
        rows = sorted(todays, key=lambda r: int(r["customer_id"]))
        broken: list[bytes] = []
        if bad_rows:
            rows += _invalid_rows(rng, day, index)
            broken = _broken_lines(rng, day, index)
        path = customer_file(out, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_render(rows, broken))
        written.append(path)
    log.info("crm: wrote %s file(s) under %s", len(written), out)
    return written
