"""Typed models of a source YAML file (``include/sources/<name>.yaml``), connector-independent part.

One file describes one source system: where its data comes from (the connector, see
:mod:`atlas.config.connectors` and ``atlas/connectors/<type>/``), when the DAG runs, and its
entities with their keys, typed columns, validation rules, PII hints and history. Every field is
documented right under it; ``include/sources/*.yaml`` are the working examples. Validation
happens once, here and in the connector models: the rest of Atlas trusts these objects.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator, model_validator

from atlas.config.alerts import AlertRoutes
from atlas.config.connectors import ConnectorConfig
from atlas.config.patterns import postgres_regex_problem
from atlas.config.retention import SourceRetention
from atlas.config.subject import Subject
from atlas.config.types import (
    IDENTIFIER_PATTERN,
    Classification,
    ColumnType,
    History,
    Identifier,
    Model,
    OnUnknownColumns,
)
from atlas.exceptions import ConfigProblem

PLANNED_SECTIONS: dict[str, str] = {}
"""Top-level sections Atlas will read once the stage that reads them exists; until then a source
that sets one is refused (a key that does nothing is never accepted silently)."""


class Column(Model):
    """One column of an entity: its type and the rules a value must pass to reach ``chart``."""

    name: Identifier
    """Column name in ``chart`` and ``navigate``."""
    source_field: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = None
    """The field's name in the source (a CSV header, a JSON key, a source column) when it differs
    from ``name`` (``User ID``, ``id``); default ``name``. ``explore`` keeps the record as read;
    promotion to ``chart`` reads this field into ``name``."""
    type: ColumnType = ColumnType.TEXT
    """Logical type; the value is cast to it on promotion to ``chart`` (a failed cast quarantines the row)."""
    required: bool = False
    """A missing or empty value quarantines the row."""
    pattern: str | None = None
    """A regular expression the text value must match, in PostgreSQL's dialect (``value ~
    pattern``, an ARE). Checked on load: Python syntax PostgreSQL lacks (named groups ``(?P<n>…)``,
    possessive quantifiers, atomic groups, conditionals, scoped or late ``(?i)``, counts over 255)
    or reads differently (``\\b`` is a backspace there, ``{,n}`` literal text) is refused, and
    Python's ``re`` must compile it too (atlas/config/patterns.py)."""
    min: float | dt.date | dt.datetime | None = None
    """Inclusive lower bound for numeric, date and timestamp columns."""
    max: float | dt.date | dt.datetime | None = None
    """Inclusive upper bound for numeric, date and timestamp columns."""
    allowed_values: list[str] | None = None
    """The closed list of values the column may take (compared as text); also a dbt test."""
    pii: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")] | None = None
    """Presidio entity type this column holds (``EMAIL_ADDRESS``, ``PHONE_NUMBER``, ``PERSON``,
    ``LOCATION``, ``DATE_TIME``, ``POSTAL_CODE`` …): with the classification it says how the
    generated staging model masks it in ``navigate`` (``compliance.mask(value, <pii>,
    <classification>)``, sql/V018 and V023): a ``confidential`` identifier (``IBAN_CODE``,
    ``CREDIT_CARD``, ``IDENTIFIER`` …) shows its keyed pseudonym, a ``DATE_TIME`` its decade, a
    ``POSTAL_CODE`` its first two characters, other entities ``***``."""
    classification: Classification = Classification.INTERNAL
    """Classification level of the column; ``pii`` and ``free_text`` columns default to
    ``confidential`` (masked: generalised or ``***``); ``restricted`` and ``special_category``
    columns are withheld in ``navigate`` (always NULL)."""
    free_text: bool = False
    """The column holds free text (a ticket's subject or body, a note) that may name or describe
    people anywhere in it. ``navigate`` shows it anonymised by the PII stage (each entity found
    replaced with ``<ENTITY>``, :mod:`atlas.pii.anonymize`; ``***`` before the stage ran), or NULL
    when ``restricted`` / ``special_category``, whatever its ``pii`` hint; a ``public`` or
    ``internal`` classification is raised to ``confidential``."""
    description: str = ""
    """Shown in the DAG's docs and in the generated dbt sources."""
    trim: bool | None = None
    """Strip surrounding spaces (U+0020, as PostgreSQL's ``btrim``; tabs and newlines are kept)
    before any rule and store the value stripped (on promotion to ``chart``); default: the
    entity's ``trim``."""
    empty_as_null: bool | None = None
    """Store an empty value (``''``, after trimming if ``trim``) as NULL, so ``required`` fails on
    it; default: the entity's ``empty_as_null``. Off, ``''`` is a value like any other."""

    @property
    def field(self) -> str:
        """The name of the column's field in the source record (``source_field`` or ``name``)."""
        return self.source_field or self.name

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            problem = postgres_regex_problem(value)
            if problem:
                raise ValueError(f"not a PostgreSQL regular expression: {problem}")
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _rules_fit_type(self) -> Column:
        if (self.min is not None or self.max is not None) and self.type not in (
            ColumnType.INTEGER,
            ColumnType.BIGINT,
            ColumnType.NUMERIC,
            ColumnType.DATE,
            ColumnType.TIMESTAMP,
        ):
            raise ConfigProblem(
                f"min/max apply to numeric, date and timestamp columns, not {self.type.value}",
                at=("min" if self.min is not None else "max",),
            )
        if self.min is not None and self.max is not None:
            try:
                inverted = self.min > self.max  # type: ignore[operator]
            except TypeError:
                raise ConfigProblem(
                    f"min {self.min!r} and max {self.max!r} are not comparable", at=("min",)
                ) from None
            if inverted:
                raise ConfigProblem(f"min {self.min} is greater than max {self.max}", at=("min",))
        if self.pii and self.classification is Classification.INTERNAL:
            object.__setattr__(self, "classification", Classification.CONFIDENTIAL)
        if self.free_text and self.classification in (Classification.PUBLIC, Classification.INTERNAL):
            object.__setattr__(self, "classification", Classification.CONFIDENTIAL)
        return self


