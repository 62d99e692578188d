"""Deterministic generators of the sample sources ``crm``, ``shop`` and ``support``.

``generate(name, target, start, end)`` fills one source for the days ``[start, end)`` (``end``
excluded, like a data interval): ``crm`` and ``support`` write files under a folder, ``shop``
fills a PostgreSQL database given by DSN. The same seed gives byte-identical output; nothing is
downloaded. ``python -m atlas_dev.sample --help`` is the command line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

SOURCES = ("crm", "shop", "support")


def generate(
    name: str,
    target: str | Path,
    start: dt.date,
    end: dt.date,
    *,
    seed: int = 7,
    scale: float = 1.0,
    bad_rows: bool = True,
) -> Any:
    """Generate sample source ``name`` into ``target`` (a folder, or a DSN for ``shop``).

    Returns what the generator returns: the CSV files (crm), the row counts per table (shop),
    the JSON lines file of tickets (support).
    """
    options = {"seed": seed, "scale": scale, "bad_rows": bad_rows}
    if name == "crm":
        from atlas_dev.sample.crm import generate_crm

        return generate_crm(Path(target), start, end, **options)
    if name == "shop":
        from atlas_dev.sample.shop import generate_shop

        return generate_shop(str(target), start, end, **options)
    if name == "support":
        from atlas_dev.sample.support import generate_support

        return generate_support(Path(target), start, end, **options)
    raise ValueError(f"unknown sample source {name!r}: choose one of {', '.join(SOURCES)}")
