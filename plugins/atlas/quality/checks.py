"""The quality checks of a source, derived from its YAML: pure logic, no database, no Soda.

Per entity and its chart table ``chart.<source>__<entity>`` (scoped to the run's interval by
``_interval_start`` unless said otherwise):

================================  ============  =======  ==========================================
check name                        dimension     default  what fails it
================================  ============  =======  ==========================================
``<e>.row_count``                 completeness  fail     no chart row although the interval landed rows
``<e>.missing.<col>``             completeness  fail     a NULL in a required or key column
``<e>.duplicate``                 uniqueness    fail     two rows with the same key
``<e>.pattern.<col>``             validity      fail     a value not matching ``pattern``
``<e>.range.<col>``               validity      fail     a value outside ``min`` / ``max``
``<e>.allowed_values.<col>``      validity      fail     a value not in ``allowed_values``
``<e>.freshness``                 timeliness    warn     newest ``_promoted_at`` older than ``quality.freshness_hours``
``<e>.schema``                    consistency   fail     a declared column missing or of another type (whole table)
``<e>.reference.<entity>``        consistency   fail     a reference to a key the referenced chart table lacks
``<e>.reconcile.landed``          accuracy      fail     explore rows of the batch differ from ``rows_landed``
``<e>.reconcile.rejected``        accuracy      fail     quarantined rows of the batch differ from ``rows_rejected``
``<e>.reconcile.chart``           accuracy      fail     a landed row neither in the chart table nor quarantined
================================  ============  =======  ==========================================

``pattern`` and ``allowed_values`` of a personal text column also accept ``[erased]``
(:func:`atlas.dsr.targets.holds_erased_text`), as promotion does: an erased subject's row passes.

The ``reconcile`` checks are SQL Atlas runs itself (``include/sql/quality/reconcile_*.sql``);
the others are SodaCL (``atlas.quality.sodacl``). ``quality.severity`` in the YAML overrides the
severity of any check by name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from atlas.config.quality import QualityConfig, Severity
from atlas.config.source import Entity, SourceConfig
from atlas.constants import Schema
from atlas.dsr.targets import ERASED_PATTERN, ERASED_TEXT, holds_erased_text
from atlas.sql.chart import chart_table_name


class Dimension(StrEnum):
    """The six dimensions of ``quality.dimensions`` (sql/V007)."""

    COMPLETENESS = "completeness"
    UNIQUENESS = "uniqueness"
    TIMELINESS = "timeliness"
    VALIDITY = "validity"
    ACCURACY = "accuracy"
    CONSISTENCY = "consistency"


class CheckKind(StrEnum):
    """What a generated check tests (``quality.check_definitions.check_type``)."""

    ROW_COUNT = "row_count"
    MISSING = "missing"
    DUPLICATE = "duplicate"
    PATTERN = "pattern"
    RANGE = "range"
    ALLOWED_VALUES = "allowed_values"
    FRESHNESS = "freshness"
    SCHEMA = "schema"
    REFERENCE = "reference"
    RECONCILE = "reconcile"


DIMENSIONS: dict[CheckKind, Dimension] = {
    CheckKind.ROW_COUNT: Dimension.COMPLETENESS,
    CheckKind.MISSING: Dimension.COMPLETENESS,
    CheckKind.DUPLICATE: Dimension.UNIQUENESS,
    CheckKind.PATTERN: Dimension.VALIDITY,
    CheckKind.RANGE: Dimension.VALIDITY,
    CheckKind.ALLOWED_VALUES: Dimension.VALIDITY,
    CheckKind.FRESHNESS: Dimension.TIMELINESS,
    CheckKind.SCHEMA: Dimension.CONSISTENCY,
    CheckKind.REFERENCE: Dimension.CONSISTENCY,
    CheckKind.RECONCILE: Dimension.ACCURACY,
}
"""The one map of a check kind to its dimension."""

DEFAULT_SEVERITY: dict[CheckKind, Severity] = {kind: Severity.FAIL for kind in CheckKind} | {
    CheckKind.FRESHNESS: Severity.WARN,
}
"""Severity of a check the YAML does not override: late data warns, everything else fails."""

RECONCILE_CHECKS = ("landed", "rejected", "chart")
"""The row-count reconciliations per entity (``include/sql/quality/reconcile_<name>.sql``)."""

METADATA_COLUMNS: dict[str, str] = {
    "_batch_id": "uuid",
    "_interval_start": "timestamp with time zone",
    "_promoted_at": "timestamp with time zone",
}
"""Chart columns every entity's table has, checked by its schema check."""


