"""What the dbt generator derives from a source YAML: names, masking, SCD2 columns, quoting.

Masking: a column is masked when its classification requires it (``confidential``,
``restricted``, ``special_category``: ``requires_masking`` of the seeded
``compliance.classification_levels``; a ``pii`` column defaults to ``confidential``), with the
warehouse function ``compliance.mask(value, <pii>)`` through the ``mask_pii`` macro; without a
``pii`` hint the value is fully redacted.

SCD2: a column named ``updated_at`` is the source's change time. It is left out of the change
hash (md5 of the other non-key columns, unmasked, computed in the staging model as
``_change_hash``) and kept in the snapshot as ``source_updated_at``. The snapshot's version key
is named after the dimension (:func:`surrogate_key`).

Identifiers come from validated configuration (lower-case snake case) and are double-quoted in
SQL anyway (``order`` is a valid name); literals are quoted with :func:`sql_literal`, text dbt
renders as Jinja with :func:`jinja_text`.
"""

from __future__ import annotations

from dataclasses import dataclass

from atlas.config import Classification, Column, Entity, History, SourceConfig
from atlas.exceptions import DbtProjectError

CHART_SOURCE = "chart"
"""The dbt source of the chart tables (``source('chart', '<s>__<e>')``)."""
MASKED_CLASSIFICATIONS = frozenset(
    {Classification.CONFIDENTIAL, Classification.RESTRICTED, Classification.SPECIAL_CATEGORY}
)
"""Classification levels whose columns are masked in navigate (``requires_masking`` in V011)."""
CHANGE_TIME_COLUMN = "updated_at"
"""A column of this name is the source's change time: outside the change hash, ``source_updated_at``."""
LINEAGE_COLUMNS = ("_raw_id", "_batch_id", "_interval_start", "_promoted_at")
"""Chart lineage columns the staging model passes on. ``_record_key`` (the key values as text)
and ``_payload_checksum`` (md5 of the whole unmasked record) are left out: navigate must not
carry unmasked personal data, not even as a digest of the whole record."""
CHANGE_HASH = "_change_hash"
SNAPSHOT_META = {
    "dbt_valid_from": "valid_from",
    "dbt_valid_to": "valid_to",
    "dbt_updated_at": "snapshotted_at",
}
"""dbt's snapshot meta columns renamed; ``dbt_scd_id`` becomes the surrogate key (:func:`surrogate_key`)."""
MAX_RELATION_NAME = 63
"""PostgreSQL truncates longer names silently, which would merge two relations."""


@dataclass(frozen=True)
class Names:
    """The dbt names of one entity's generated nodes."""

    source: str
    entity: str

    @property
    def table(self) -> str:
        """The chart table (``chart.<s>__<e>``) and the navigate current state share this name."""
        return f"{self.source}__{self.entity}"

    @property
    def staging(self) -> str:
        return f"stg_{self.table}"

    @property
    def tag(self) -> str:
        return f"source_{self.source}"


def names(source: SourceConfig, entity: Entity) -> Names:
    return Names(source.name, entity.name)


def dimension_name(source: SourceConfig, entity: Entity) -> str:
    """The SCD2 snapshot of an entity: its ``dimension``, default ``<s>__<e>_history``."""
    return entity.dimension or f"{names(source, entity).table}_history"


def surrogate_key(dimension: str) -> str:
    """The version key of a dimension: ``dim_customer`` -> ``customer_key``, ``x_history`` -> ``x_key``."""
    return f"{dimension.removeprefix('dim_').removesuffix('_history')}_key"


def has_history(entity: Entity) -> bool:
    return entity.history is History.SCD2


def is_masked(column: Column) -> bool:
    """Whether navigate shows the column masked (its classification requires masking)."""
    return column.classification in MASKED_CLASSIFICATIONS


def change_time(entity: Entity) -> str | None:
    """The entity's change-time column (``updated_at``) when it has one outside its key."""
    declared = {c.name for c in entity.columns}
    return CHANGE_TIME_COLUMN if CHANGE_TIME_COLUMN in declared - set(entity.key) else None


def hashed_columns(entity: Entity) -> list[str]:
    """Columns whose unmasked values make the change hash: all but the key and the change time."""
    skip = {*entity.key, change_time(entity)}
    return [c.name for c in entity.columns if c.name not in skip]


def quoted(name: str) -> str:
    """A double-quoted SQL identifier (names are validated, so there is nothing to escape)."""
    return f'"{name}"'


def sql_literal(value: str) -> str:
    """A SQL string literal: quotes doubled (standard_conforming_strings keeps backslashes literal)."""
    return "'" + value.replace("'", "''") + "'"


def jinja_text(text: str) -> str:
    """``text`` as dbt renders it back: wrapped in ``{% raw %}`` when it holds Jinja delimiters."""
    if any(mark in text for mark in ("{{", "{%", "{#")):
        return "{% raw %}" + text.replace("{% endraw %}", "{ % endraw % }") + "{% endraw %}"
    return text


def check_names(config: SourceConfig) -> None:
    """Refuse relation names PostgreSQL would truncate and SCD2 columns a YAML column would shadow."""
    for entity in config.entities:
        relations = [names(config, entity).table]
        if has_history(entity):
            dimension = dimension_name(config, entity)
            relations.append(dimension)
            reserved = {*SNAPSHOT_META.values(), surrogate_key(dimension), "change_hash", "is_current"}
            reserved |= {"source_updated_at"} if change_time(entity) else set()
            clash = sorted(reserved & {c.name for c in entity.columns})
            if clash:
                raise DbtProjectError(
                    f"source {config.name}, entity {entity.name}: column(s) {', '.join(clash)} clash with the "
                    f"SCD2 columns of {dimension}; rename them in the YAML or drop 'history: scd2'"
                )
        for relation in relations:
            if len(relation) > MAX_RELATION_NAME:
                raise DbtProjectError(
                    f"source {config.name}, entity {entity.name}: navigate.{relation} is longer than "
                    f"{MAX_RELATION_NAME} characters; shorten the names or set a shorter 'dimension'"
                )
