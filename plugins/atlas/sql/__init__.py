"""Task SQL lives in ``include/sql/<layer>/<verb>.sql``; ``load_sql`` is the one way to read it."""

from __future__ import annotations

import functools
import re

from atlas.constants import SQL_DIR

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@functools.cache
def load_sql(layer: str, verb: str) -> str:
    """The text of ``include/sql/<layer>/<verb>.sql`` (one operation per file), cached."""
    if not (_NAME.match(layer) and _NAME.match(verb)):
        raise ValueError(f"SQL layer and verb must be snake_case names, got {layer!r}/{verb!r}")
    path = SQL_DIR / layer / f"{verb}.sql"
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"no task SQL {layer}/{verb}: {path} does not exist") from None
