"""A labelled set of columns for evaluating PII classification (``bench/bench_pii.py``, tests).

Positives come from the sample generators' own helpers (``atlas_dev.sample.people``, the support
tickets); hard negatives are what naive analyzers flag: SKUs, order ids and numbers, IBAN-shaped
product codes (checksum wrong), ISO timestamps, amounts, order dates, free text without names,
product names, and a city column of cities that are also surnames. Deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass

from atlas_dev.sample import people
from atlas_dev.sample.support import TOPICS

SURNAME_CITIES = (
    "Lincoln",
    "Austin",
    "Jackson",
    "Florence",
    "Chester",
    "Paris",
    "Sydney",
    "Jordan",
    "Preston",
    "Denver",
)


@dataclass(frozen=True)
class LabelledColumn:
    """A column, its sample values, what the YAML would say of it, and the truth."""

    table: str
    name: str
    values: list[str]
    expected: frozenset[str]
    """The entities it holds (empty: no personal data: a hard negative)."""
    hint: str | None = None
    free_text: bool = False
    hard_negative: bool = False

    @property
    def label(self) -> str:
        return f"{self.table}.{self.name}"


def _iban(rng: random.Random, country: str = "DE") -> str:
    """A valid IBAN (ISO 13616 mod-97 check digits) with a random 18-digit BBAN."""
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def _invalid_iban_like(rng: random.Random) -> str:
    """A product code shaped like an IBAN whose check digits are wrong."""
    code = _iban(rng)
    check = (int(code[2:4]) + 1 + rng.randrange(90)) % 97 + 2
    return f"{code[:2]}{check:02d}{code[4:]}"


def labelled_columns(rows: int = 200, seed: int = 7) -> list[LabelledColumn]:
    """The labelled set: ``rows`` values per column."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    day = dt.date(2026, 1, 5)
    persons = [people.person(rng) for _ in range(rows)]
    countries = [rng.choice(people.COUNTRIES) for _ in range(rows)]

    def col(table: str, name: str, values: list[str], expected: set[str], **kw: object) -> LabelledColumn:
        return LabelledColumn(table, name, values, frozenset(expected), **kw)  # type: ignore[arg-type]

    def tickets(with_names: bool) -> list[str]:
        out = []
        for first, last in persons:
            subject, text = rng.choice(TOPICS)
            order = rng.randint(10_000, 99_999)
            if with_names:
                contact = rng.choice(
                    [
                        f"You can reach me at {people.email(rng, first, last)}.",
                        f"Please call me back on {people.phone(rng, rng.choice(people.COUNTRIES))}.",
                        "",
                    ]
                )
                out.append(
                    f"Hello, this is {first} {last}: {text.format(order=order)} {contact} Regards, {first}"
                )
            else:
                out.append(subject.format(order=order))
        return out

    customers = [
        col("crm.customers", "first_name", [f for f, _ in persons], {"PERSON"}, hint="PERSON"),
        col("crm.customers", "last_name", [last for _, last in persons], {"PERSON"}),
        col("crm.customers", "full_name", [f"{f} {last}" for f, last in persons], {"PERSON"}),
        col("crm.customers", "email", [people.email(rng, f, last) for f, last in persons], {"EMAIL_ADDRESS"}),
        col("crm.customers", "phone", [people.phone(rng, c) for c in countries], {"PHONE_NUMBER"}),
        col("crm.customers", "street", [people.address(rng, c)[0] for c in countries], {"STREET_ADDRESS"}),
        col(
            "crm.customers",
            "birth_date",
            [people.birth_date(rng).isoformat() for _ in range(rows)],
            {"DATE_OF_BIRTH"},
        ),
        col("crm.customers", "iban", [_iban(rng) for _ in range(rows)], {"IBAN_CODE"}),
        col(
            "crm.customers", "contact", [people.email(rng, f, last) for f, last in persons], {"EMAIL_ADDRESS"}
        ),
        col("crm.customers", "name", [f"{f} {last}" for f, last in persons], {"PERSON"}),
    ]
    negatives = [
        col(
            "shop.products",
            "sku",
            [f"{rng.choice(['ELE', 'HOM', 'TOY', 'BOO'])}-{rng.randint(0, 999999):06d}" for _ in range(rows)],
            set(),
        ),
        col(
            "shop.products",
            "name",
            [
                rng.choice(
                    ["Headphones", "USB Cable", "Smart Speaker", "E-Reader", "Desk Lamp", "Garden Hose"]
                )
                for _ in range(rows)
            ],
            set(),
        ),
        col("shop.products", "product_code", [_invalid_iban_like(rng) for _ in range(rows)], set()),
        col(
            "shop.products", "unit_price", [f"{rng.randint(1, 99999) / 100:.2f}" for _ in range(rows)], set()
        ),
        col("shop.orders", "order_id", [str(rng.randint(1_000_000, 99_999_999)) for _ in range(rows)], set()),
        col(
            "shop.orders",
            "order_number",
            [f"ORD-{day.year}-{rng.randint(0, 999999):06d}" for _ in range(rows)],
            set(),
        ),
        col("shop.orders", "customer_id", [str(rng.randint(1, 500_000)) for _ in range(rows)], set()),
        col(
            "shop.orders",
            "order_date",
            [(day - dt.timedelta(days=rng.randrange(900))).isoformat() for _ in range(rows)],
            set(),
        ),
        col(
            "shop.orders",
            "updated_at",
            [people.moment(rng, day).isoformat().replace("+00:00", "Z") for _ in range(rows)],
            set(),
        ),
        col("shop.orders", "currency", [rng.choice(["EUR", "USD", "GBP"]) for _ in range(rows)], set()),
        col("shop.warehouses", "city", [rng.choice(SURNAME_CITIES) for _ in range(rows)], set()),
        col("support.tickets", "subject", tickets(with_names=False), set(), free_text=True),
    ]
    free_text = [
        col(
            "support.tickets",
            "body",
            tickets(with_names=True),
            {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER"},
            hint="PERSON",
            free_text=True,
        ),
    ]
    return (
        customers
        + free_text
        + [
            LabelledColumn(c.table, c.name, c.values, c.expected, c.hint, c.free_text, hard_negative=True)
            for c in negatives
        ]
    )
