"""The demo's sample sources, served locally for the length of a demo run.

- ``crm``: CSV files under ``include/sample_data/crm`` (the path ``include/sources/crm.yaml`` reads);
- ``shop``: the PostgreSQL database ``atlas_shop_source`` on the warehouse's server, connection
  ``shop_source``;
- ``support``: the support API on a free loopback port, connection ``support_api``. It serves
  three days more (from :data:`SUPPORT_HISTORY_START`), which the demo runs first: the batch
  history anomaly detection needs. On :data:`SUPPORT_BURST` the helpdesk opens ten times its
  usual tickets, the row-count spike the detector flags.

All three are generated deterministically (seed 7) for the demo's days, so regenerating them
gives the same data and the demo stays idempotent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator

from psycopg.conninfo import conninfo_to_dict

from atlas.constants import INCLUDE_DIR
from atlas_dev.embedded_pg import create_database, uri

SAMPLE_START = dt.date(2025, 12, 31)
SAMPLE_END = dt.date(2026, 1, 2)
"""The demo's days ``[start, end)``: one per demo interval."""
SUPPORT_HISTORY_START = dt.date(2025, 12, 28)
"""support's sample starts three days earlier: the history of ordinary batches that
``include/sources/support.yaml`` (``quality.anomalies.min_history: 3``) asks for."""
SUPPORT_BURST = dt.date(2026, 1, 1)
"""The day the sample helpdesk opens ten times its usual tickets (the demo's anomaly)."""
SHOP_DATABASE = "atlas_shop_source"
CRM_DIR = INCLUDE_DIR / "sample_data" / "crm"


@contextlib.contextmanager
def sample_sources(admin_dsn: str, *, regenerate: bool = False) -> Iterator[None]:
    """Generate the sample sources if needed, serve them, and set their Airflow connections."""
    from atlas_dev.sample import generate
    from atlas_dev.sample.api import SupportApiServer
    from atlas_dev.sample.support import generate_tickets

    if regenerate or not any(CRM_DIR.rglob("*.csv")):
        files = generate("crm", CRM_DIR, SAMPLE_START, SAMPLE_END)
        print(f"sample crm: {len(files)} CSV file(s) in {CRM_DIR}")
    shop_dsn = create_database(admin_dsn, SHOP_DATABASE, if_missing=True)
    counts = generate("shop", shop_dsn, SAMPLE_START, SAMPLE_END)
    print(f"sample shop: database {SHOP_DATABASE} " + ", ".join(f"{t}={n}" for t, n in counts.items()))
    # the URI form that keeps a Unix-socket host (embedded server) in Airflow's host field
    os.environ["AIRFLOW_CONN_SHOP_SOURCE"] = uri(conninfo_to_dict(shop_dsn), host_in_authority=True)
    tickets = generate_tickets(SUPPORT_HISTORY_START, SAMPLE_END, burst=SUPPORT_BURST)
    with SupportApiServer(tickets) as api:
        os.environ["AIRFLOW_CONN_SUPPORT_API"] = api.connection_uri()
        print(f"sample support: API at {api.url} ({len(api.tickets)} tickets)")
        yield
