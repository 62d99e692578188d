"""Where a data subject's records are: every entity whose source YAML declares a ``subject``.

Derived from the YAML only (the single source of truth): the chart table, the subject key column
and the field it is read from in the raw payload, the identifier columns, and the personal
columns, which are those navigate masks (:func:`atlas.dbt.rules.is_masked`). What replaces a
personal value on erasure is fixed here too (:func:`erased_value`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from atlas.config import Column, ColumnType, Entity, SourceConfig
from atlas.dbt.rules import dimension_name, has_history, hashed_columns, is_masked

ERASED_TEXT = "[erased]"
"""What an erased text value becomes in explore and chart: a constant, so nothing of the value
survives and a required column stays non-null (navigate's not-null tests keep passing)."""
ERASED_PATTERN = f"^{re.escape(ERASED_TEXT)}$"
"""A regular expression matching exactly :data:`ERASED_TEXT` (PostgreSQL's and Python's)."""


@dataclass(frozen=True)
class Target:
    """One entity holding records of data subjects."""

    config: SourceConfig
    entity: Entity

    @property
    def source(self) -> str:
        return self.config.name

    @property
    def chart_table(self) -> str:
        return f"chart.{self.source}__{self.entity.name}"

    @property
    def key(self) -> Column:
        """The column holding the subject's id."""
        assert self.entity.subject is not None
        return self.entity.column(self.entity.subject.key)

    @property
    def identifiers(self) -> list[Column]:
        assert self.entity.subject is not None
        return [self.entity.column(name) for name in self.entity.subject.identifiers]

    @property
    def personal(self) -> list[Column]:
        """The columns holding the subject's personal data (those navigate masks), never the key."""
        return [c for c in self.entity.columns if is_masked(c) and c.name != self.key.name]

    @property
    def key_is_record_key(self) -> bool:
        """Whether the subject key is the entity's whole key (then ``raw_data.record_key`` is its value)."""
        return self.entity.key == [self.key.name]

    @property
    def dimension(self) -> str | None:
        """The SCD2 snapshot in navigate, if the entity has one."""
        return dimension_name(self.config, self.entity) if has_history(self.entity) else None

    @property
    def hashed(self) -> list[str]:
        """The columns of the snapshot's change hash (as the generated staging model computes it)."""
        return hashed_columns(self.entity)


def holds_erased_text(column: Column) -> bool:
    """Whether erasure writes :data:`ERASED_TEXT` into ``column`` (a personal text column): its
    text rules (promotion's and the quality checks' ``pattern`` and ``allowed_values``) accept it."""
    return column.type is ColumnType.TEXT and is_masked(column)


def erased_value(column: Column) -> str | None:
    """The value an erased ``column`` holds from now on: :data:`ERASED_TEXT` for text, else NULL."""
    return ERASED_TEXT if column.type is ColumnType.TEXT else None


def targets(sources: Iterable[SourceConfig]) -> list[Target]:
    """Every entity with a ``subject``, in source and entity order."""
    return [
        Target(source, entity)
        for source in sorted(sources, key=lambda s: s.name)
        for entity in source.entities
        if entity.subject is not None
    ]


def identifier_names(found: Iterable[Target]) -> list[str]:
    """The names a request may give the subject by: subject keys and identifier columns."""
    names = set()
    for target in found:
        names.add(target.key.name)
        names.update(c.name for c in target.identifiers)
    return sorted(names)


def load_targets(*, strict: bool = True) -> list[Target]:
    """The targets of the source YAMLs (``$ATLAS_SOURCES_DIR``, else ``include/sources``).

    ``strict`` (carrying out a request): a YAML that does not load fails, since a request must
    not miss a source's records. Not strict (the DAG's Params at parse time): it is left out, and
    its own placeholder DAG reports it.
    """
    from atlas.config import load_source, source_files
    from atlas.exceptions import SourceConfigError

    configs = []
    for path in source_files():
        try:
            configs.append(load_source(path))
        except SourceConfigError:
            if strict:
                raise
    return targets(configs)
