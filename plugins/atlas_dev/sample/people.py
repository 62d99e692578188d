"""Small word lists and helpers for realistic, synthetic personal data (no download, no Faker).

Every helper draws from a ``random.Random`` it is given, so callers stay deterministic.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata

FIRST_NAMES = (
    "Anna", "Ben", "Clara", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas", "Karla",
    "Lukas", "Mia", "Noah", "Olivia", "Paul", "Quentin", "Rosa", "Samuel", "Tara", "Ulrich",
    "Vera", "William", "Xenia", "Yusuf", "Zoe", "Amelie", "Bastien", "Chloé", "Daan", "Elif",
    "Finn", "Giulia", "Hannah", "Isabel", "Jakob", "Lena", "Mateo", "Nora", "Oscar", "Pablo",
    "Lucía", "Sofia", "Thomas", "Léa", "Marco", "Sven", "Fatima", "Oliver", "Charlotte",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Martin",
    "Bernard", "Dubois", "Laurent", "de Vries", "Jansen", "Bakker", "Smith", "Jones", "Taylor",
    "Brown", "Williams", "Johnson", "Miller", "Davis", "García", "Fernández", "López", "Rossi",
    "Russo", "Ferrari", "Esposito", "Bianchi", "Hoffmann", "Koch", "Richter", "Klein", "Wolf",
    "Petit", "Moreau", "Visser", "Evans", "O'Brien", "Nguyen", "Yilmaz", "Kowalski", "Novak",
)  # fmt: skip
STREET_NAMES = (
    "Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee", "Rue de la Paix", "Rue Victor Hugo",
    "Kerkstraat", "Dorpsstraat", "High Street", "Station Road", "Main Street", "Oak Avenue",
    "Calle Mayor", "Gran Vía", "Via Roma", "Via Garibaldi", "Schillerstraße", "Parkweg",
)  # fmt: skip
CITIES = {
    "DE": (("Berlin", "10115"), ("Hamburg", "20095"), ("München", "80331"), ("Köln", "50667")),
    "FR": (("Paris", "75001"), ("Lyon", "69001"), ("Marseille", "13001")),
    "NL": (("Amsterdam", "1012"), ("Rotterdam", "3011"), ("Utrecht", "3511")),
    "GB": (("London", "EC1A"), ("Manchester", "M1"), ("Leeds", "LS1")),
    "US": (("New York", "10001"), ("Chicago", "60601"), ("Austin", "73301")),
    "ES": (("Madrid", "28001"), ("Barcelona", "08001"), ("Valencia", "46001")),
    "IT": (("Roma", "00118"), ("Milano", "20121"), ("Torino", "10121")),
}
COUNTRIES = tuple(CITIES)
PHONE_PREFIX = {"DE": "+49", "FR": "+33", "NL": "+31", "GB": "+44", "US": "+1", "ES": "+34", "IT": "+39"}
MAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "post.example")


def ascii_slug(text: str) -> str:
    """``Chloé O'Brien`` → ``chloe.obrien``: lower-case ASCII for e-mail local parts."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower().replace(" ", ".") if c.isalnum() or c == ".")


def person(rng: random.Random) -> tuple[str, str]:
    """A first and last name."""
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def email(rng: random.Random, first: str, last: str) -> str:
    """A plausible e-mail address for the person."""
    return f"{ascii_slug(first)}.{ascii_slug(last)}{rng.randint(1, 999)}@{rng.choice(MAIL_DOMAINS)}"


def phone(rng: random.Random, country: str) -> str:
    """A phone number with the country's calling code."""
    return f"{PHONE_PREFIX[country]} {rng.randint(20, 989)} {rng.randint(1000000, 9999999)}"


def address(rng: random.Random, country: str) -> tuple[str, str, str]:
    """``(street, city, postal_code)`` in ``country``."""
    city, postal = rng.choice(CITIES[country])
    return f"{rng.choice(STREET_NAMES)} {rng.randint(1, 240)}", city, postal


def birth_date(rng: random.Random) -> dt.date:
    """A birth date between 1940 and 2006."""
    return dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(66 * 365))


def moment(rng: random.Random, day: dt.date) -> dt.datetime:
    """A UTC timestamp within ``day`` (whole seconds)."""
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start + dt.timedelta(seconds=rng.randrange(86_400))


def iso(value: dt.datetime) -> str:
    """``2026-01-01T10:23:45Z``."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def days(start: dt.date, end: dt.date) -> list[dt.date]:
    """The days of ``[start, end)`` (``end`` excluded, like a data interval)."""
    if end <= start:
        raise ValueError(f"the range [{start}, {end}) holds no day: end is excluded")
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def day_rng(seed: int, name: str, day: dt.date) -> random.Random:
    """An RNG for one source and day: the same seed gives the same data, days differ."""
    return random.Random(f"{seed}/{name}/{day.isoformat()}")  # noqa: S311 - synthetic data, not secrets
