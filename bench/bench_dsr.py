"""Erasure benchmark: one data subject erased in a warehouse of N customers (default 1M).

    python bench/bench_dsr.py [--customers 1000000] [--dsn postgresql://…] [--keep]

Creates its own database on 127.0.0.1:5432 (or uses ``--dsn``), migrates it and fills, with
``generate_series`` in the server: ``explore.raw_data`` (one payload per customer, as the crm CSV
lands it, plus 2 orders per customer of ``shop.orders``), ``chart.crm__customers`` (the table the
promotion creates, from crm.yaml), ``chart.shop__orders``, and in navigate what dbt builds:
``crm__customers``, ``dim_customer`` (every customer one version, 10% two), ``fact_orders`` (2 per
customer), with the data dictionary's rows for their personal columns. Then it erases one subject
with the code the DAG runs (``atlas.dsr``: resolve, select, erase per layer, tombstones), once by
e-mail (the identifier is searched in chart and in every raw payload of the entity) and once by
customer id, and prints the time of each step.

Target (issue 12): under 10 s for one subject in a warehouse of 1M customers.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "plugins"), str(ROOT / "dags")]
_TMP = Path(tempfile.mkdtemp(prefix="atlas-bench-dsr-"))
os.environ.setdefault("AIRFLOW_HOME", str(_TMP / "airflow"))
os.environ.setdefault("HOME", str(_TMP / "home"))
os.environ["ATLAS_SOURCES_DIR"] = str(ROOT / "include" / "sources")

import psycopg  # noqa: E402

BATCH = "00000000-0000-0000-0000-0000000000b1"
FILL = [
    "SELECT pipeline.ensure_partition('explore.raw_data', 'month', '2026-01-01Z')",
    """INSERT INTO pipeline.batches (batch_id, source_name, entity_name, interval_start, interval_end, status)
       VALUES (%(batch)s, 'crm', 'customers', '2026-01-01Z', '2026-01-02Z', 'promoted')""",
    """INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, record_key, payload,
                                     payload_checksum, source_location)
       SELECT 'crm', 'customers', %(batch)s, '2026-01-01Z', i::text, p, md5(p::text), 'customers.csv'
         FROM generate_series(1, %(n)s) AS i,
              LATERAL (SELECT jsonb_build_object(
                  'customer_id', i::text, 'first_name', 'First' || (i %% 997), 'last_name', 'Last' || (i %% 991),
                  'email', 'user' || i || '@example.com', 'phone', '+49 30 ' || lpad((i %% 1000000)::text, 7, '0'),
                  'street', 'Street ' || (i %% 500), 'city', 'Berlin', 'postal_code', lpad((i %% 99999)::text, 5, '0'),
                  'country', 'DE', 'birth_date', '1980-01-01', 'updated_at', '2026-01-01T10:00:00') AS p) AS x""",
    """INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, record_key, payload,
                                     payload_checksum, source_location)
       SELECT 'shop', 'orders', gen_random_uuid(), '2026-01-01Z', o::text,
              jsonb_build_object('order_id', o, 'customer_id', 1 + o %% %(n)s, 'status', 'paid'), md5(o::text), 'shop'
         FROM generate_series(1, 2 * %(n)s) AS o""",
    """INSERT INTO chart.crm__customers
       SELECT (payload->>'customer_id')::bigint, payload->>'first_name', payload->>'last_name', payload->>'email',
              payload->>'phone', payload->>'street', payload->>'city', payload->>'postal_code', payload->>'country',
              (payload->>'birth_date')::date, (payload->>'updated_at')::timestamp,
              record_key, raw_id, batch_id, interval_start, payload_checksum, now()
         FROM explore.raw_data WHERE source_name = 'crm'""",
    """INSERT INTO chart.shop__orders
       SELECT o, 1 + o %% %(n)s, '2026-01-01', 'paid', 'EUR', '2026-01-01', o::text, o, %(batch)s, '2026-01-01Z', md5(o::text), now()
         FROM generate_series(1, 2 * %(n)s) AS o""",
    """CREATE TABLE navigate.crm__customers AS
       SELECT customer_id, '***'::text AS first_name, '***'::text AS last_name, '***'::text AS email, '***'::text AS phone,
              '***'::text AS street, '***'::text AS city, left(postal_code, 2) || '***' AS postal_code, country,
              NULL::date AS birth_date, updated_at, _raw_id, _batch_id, _interval_start, _promoted_at
         FROM chart.crm__customers""",
    """CREATE TABLE navigate.dim_customer AS
       SELECT c.customer_id, c.first_name, c.last_name, c.email, c.phone, c.street, c.city, c.postal_code, c.country,
              c.birth_date, c.updated_at AS source_updated_at, md5(c.customer_id::text || v) AS change_hash, c._batch_id,
              md5(c.customer_id::text || v) AS customer_key, now() AS snapshotted_at, now() AS valid_from,
              CASE WHEN v = 'a' AND c.customer_id %% 10 = 0 THEN now() END AS valid_to
         FROM navigate.crm__customers AS c, LATERAL (VALUES ('a'), ('b')) AS vs(v)
        WHERE v = 'a' OR c.customer_id %% 10 = 0""",
    "ALTER TABLE navigate.dim_customer ADD COLUMN is_current boolean GENERATED ALWAYS AS (valid_to IS NULL) STORED",
    """CREATE TABLE navigate.fact_orders AS
       SELECT order_id, customer_id, order_date, status, currency, updated_at AS source_updated_at, _batch_id,
              _interval_start, now() AS loaded_at FROM chart.shop__orders""",
    """INSERT INTO compliance.data_assets (schema_name, table_name, column_name, classification, pii_entity)
       SELECT 'navigate', t, c, CASE c WHEN 'birth_date' THEN 'restricted' ELSE 'confidential' END, NULL
         FROM unnest(ARRAY['crm__customers', 'dim_customer']) AS t,
              unnest(ARRAY['first_name', 'last_name', 'email', 'phone', 'street', 'city', 'postal_code', 'birth_date']) AS c""",
    "ANALYZE",
]


def _step(phases: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = fn()
    phases[name] = time.perf_counter() - started
    return result


def build(dsn: str, customers: int) -> float:
    from atlas.config import load_source
    from atlas.migrations import migrate
    from atlas.sql.chart import create_table

    migrate(dsn)
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in ("crm", "shop"):
            config = load_source(ROOT / "include" / "sources" / f"{name}.yaml")
            for entity in config.entities:
                conn.execute(create_table(name, entity))
        for statement in FILL:
            conn.execute(statement, {"batch": BATCH, "n": customers})
    return time.perf_counter() - started


def erase_one(dsn: str, label: str, subject: dict[str, Any]) -> dict[str, float]:
    from atlas.dsr import erase
    from atlas.dsr.find import resolve, selections
    from atlas.dsr.targets import load_targets

    phases: dict[str, float] = {}
    actor = erase.Actor(request_id="00000000-0000-0000-0000-00000000beef", dag_id="bench_dsr")
    found = load_targets()
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            who = _step(phases, "resolve", lambda: resolve(cur, found, subject))
            selected = _step(phases, "select", lambda: selections(cur, found, who))
        conn.commit()
        counts: dict[str, int] = {}
        counts |= _step(phases, "explore", lambda: erase.erase_explore(conn, selected, actor))
        counts |= _step(phases, "chart", lambda: erase.erase_chart(conn, selected, actor))
        counts |= _step(phases, "navigate", lambda: erase.erase_navigate(conn, selected, found, actor))
        tombstones = _step(phases, "tombstones", lambda: erase.write_tombstones(conn, selected, who, actor))
        total = time.perf_counter() - started
    changed = {k: v for k, v in counts.items() if v}
    print(f"erasure by {label} {subject}: {total:.2f} s total; keys {who.keys}; rows changed {changed}; "
          f"tombstones {tombstones}")  # fmt: skip
    print("  " + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in phases.items()))
    return {"total": total, **phases}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    from atlas_dev.embedded_pg import scratch_database

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with scratch_database(admin, "atlas_bench_dsr", given=args.dsn, keep=args.keep) as dsn:
        built = build(dsn, args.customers)
        print(
            f"warehouse of {args.customers:,} customers, {2 * args.customers:,} orders built in {built:.1f} s"
        )
        n = args.customers
        by_email = erase_one(dsn, "e-mail", {"email": f"USER{n // 2}@example.com"})
        by_id = erase_one(dsn, "customer id", {"customer_id": n // 3 // 10 * 10})
        again = erase_one(dsn, "e-mail again (nothing left to erase)", {"email": f"user{n // 2}@example.com"})
        print(
            f"RESULT customers={n} erase_by_email_s={by_email['total']:.2f} erase_by_id_s={by_id['total']:.2f}"
            f" rerun_s={again['total']:.2f} target_s=10"
        )


if __name__ == "__main__":
    main()