class Reference(Model):
    """A reference from this entity to another entity of the same source (a foreign key)."""

    columns: list[Identifier] = Field(min_length=1)
    """Columns of this entity holding the reference."""
    entity: Identifier
    """The referenced entity; its key columns are matched in order."""


class Entity(Model):
    """One entity (table, file family, API resource) of the source.

    Where the connector finds the entity (a path, a table, an endpoint) is declared by the
    connector's own subclass of this model (``atlas/connectors/<type>/config.py``).
    """

    name: Identifier
    """The entity's name: its chart table is ``chart.<source>__<entity>``."""
    description: str = ""
    """What a record of the entity is; shown in the DAG's docs and the generated dbt sources."""
    key: list[Identifier] = Field(min_length=1)
    """Columns that identify a record; joined with ``|`` they form the record key."""
    columns: list[Column] = Field(min_length=1)
    """The declared columns, typed and validated on promotion to ``chart``."""
    references: list[Reference] = []
    """References to other entities of this source, checked on promotion to ``chart``."""
    history: History = History.NONE
    """``scd2`` asks ``navigate`` for a Type 2 history of the entity besides its current state."""
    dimension: Identifier | None = None
    """With ``history: scd2``: the name of the SCD2 snapshot in ``navigate`` (``dim_customer``);
    default ``<source>__<entity>_history``."""
    on_unknown_columns: OnUnknownColumns = OnUnknownColumns.WARN
    """What a source field no column declares, a declared field the source lacks, an empty field
    name or a name that matches a declared one only when case and surrounding spaces are ignored
    does: ``fail``, ``warn`` (default) or ``ignore``. A duplicate field name or a missing key
    field always fails the batch."""
    trim: bool = True
    """Default of the columns' ``trim``: strip surrounding spaces on promotion to ``chart``."""
    empty_as_null: bool = True
    """Default of the columns' ``empty_as_null``: an empty value becomes NULL in ``chart``."""
    subject: Subject | None = None
    """Whose record a row is (``{key: customer_id, identifiers: [email]}``): what data-subject
    requests find, export and erase (:mod:`atlas.config.subject`); columns of this entity."""

    @model_validator(mode="after")
    def _keys_are_columns(self) -> Entity:
        if self.dimension is not None and self.history is not History.SCD2:
            raise ConfigProblem(
                "'dimension' names an SCD2 history: set 'history: scd2' too", at=("dimension",)
            )
        names = [c.name for c in self.columns]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ConfigProblem(f"duplicate column name {name!r}", at=("columns", i, "name"))
        fields = [c.field for c in self.columns]
        for i, field in enumerate(fields):
            if field in fields[:i]:
                raise ConfigProblem(
                    f"two columns read the source field {field!r}", at=("columns", i, "source_field")
                )
        for i, key in enumerate(self.key):
            if key not in names:
                raise ConfigProblem(
                    f"key column {key!r} is not declared in columns ({', '.join(names)})", at=("key", i)
                )
        for r, ref in enumerate(self.references):
            for c, column in enumerate(ref.columns):
                if column not in names:
                    raise ConfigProblem(
                        f"reference to {ref.entity} uses undeclared column {column!r}",
                        at=("references", r, "columns", c),
                    )
        if self.subject is not None and (problem := self.subject.undeclared(names)):
            raise ConfigProblem(problem[1], at=problem[0])
        return self

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def key_fields(self) -> list[str]:
        """The source field of each key column, in key order (what the record key is built from)."""
        return [self.column(k).field for k in self.key]

    def trims(self, column: Column) -> bool:
        """Whether ``column``'s values are stripped on promotion (its own ``trim``, else the entity's)."""
        return self.trim if column.trim is None else column.trim

    def empties_are_null(self, column: Column) -> bool:
        """Whether an empty value of ``column`` becomes NULL (its ``empty_as_null``, else the entity's)."""
        return self.empty_as_null if column.empty_as_null is None else column.empty_as_null


