"""The ``shop`` sample source: a web shop's PostgreSQL schema, filled for a range of days.

Creates (replaces) schema ``shop`` with ``products``, ``orders`` and ``order_lines`` (columns
as ``include/sources/shop.yaml``) in the database of ``dsn``. Each day of ``[start, end)``
gets new orders of 1-5 lines, with ``order_date`` and ``updated_at`` within the day; orders of
earlier days move on (placed → paid → shipped → delivered, some cancelled), which moves their
``updated_at`` to the later day, and a few product prices change, so an incremental load by
``updated_at`` sees changed rows. Customer ids lie within the ``crm`` population of the same
``scale``. With ``bad_rows`` one order line per day has quantity 0 (chart validation rejects it).
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from decimal import Decimal

import psycopg
from psycopg import sql

from atlas_dev.sample import people
from atlas_dev.sample.crm import population

log = logging.getLogger(__name__)

PRODUCTS = 60
ORDERS_PER_DAY = 40
CATEGORIES = {
    "books": ("Novel", "Cookbook", "Atlas", "Travel Guide"),
    "electronics": ("Headphones", "USB Cable", "Smart Speaker", "E-Reader"),
    "garden": ("Watering Can", "Seed Mix", "Garden Hose", "Pruning Shears"),
    "kitchen": ("Chef Knife", "Frying Pan", "Kettle", "Cutting Board"),
    "toys": ("Puzzle", "Building Blocks", "Board Game", "Kite"),
    "clothing": ("Rain Jacket", "Wool Scarf", "Sneakers", "T-Shirt"),
}
NEXT_STATUS = {"placed": "paid", "paid": "shipped", "shipped": "delivered"}
CURRENCIES = {"DE": "EUR", "FR": "EUR", "NL": "EUR", "ES": "EUR", "IT": "EUR", "GB": "GBP", "US": "USD"}

DDL = """
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
CREATE TABLE shop.products (
    product_id bigint PRIMARY KEY, sku text NOT NULL, name text NOT NULL, category text NOT NULL,
    unit_price numeric(10, 2) NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE shop.orders (
    order_id bigint PRIMARY KEY, customer_id bigint NOT NULL, order_date date NOT NULL,
    status text NOT NULL, currency text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE shop.order_lines (
    order_id bigint NOT NULL REFERENCES shop.orders, line_number integer NOT NULL,
    product_id bigint NOT NULL REFERENCES shop.products, quantity integer NOT NULL,
    unit_price numeric(10, 2) NOT NULL, order_date date NOT NULL, updated_at timestamptz NOT NULL,
    PRIMARY KEY (order_id, line_number));
CREATE INDEX ON shop.products (updated_at);
CREATE INDEX ON shop.orders (updated_at);
CREATE INDEX ON shop.order_lines (updated_at);
"""


def _products(rng: random.Random, day: dt.date, count: int) -> dict[int, list]:
    products = {}
    for product_id in range(1, count + 1):
        category = rng.choice(sorted(CATEGORIES))
        name = f"{rng.choice(CATEGORIES[category])} {rng.choice(('Classic', 'Pro', 'Mini', 'XL', 'Eco'))}"
        price = Decimal(rng.randint(199, 24999)) / 100
        products[product_id] = [product_id, f"SKU-{100000 + product_id:06d}", name, category, price]
        products[product_id].append(people.moment(rng, day))
    return products


def build_shop(
    start: dt.date, end: dt.date, *, seed: int = 7, scale: float = 1.0, bad_rows: bool = True
) -> tuple[dict[int, list], dict[int, list], list[list]]:
    """The final state of ``(products, orders, order_lines)`` after every day of ``[start, end)``."""
    products: dict[int, list] = {}
    orders: dict[int, list] = {}
    lines: list[list] = []
    customers = population(scale)
    for index, day in enumerate(people.days(start, end)):
        rng = people.day_rng(seed, "shop", day)
        if index == 0:
            products = _products(rng, day, max(5, int(PRODUCTS * scale)))
        else:
            for product_id in rng.sample(sorted(products), 2):
                product = products[product_id]
                product[4] = (product[4] * Decimal("1.05")).quantize(Decimal("0.01"))
                product[5] = people.moment(rng, day)
            for order in orders.values():  # earlier orders move on
                if order[3] in NEXT_STATUS and rng.random() < 0.5:
                    order[3] = (
                        "cancelled" if order[3] == "placed" and rng.random() < 0.1 else NEXT_STATUS[order[3]]
                    )
                    order[5] = people.moment(rng, day)
        first_id = max(orders, default=0) + 1
        for order_id in range(first_id, first_id + max(1, int(ORDERS_PER_DAY * scale))):
            created = people.moment(rng, day)
            currency = CURRENCIES[rng.choice(people.COUNTRIES)]
            orders[order_id] = [order_id, rng.randint(1, customers), day, "placed", currency, created]
            for line_number in range(1, rng.randint(1, 5) + 1):
                product = products[rng.choice(sorted(products))]
                lines.append([order_id, line_number, product[0], rng.randint(1, 5), product[4], day, created])
        if bad_rows:
            lines[-1][3] = 0  # quantity 0: chart validation (min 1) quarantines this line
    return products, orders, lines


def generate_shop(
    dsn: str, start: dt.date, end: dt.date, *, seed: int = 7, scale: float = 1.0, bad_rows: bool = True
) -> dict[str, int]:
    """Create and fill schema ``shop`` in ``dsn`` for ``[start, end)``; row counts per table."""
    products, orders, lines = build_shop(start, end, seed=seed, scale=scale, bad_rows=bad_rows)
    tables = {
        "products": ("product_id, sku, name, category, unit_price, updated_at", list(products.values())),
        "orders": ("order_id, customer_id, order_date, status, currency, updated_at", list(orders.values())),
        "order_lines": (
            "order_id, line_number, product_id, quantity, unit_price, order_date, updated_at",
            lines,
        ),
    }
    with psycopg.connect(dsn) as conn:
        conn.execute(DDL)
        for table, (columns, rows) in tables.items():
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier("shop", table), sql.SQL(columns)
            )
            with conn.cursor().copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
    counts = {table: len(rows) for table, (_, rows) in tables.items()}
    log.info("shop: filled schema shop for [%s, %s): %s", start, end, counts)
    return counts
