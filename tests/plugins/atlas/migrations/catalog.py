"""What the migrations tests share: the Atlas schemas and reading one column from the catalog."""

from __future__ import annotations

import psycopg

SCHEMAS = {"explore", "chart", "navigate", "pipeline", "quality", "compliance", "archive"}
"""The seven warehouse schemas the migrations create."""


def column(conn: psycopg.Connection, query: str, *params: object) -> list:
    """The first column of ``query``'s rows."""
    return [row[0] for row in conn.execute(query, params or None).fetchall()]
