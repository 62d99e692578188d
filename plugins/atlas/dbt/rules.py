"""What the dbt generator derives from a source YAML: names, masking, SCD2 columns, quoting.

Masking: a column is masked when its classification requires it (``confidential``,
``restricted``, ``special_category``: ``requires_masking`` of the seeded
``compliance.classification_levels``; a ``pii`` or ``free_text`` column defaults to
``confidential``), with the one warehouse rule ``compliance.mask(value, <entity>,
<classification>)`` (sql/V018) through the ``mask_pii`` macro: ``confidential`` values are
generalised or redacted by their ``pii`` hint, ``restricted`` and ``special_category`` ones
withheld (NULL); identifiers become keyed pseudonyms (sql/V023). A ``free_text`` column is masked
as :data:`FREE_TEXT` whatever its hint. Under ``pii.on_undeclared: mask_and_alert`` a column the
YAML declares nothing about is masked once a scan found personal data in it
(:func:`detection_masked`, macro ``mask_if_detected``).

SCD2: a column named ``updated_at`` is the source's change time. It is left out of the change
hash (``pipeline.keyed_hash``, HMAC-SHA256 under a key only the database holds, of the other
non-key columns, unmasked, computed in the staging model as ``_change_hash``) and kept in the
snapshot as ``source_updated_at``. The snapshot's version key is named after the dimension
(:func:`surrogate_key`).

Data dictionary: every column of a generated navigate table carries meta (:func:`column_meta`,
:data:`LINEAGE_COLUMNS`, :func:`snapshot_columns`) that the ``register_columns`` post-hook writes
to ``compliance.data_assets``, which ``navigate.data_dictionary`` shows the analyst.

Identifiers come from validated configuration (lower-case snake case) and are double-quoted in
SQL anyway (``order`` is a valid name); literals are quoted with :func:`sql_literal`, text dbt
renders as Jinja with :func:`jinja_text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
LINEAGE_COLUMNS = {
    "_raw_id": "Lineage: the explore.raw_data row this version of the record was promoted from.",
    "_batch_id": "Lineage: the batch (source, entity, data interval) that promoted the record.",
    "_interval_start": "Lineage: start of the data interval of that batch.",
    "_promoted_at": "Lineage: when the record was promoted into chart.",
}
"""Chart lineage columns the staging model passes on, with their descriptions. ``_record_key``
(the key values as text) and ``_payload_checksum`` (md5 of the whole unmasked record) are left
out: navigate must not carry unmasked personal data, not even as a digest of the whole record."""
CHANGE_HASH = "_change_hash"
FREE_TEXT = "FREE_TEXT"
"""The entity a ``free_text`` column is masked as: fully redacted, whatever its ``pii`` hint."""
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


def mask_entity(column: Column) -> str:
    """The entity ``compliance.mask`` masks the column as: :data:`FREE_TEXT` for free text, else its ``pii`` hint."""
    return FREE_TEXT if column.free_text else (column.pii or "")


def detection_masked(config: SourceConfig, entity: Entity, column: Column) -> str | None:
    """The chart table whose PII detections decide, at run time, whether navigate masks ``column``;
    None when the YAML decides alone.

    Under ``pii.on_undeclared: mask_and_alert`` (the default) a column the YAML declares no
    personal data in (no ``pii``, not ``free_text``, a classification that shows it) and that the
    scan reads (text, date) is masked from the first dbt run after a scan found undeclared
    personal data in it (``compliance.pii_detections``, any batch: once found, always masked).
    Key columns (masking would merge records) and columns with ``allowed_values`` (a closed
    vocabulary the YAML lists) are left to the alert.
    """
    from atlas.pii.scan import SCANNED_TYPES
    from atlas.stages.pii import PiiPolicy

    policy = getattr(config, "pii", None) or PiiPolicy()
    candidate = (
        policy.on_undeclared == "mask_and_alert"
        and not column.pii
        and not column.free_text
        and not is_masked(column)
        and column.type in SCANNED_TYPES
        and column.name not in entity.key
        and not column.allowed_values
    )
    return names(config, entity).table if candidate else None


def column_meta(column: Column, *, detected_in: str | None = None) -> dict[str, Any]:
    """The dbt meta of a YAML column: classification, masked, PII hint, free text, the entity it is
    masked as, and the chart table whose detections mask it (:func:`detection_masked`)."""
    meta: dict[str, Any] = {"classification": str(column.classification), "masked": is_masked(column)}
    if column.pii:
        meta["pii"] = column.pii
    if column.free_text:
        meta["free_text"] = True
    if is_masked(column):
        meta["masked_as"] = mask_entity(column)
    if detected_in:
        meta["masked_if_detected_in"] = detected_in
    return meta


def snapshot_columns(config: SourceConfig, entity: Entity) -> dict[str, str]:
    """The snapshot's own columns (besides the YAML's and ``_batch_id``) and their descriptions."""
    dimension = dimension_name(config, entity)
    columns = {
        "change_hash": "Keyed hash (HMAC-SHA256, pipeline.keyed_hash) of the unmasked attributes: "
        "a new value is a new version; nobody without the database's key can compute it.",
        "valid_from": "When this version was first seen by a snapshot run.",
        "valid_to": "When the next version replaced it; NULL for the current version.",
        "snapshotted_at": "When the snapshot run that wrote this version ran.",
        surrogate_key(dimension): "The version's surrogate key.",
        "is_current": "Whether this is the key's current version (valid_to is null).",
    }
    if change_time(entity):
        columns["source_updated_at"] = "The source's change time (updated_at) of this version."
    return columns


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
