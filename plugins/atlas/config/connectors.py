"""The base models every connector's configuration extends (``atlas/connectors/<type>/config.py``).

A connector package declares two models: its ``connector:`` section (a subclass of
:class:`ConnectorConfig` whose ``type`` is a one-value ``Literal``) and its entities (a subclass
of :class:`atlas.config.source.Entity` adding where the connector finds each entity: a path, a
table, an endpoint). The source model of each registered connector is assembled from them
(:func:`atlas.config.loader.source_adapter`), so a YAML is a discriminated union on
``connector.type`` and a connector's per-entity options exist only for that connector.
"""

from __future__ import annotations

from typing import Any

from atlas.config.types import Model


class ConnectorConfig(Model):
    """The ``connector:`` section of a source; each connector narrows ``type`` to its own name."""

    type: str
    """The connector: the name of a registered connector package (``files``, ``postgres``, ``http``)."""

    def summary(self) -> str:
        """One line for the DAG's docs: what the connector reads, from where."""
        return self.type

    def lineage_dataset(self, entity: Any) -> tuple[str, str]:
        """The OpenLineage (namespace, name) of what ``entity`` is read from, at run time (it may
        look up the source's Airflow connection). A connector that knows better overrides this."""
        return f"atlas-{self.type}", str(entity.name)
