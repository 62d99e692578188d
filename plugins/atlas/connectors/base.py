"""What every connector provides: its registration (``ConnectorSpec``), and a reader yielding chunks
of records ready to land plus rejects to quarantine."""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from atlas.batches import Interval
from atlas.config.connectors import ConnectorConfig
from atlas.config.source import Entity
from atlas.exceptions import RegistryError

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
    raw_bytes: bytes | None = None
    """The exact bytes of the record as read, when the connector read bytes (files)."""
    byte_offset: int | None = None
    """Where ``raw_bytes`` start in the file."""


@dataclass(slots=True)
class Chunk:
    """A slice of an entity's extract. ``records`` hold ``(payload, source_location)`` pairs; a
    payload maps column names to JSON-serialisable values."""

    records: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Warnings about the extract (a header that differs from the declared columns, an interval
    without a file): logged and kept in the batch's ``pipeline.batches.notes``."""

    def __len__(self) -> int:
        return len(self.records) + len(self.rejects)


class SourceConnector(Protocol):
    """Reads one entity's records of a data interval from a source system."""

    def extract(self, entity: Any, interval: Interval) -> Iterator[Chunk]:
        """Yield the interval's records in chunks; never hold the whole extract in memory."""
        ...


@dataclass(frozen=True)
class ConnectorSpec:
    """A connector as registered in ``atlas.connectors.CONNECTORS`` (one per package).

    ``config_model.type`` must be ``Literal[name]``; ``reader`` builds the reader from a validated
    ``config_model`` and should import its heavy dependencies inside, so that parsing DAGs never
    imports a client library.
    """

    name: str
    """``connector.type`` in the YAML."""
    config_model: type[ConnectorConfig]
    """The model of the ``connector:`` section."""
    entity_model: type[Entity]
    """The model of one entity for this connector: :class:`Entity` plus where to find it."""
    reader: Callable[[Any], SourceConnector]
    """``reader(connector_config)`` -> the object whose ``extract(entity, interval)`` reads it."""

    def __post_init__(self) -> None:
        literal = self.config_model.model_fields["type"].annotation
        if typing.get_origin(literal) is not typing.Literal or typing.get_args(literal) != (self.name,):
            raise RegistryError(
                f"connector {self.name!r}: {self.config_model.__name__}.type must be Literal[{self.name!r}]"
            )
        if not issubclass(self.entity_model, Entity):
            raise RegistryError(
                f"connector {self.name!r}: the entity model must subclass atlas.config.Entity"
            )
