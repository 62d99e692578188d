"""``csv-bench``: N rows x 10 columns of customer-like CSV, streamed to disk for benchmarks.

Values come from small pools indexed by arithmetic on the row number (shuffled once by the
seed), so 10 M rows are written at disk speed without holding them in memory, and the same
seed gives a byte-identical file.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path

from atlas_dev.sample import people

BENCH_COLUMNS = (
    "customer_id", "first_name", "last_name", "email", "phone", "street", "city", "postal_code",
    "country", "updated_at",
)  # fmt: skip
BATCH_ROWS = 20_000


def load_average() -> str:
    """The 1, 5 and 15 min load averages and the core count, as the benches print them."""
    return f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores"


def write_bench_csv(path: Path, rows: int, *, seed: int = 7, day: dt.date = dt.date(2026, 1, 1)) -> int:
    """Write ``rows`` data rows (plus a header) to ``path``; return the bytes written."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data
    firsts = list(people.FIRST_NAMES)
    lasts = list(people.LAST_NAMES)
    rng.shuffle(firsts)
    rng.shuffle(lasts)
    slugs_first = [people.ascii_slug(n) for n in firsts]
    slugs_last = [people.ascii_slug(n) for n in lasts]
    places = [(country, *place) for country, cities in people.CITIES.items() for place in cities]
    rng.shuffle(places)
    streets = [f"{name} {number}" for name in people.STREET_NAMES for number in range(1, 61)]
    rng.shuffle(streets)
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    stamps = [people.iso(midnight + dt.timedelta(seconds=s)) for s in range(0, 86_400, 7)]
    nf, nl, np_, ns, nt = len(firsts), len(lasts), len(places), len(streets), len(stamps)
    prefixes = people.PHONE_PREFIX
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(BENCH_COLUMNS) + "\n")
        for batch_start in range(1, rows + 1, BATCH_ROWS):
            lines = []
            for i in range(batch_start, min(rows + 1, batch_start + BATCH_ROWS)):
                f, g = i % nf, (i // nf) % nl
                country, city, postal = places[i % np_]
                lines.append(
                    f"{i},{firsts[f]},{lasts[g]},{slugs_first[f]}.{slugs_last[g]}{i}@example.com,"
                    f"{prefixes[country]} {i % 900 + 100} {i % 9_000_000 + 1_000_000},{streets[i % ns]},"
                    f"{city},{postal},{country},{stamps[i % nt]}\n"
                )
            handle.write("".join(lines))
    return path.stat().st_size
