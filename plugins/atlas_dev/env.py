"""``environment_variable()``: an environment variable set for a block, then put back as it was;
``local_pseudonym_key()``: the pseudonym key connection of a local warehouse."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PSEUDONYM_KEY_ENV = "AIRFLOW_CONN_ATLAS_PSEUDONYM_KEY"
"""The connection ``atlas_pseudonym_key``: its password keys navigate's pseudonyms (sql/V023)."""


@contextmanager
def environment_variable(name: str, value: str) -> Iterator[None]:
    """``os.environ[name] = value`` for the block; afterwards the old value, or none, again."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def local_pseudonym_key(folder: Path) -> str:
    """``AIRFLOW_CONN_ATLAS_PSEUDONYM_KEY`` of the local warehouse kept in ``folder`` (the demo's,
    the stack's): a random key made on first use and kept in ``folder/pseudonym.key`` (mode 0600),
    so the warehouse's pseudonyms stay the same from one run to the next. Never in the repository."""
    path = folder / "pseudonym.key"
    if not path.exists():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48))
    key = path.read_text(encoding="utf-8").strip()
    return json.dumps({"conn_type": "generic", "password": key})