class SourceConfig(Model):
    """A source system: one YAML file, one generated DAG.

    The model a file is validated with is a subclass per registered connector
    (:func:`atlas.config.loader.source_adapter`), whose ``connector`` and ``entities`` are that
    connector's models; code that does not care which connector reads this base.
    """

    name: Identifier
    """The source's name; also the DAG id ``atlas_<name>`` and the prefix of its chart tables."""
    description: str = ""
    """What the source is; the DAG's description and the first line of its docs."""
    owner: str = Field(default="atlas", min_length=1)
    """Airflow task owner (a team), shown in the UI."""
    schedule: str | None = "@daily"
    """A cron expression or an Airflow preset (``@daily``), in UTC; ``null`` runs only when triggered."""
    trigger_on_assets: list[str] = []
    """Asset URIs an external system updates (``POST /api/v2/assets/events``): an event on any
    of them also runs the DAG, for the interval the event's extra names (``interval_start``,
    ``interval_end``; :func:`atlas.batches.interval_from_asset_events`), besides ``schedule``."""
    start_date: dt.date
    """The first day the DAG has an interval for (UTC midnight)."""
    catchup: bool = False
    """Whether the scheduler runs every missed interval since ``start_date`` (Airflow's catchup)."""
    tags: list[str] = []
    """Extra DAG tags, after Atlas's own (``atlas``, ``source:<name>``, the layers)."""
    connector: ConnectorConfig
    """Where the records come from: ``type`` names a registered connector (``files``,
    ``postgres``, ``http``), whose README documents its other keys."""
    entities: list[Entity] = Field(min_length=1)
    """The entities of the source; each lands, promotes and reaches navigate on its own."""
    alerts: AlertRoutes = AlertRoutes()
    """Where the DAG's alerts go (a failed task, later a failed quality gate): ``email``,
    ``smtp_conn_id``, ``slack_webhook_conn_id``, ``pagerduty_conn_id``
    (:mod:`atlas.config.alerts`); unset keys come from the project's ``include/alerts.yaml``."""
    retention: SourceRetention = SourceRetention()
    """How long partitions stay in the warehouse before ``atlas_maintenance`` archives them to
    object storage and drops them: ``explore`` (this source's raw data; the longest period asked
    for applies to the shared table), ``navigate`` (its facts) and ``tables`` (one fact by name),
    each ``N months``, ``N years`` or ``forever`` (:mod:`atlas.config.retention`)."""

    @model_validator(mode="before")
    @classmethod
    def _planned_sections(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, why in PLANNED_SECTIONS.items():
                if key in data and key not in cls.model_fields:
                    raise ConfigProblem(
                        f"is not supported yet: no stage of this Atlas reads '{key}' ({why}); "
                        "remove the section",
                        at=(key,),
                    )
        return data

    @field_validator("schedule")
    @classmethod
    def _schedule_valid(cls, value: str | None) -> str | None:
        if value is None:
            return value
        # Airflow's own timetable resolves its presets and validates the cron expression.
        from airflow.sdk import CronDataIntervalTimetable

        try:
            CronDataIntervalTimetable(value.strip(), timezone="UTC").validate()
        except Exception as exc:  # AirflowTimetableInvalid, or croniter's errors for odd input
            raise ValueError(
                "must be an Airflow preset like '@daily' or a five-field cron expression "
                f"(minute hour day-of-month month day-of-week): {exc}"
            ) from None
        return value

    @field_validator("trigger_on_assets")
    @classmethod
    def _assets_valid(cls, value: list[str]) -> list[str]:
        from airflow.sdk import Asset

        for i, uri in enumerate(value):
            try:
                Asset(uri)  # Airflow's own URI rules (scheme, no credentials, …)
            except (ValueError, TypeError) as exc:
                raise ConfigProblem(f"is not a valid Airflow asset URI: {exc}", at=(i,)) from None
        if len(set(value)) != len(value):
            raise ValueError("lists an asset twice")
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> SourceConfig:
        names = [e.name for e in self.entities]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ConfigProblem(f"duplicate entity name {name!r}", at=("entities", i, "name"))
        for i, entity in enumerate(self.entities):
            for r, ref in enumerate(entity.references):
                at = ("entities", i, "references", r)
                if ref.entity not in names:
                    raise ConfigProblem(
                        f"entity {entity.name!r} references unknown entity {ref.entity!r} "
                        f"(known: {', '.join(names)})",
                        at=(*at, "entity"),
                    )
                target = self.entity(ref.entity)
                if len(target.key) != len(ref.columns):
                    raise ConfigProblem(
                        f"reference to {ref.entity} has {len(ref.columns)} column(s), "
                        f"its key has {len(target.key)}",
                        at=(*at, "columns"),
                    )
        cycle = _reference_cycle(self.entities)
        if cycle:
            raise ConfigProblem(
                f"references form a cycle: {' -> '.join(cycle)}; entities are promoted in "
                "reference order, so break the cycle",
                at=("entities", names.index(cycle[0]), "references"),
            )
        return self

    @model_validator(mode="after")
    def _sections_fit_source(self) -> SourceConfig:
        """A stage's section that checks itself against the whole source (``check_against``)."""
        for name in type(self).model_fields:
            check = getattr(getattr(self, name, None), "check_against", None)
            if callable(check):
                try:
                    check(self)
                except ConfigProblem as exc:
                    raise ConfigProblem(str(exc), at=(name, *exc.at)) from None
        return self

    @property
    def dag_id(self) -> str:
        return f"atlas_{self.name}"

    def entity(self, name: str) -> Entity:
        return next(e for e in self.entities if e.name == name)


def _reference_cycle(entities: list[Entity]) -> list[str] | None:
    """The first cycle among the entities' references (self-references ignored), or ``None``."""
    edges = {e.name: [r.entity for r in e.references if r.entity != e.name] for e in entities}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(name: str, path: list[str]) -> list[str] | None:
        state[name] = 1
        for target in edges.get(name, []):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target] if target in path else [name, target]
            if target not in state:
                found = visit(target, [*path, target])
                if found:
                    return found
        state[name] = 2
        return None

    for entity in entities:
        if entity.name not in state:
            found = visit(entity.name, [entity.name])
            if found:
                return found
    return None


__all__ = ["IDENTIFIER_PATTERN", "PLANNED_SECTIONS", "Column", "Entity", "Reference", "SourceConfig"]
