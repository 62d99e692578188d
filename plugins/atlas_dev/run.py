"""``make run SOURCE=… DATE=…``: ``python -m atlas.cli run`` with the demo's local fallbacks.

``atlas`` (what the image runs) needs the ``atlas_warehouse`` connection; this developer entry
point provides one the way ``make demo`` does: without ``AIRFLOW_CONN_ATLAS_WAREHOUSE`` it starts
the embedded PostgreSQL in ``.demo/pgdata`` (the demo's warehouse). For the three sample sources
of ``include/sources`` it also serves their sample data (CRM files, the shop database, the
support API) for the length of the run, so ``make run SOURCE=crm DATE=2025-12-31`` works from a
fresh clone. Then it runs exactly what ``python -m atlas.cli run`` runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from atlas.constants import SOURCES_DIR


def serves_samples(source: str) -> bool:
    """Whether ``source`` is one of the demo's sample sources read from ``include/sources``."""
    from atlas.config import sources_folder
    from atlas_dev.demo import SOURCES

    return source in SOURCES and sources_folder().resolve() == SOURCES_DIR.resolve()


def run_source(source: str, day: dt.date, *, retries: int = 0) -> int:
    """Run ``source`` for ``day`` as ``atlas.cli run`` does, on the demo's warehouse unless one is given."""
    from atlas import cli
    from atlas_dev.demo import demo_environment, warehouse
    from atlas_dev.demo_sources import SAMPLE_END, SAMPLE_START, sample_sources

    demo_environment()
    sample = serves_samples(source)
    with warehouse() as (_warehouse_dsn, admin_dsn, _embedded):
        samples = sample_sources(admin_dsn) if sample else contextlib.nullcontext()
        with samples:
            if sample and not SAMPLE_START <= day < SAMPLE_END:
                print(
                    f"note: the sample data covers {SAMPLE_START} .. {SAMPLE_END - dt.timedelta(days=1)}; "
                    f"{day} has none"
                )
            return cli.main(["run", source, "--date", day.isoformat(), "--retries", str(retries)])