@dataclass(frozen=True)
class Check:
    """One generated check of one chart table."""

    name: str
    """``<entity>.<kind>[.<column or entity>]``: unique per source; the YAML's override key."""
    entity: str
    table: str
    """``<source>__<entity>`` (schema ``chart``)."""
    kind: CheckKind
    severity: Severity
    column: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    """What the check compares with (pattern, bounds, allowed values, columns, referenced table)."""

    @property
    def dimension(self) -> Dimension:
        return DIMENSIONS[self.kind]

    @property
    def qualified_table(self) -> str:
        return f"{Schema.CHART.value}.{self.table}"

    @property
    def engine(self) -> str:
        """``sql`` for the checks Atlas runs itself, ``soda`` for the rest."""
        return "sql" if self.kind is CheckKind.RECONCILE else "soda"

    @property
    def scoped(self) -> bool:
        """Whether the check reads only the run's interval of the table (the schema check does not)."""
        return self.kind is not CheckKind.SCHEMA


def quality_of(config: SourceConfig) -> QualityConfig:
    """The source's ``quality`` section (its defaults when the YAML has none)."""
    value = getattr(config, "quality", None)
    return value if isinstance(value, QualityConfig) else QualityConfig()


def generate_checks(
    config: SourceConfig, *, landed: Collection[str] | None = None, apply_overrides: bool = True
) -> list[Check]:
    """Every check of the source's chart tables, in entity then column order.

    ``landed``: the entities whose interval landed rows; only those get ``row_count`` (``None``:
    every entity, as ``quality show`` prints them). ``apply_overrides=False`` gives the default
    severities (what the YAML's overrides are checked against).
    """
    quality = quality_of(config)
    checks: list[Check] = []
    for entity in config.entities:
        table = chart_table_name(config.name, entity.name)
        for name, kind, column, params in _entity_checks(config, entity, quality, landed):
            severity = DEFAULT_SEVERITY[kind]
            if apply_overrides:
                severity = quality.severity.get(name, severity)
            checks.append(Check(name, entity.name, table, kind, severity, column, params))
    return checks


def _entity_checks(
    config: SourceConfig, entity: Entity, quality: QualityConfig, landed: Collection[str] | None
) -> list[tuple[str, CheckKind, str | None, dict[str, Any]]]:
    e = entity.name
    out: list[tuple[str, CheckKind, str | None, dict[str, Any]]] = []
    if landed is None or e in landed:
        out.append((f"{e}.row_count", CheckKind.ROW_COUNT, None, {}))
    for column in entity.columns:
        if column.required or column.name in entity.key:
            out.append((f"{e}.missing.{column.name}", CheckKind.MISSING, column.name, {}))
    out.append((f"{e}.duplicate", CheckKind.DUPLICATE, None, {"columns": list(entity.key)}))
    for column in entity.columns:
        erased = holds_erased_text(column)
        if column.pattern is not None:
            pattern = f"{ERASED_PATTERN}|{column.pattern}" if erased else column.pattern
            out.append((f"{e}.pattern.{column.name}", CheckKind.PATTERN, column.name, {"pattern": pattern}))
        if column.min is not None or column.max is not None:
            bounds = {"min": _bound(column.min), "max": _bound(column.max)}
            out.append((f"{e}.range.{column.name}", CheckKind.RANGE, column.name, bounds))
        if column.allowed_values is not None:
            out.append(
                (
                    f"{e}.allowed_values.{column.name}",
                    CheckKind.ALLOWED_VALUES,
                    column.name,
                    {"values": [*column.allowed_values, *([ERASED_TEXT] if erased else [])]},
                )
            )
    out.append((f"{e}.freshness", CheckKind.FRESHNESS, "_promoted_at", {"hours": quality.freshness_hours}))
    types = {column.name: column.type.catalog_type for column in entity.columns} | METADATA_COLUMNS
    out.append((f"{e}.schema", CheckKind.SCHEMA, None, {"types": types}))
    for ref in entity.references:
        target = config.entity(ref.entity)
        out.append(
            (
                f"{e}.reference.{ref.entity}",
                CheckKind.REFERENCE,
                None,
                {
                    "columns": list(ref.columns),
                    "table": chart_table_name(config.name, ref.entity),
                    "key": list(target.key),
                },
            )
        )
    for name in RECONCILE_CHECKS:
        out.append((f"{e}.reconcile.{name}", CheckKind.RECONCILE, None, {"reconcile": name}))
    return out


def _bound(value: float | dt.date | dt.datetime | None) -> float | str | None:
    if value is None or isinstance(value, float | int):
        return value
    return value.isoformat()
