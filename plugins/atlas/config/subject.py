"""An entity's data subject (the YAML's ``subject``): which column says whose record it is.

Data-subject requests (``atlas.dsr``) find a person's records through it: ``key`` names the
column holding the subject's id (``customer_id``), and entities whose ``subject.key`` has the same
name hold records of the same subject across sources (``crm.customers``, ``shop.orders``,
``support.tickets``). ``identifiers`` are further columns a request may name the subject by
(``email``); they are resolved to keys in the entity's own records. Which columns hold the
subject's personal data is not declared here: it is what navigate masks (``pii``, ``free_text``
or a masked ``classification``).
"""

from __future__ import annotations

from collections.abc import Sequence

from atlas.config.types import Identifier, Model


class Subject(Model):
    """Whose record a row is, for data-subject requests."""

    key: Identifier
    """The column holding the data subject's id; a request names the subject by this column's
    name (``{"customer_id": 42}``), and erasure keeps it (facts still count the subject's rows)."""
    identifiers: list[Identifier] = []
    """Columns a request may also name the subject by (``{"email": "…"}``, compared without case);
    their values also find the subject's lines in ``explore.quarantine`` (raw text)."""

    def undeclared(self, columns: Sequence[str]) -> tuple[tuple[str | int, ...], str] | None:
        """The key path and message of the first subject column not among ``columns``, if any."""
        named: list[tuple[tuple[str | int, ...], str]] = [(("subject", "key"), self.key)]
        named += [(("subject", "identifiers", i), name) for i, name in enumerate(self.identifiers)]
        for at, name in named:
            if name not in columns:
                return at, f"subject column {name!r} is not declared in columns ({', '.join(columns)})"
        return None
