"""What every connector yields: chunks of records ready to land, and rejects to quarantine."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from atlas.batches import Interval
from atlas.config.models import Entity

DEFAULT_CHUNK_ROWS = 10_000
"""Records per chunk: small enough for flat memory, large enough to keep COPY busy."""


@dataclass(slots=True)
class Reject:
    """A record that could not be parsed; it is quarantined with its reason, never dropped."""

    location: str
    """Where it came from: a file path, ``url?page=3``, ``schema.table``."""
    line_number: int | None
    """The 1-based line (files) or record position within the location, when known."""
    raw: str
    """The raw text of the record as read (decoded with replacement characters if needed)."""
    reason: str
    """Why it was rejected, e.g. ``row has 12 fields, header has 10``."""


@dataclass(slots=True)
class Chunk:
    """A slice of an entity's extract. ``records`` hold ``(payload, source_location)`` pairs; a
    payload maps column names to JSON-serialisable values."""

    records: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records) + len(self.rejects)


@dataclass(frozen=True, slots=True)
class Watermark:
    """The highest watermark value an extract saw; checkpointed when its batch commits."""

    column: str
    value: str


class SourceConnector(Protocol):
    """Reads one entity's records of a data interval from a source system."""

    def extract(self, entity: Entity, interval: Interval) -> Iterator[Chunk]:
        """Yield the interval's records in chunks; never hold the whole extract in memory."""
        ...

    def watermark(self) -> Watermark | None:
        """After ``extract`` is exhausted: the high watermark to checkpoint, if incremental."""
        ...
