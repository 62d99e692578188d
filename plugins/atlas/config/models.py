"""Typed models of a source YAML file (``include/sources/<name>.yaml``).

One file describes one source system: where its data comes from (the connector), when the DAG
runs, its entities with their keys, typed columns, validation rules and PII hints, retention and
alert routes. Every field is documented right under it; ``include/sources/*.yaml`` are the
working examples. Validation happens once, here: the rest of Atlas trusts these objects.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

IDENTIFIER_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
"""Schema, table and column names from configuration: lower-case snake case, at most 48 characters
(so ``chart.<source>__<entity>`` and partition suffixes stay under PostgreSQL's 63)."""

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
"""A name that is safe to quote into SQL; it is still always passed through ``sql.Identifier``."""

ConnId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,250}$")]
"""An Airflow connection id."""

_CRON_FIELD = r"[\d*/,\-?LW#A-Za-z]+"
_SCHEDULE_PATTERN = re.compile(
    rf"^(@(hourly|daily|weekly|monthly|quarterly|yearly)|({_CRON_FIELD}\s+){{4}}{_CRON_FIELD})$"
)


class ConfigProblem(ValueError):
    """A validation error raised by a model validator that knows which nested key is wrong.

    ``at`` is the key path below the model that raised it (``("key", 1)``); the YAML loader appends
    it to pydantic's location so the error names ``entities[0].key[1]`` rather than ``entities[0]``.
    """

    def __init__(self, message: str, *, at: tuple[int | str, ...] = ()) -> None:
        super().__init__(message)
        self.at = at


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class ColumnType(StrEnum):
    """Logical column types and the PostgreSQL type each becomes in ``chart``."""

    TEXT = "text"
    INTEGER = "integer"
    BIGINT = "bigint"
    NUMERIC = "numeric"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    JSON = "json"

    @property
    def pg_type(self) -> str:
        return _PG_TYPES[self]


_PG_TYPES = {
    ColumnType.TEXT: "text",
    ColumnType.INTEGER: "integer",
    ColumnType.BIGINT: "bigint",
    ColumnType.NUMERIC: "numeric",
    ColumnType.BOOLEAN: "boolean",
    ColumnType.DATE: "date",
    ColumnType.TIMESTAMP: "timestamptz",
    ColumnType.JSON: "jsonb",
}


class Classification(StrEnum):
    """The five classification levels of ``compliance.classification_levels``."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"
    SPECIAL_CATEGORY = "special_category"


class Severity(StrEnum):
    """What a failed quality check does: ``warn`` alerts, ``fail`` stops the DAG run."""

    WARN = "warn"
    FAIL = "fail"


class ConnectorType(StrEnum):
    FILES = "files"
    POSTGRES = "postgres"
    HTTP = "http"


class FileFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


class FileSelection(StrEnum):
    """How the files of a data interval are chosen."""

    PATH = "path"
    """The entity's ``path`` template, formatted with the interval, names them."""
    MODIFIED = "modified"
    """Every file under ``path`` modified within the interval ``[start, end)``."""


class Pagination(StrEnum):
    PAGE = "page"
    OFFSET = "offset"
    CURSOR = "cursor"
    NONE = "none"


class History(StrEnum):
    """What ``navigate`` keeps of an entity (read by the dbt generator, ``atlas.dbt.generate``)."""

    NONE = "none"
    """Only the current state: a view ``navigate.<source>__<entity>`` over the masked staging model."""
    SCD2 = "scd2"
    """Also a Type 2 history: a dbt snapshot ``navigate.<source>__<entity>_history``."""


class Column(_Model):
    """One column of an entity: its type and the rules a value must pass to reach ``chart``."""

    name: Identifier
    """Column name, also the key of the value in the landed JSON payload."""
    type: ColumnType = ColumnType.TEXT
    """Logical type; the value is cast to it on promotion to ``chart`` (a failed cast quarantines the row)."""
    required: bool = False
    """A missing or empty value quarantines the row."""
    pattern: str | None = None
    """A POSIX regular expression (PostgreSQL ``~``) the text value must match."""
    min: float | dt.date | dt.datetime | None = None
    """Inclusive lower bound for numeric, date and timestamp columns."""
    max: float | dt.date | dt.datetime | None = None
    """Inclusive upper bound for numeric, date and timestamp columns."""
    allowed_values: list[str] | None = None
    """The closed list of values the column may take (compared as text)."""
    pii: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")] | None = None
    """Presidio entity type this column holds (``EMAIL_ADDRESS``, ``PHONE_NUMBER``, ``PERSON`` …):
    the PII scan looks only for these entities in this column, and ``navigate`` masks it."""
    classification: Classification = Classification.INTERNAL
    """Classification level of the column; ``pii`` columns default to ``confidential``."""
    description: str = ""

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
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
        return self


class Reference(_Model):
    """A reference from this entity to another entity of the same source (a foreign key)."""

    columns: list[Identifier] = Field(min_length=1)
    """Columns of this entity holding the reference."""
    entity: Identifier
    """The referenced entity; its key columns are matched in order."""


class Entity(_Model):
    """One entity (table, file family, API resource) of the source."""

    name: Identifier
    description: str = ""
    key: list[Identifier] = Field(min_length=1)
    """Columns that identify a record; joined with ``|`` they form the record key."""
    columns: list[Column] = Field(min_length=1)
    references: list[Reference] = []
    """References to other entities of this source, checked on promotion to ``chart``."""
    history: History = History.NONE
    """``scd2`` asks ``navigate`` for a Type 2 history of the entity besides its current state."""
    dimension: Identifier | None = None
    """With ``history: scd2``: the name of the SCD2 snapshot in ``navigate`` (``dim_customer``);
    default ``<source>__<entity>_history``."""

    # --- where the connector finds the entity (which of these apply depends on the connector) ---
    path: str | None = None
    """files: a glob under the connector's location; with ``select: path`` it is formatted with the
    interval, e.g. ``customers/{start:%Y-%m}/*.csv`` (``start``/``end`` are the interval bounds)."""
    table: str | None = None
    """postgres: ``schema.table`` to read (quoted as identifiers)."""
    query: str | None = None
    """postgres: a SELECT to read instead of ``table``; it must expose the watermark column."""
    watermark_column: Identifier | None = None
    """postgres: the column that orders changes; the interval ``[start, end)`` bounds it and the
    highest value landed is checkpointed in ``pipeline.watermarks`` when the batch commits."""
    endpoint: str | None = None
    """http: the path under the connection's base URL, e.g. ``/api/tickets``."""
    records_path: str | None = None
    """http: dotted path to the list of records in each response (``data.items``); none = the body."""
    params: dict[str, str] = {}
    """http: query parameters, formatted with the interval (``{start:%Y-%m-%dT%H:%M:%SZ}``)."""

    @field_validator("table")
    @classmethod
    def _qualified_table(cls, value: str | None) -> str | None:
        if value is not None:
            parts = value.split(".")
            if len(parts) > 2 or not all(re.fullmatch(IDENTIFIER_PATTERN, p) for p in parts):
                raise ValueError("must be 'table' or 'schema.table' of lower-case identifiers")
        return value

    @model_validator(mode="after")
    def _keys_are_columns(self) -> Entity:
        if self.dimension is not None and self.history is not History.SCD2:
            raise ConfigProblem("'dimension' names an SCD2 history: set 'history: scd2' too", at=("dimension",))
        names = [c.name for c in self.columns]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ConfigProblem(f"duplicate column name {name!r}", at=("columns", i, "name"))
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
        return self

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


class FilesConnector(_Model):
    """Files (CSV, JSON lines, Parquet) in a local folder or under an S3 prefix."""

    type: Literal[ConnectorType.FILES] = ConnectorType.FILES
    format: FileFormat
    location: str
    """A local folder (relative paths are relative to the project root) or ``s3://bucket/prefix``."""
    s3_conn_id: ConnId = "atlas_s3"
    """The ``aws`` connection used when ``location`` is an ``s3://`` URL."""
    select: FileSelection = FileSelection.PATH
    delimiter: Annotated[str, StringConstraints(min_length=1, max_length=1)] = ","
    """csv: field delimiter."""
    encoding: str = "utf-8"
    """csv / jsonl: text encoding; undecodable lines are quarantined."""

    @property
    def is_s3(self) -> bool:
        return self.location.startswith("s3://")


class PostgresConnector(_Model):
    """A table or query on any Airflow ``postgres`` connection, incremental by a watermark column."""

    type: Literal[ConnectorType.POSTGRES] = ConnectorType.POSTGRES
    conn_id: ConnId
    fetch_size: int = Field(default=10_000, ge=100, le=1_000_000)
    """Rows per server-side cursor fetch."""


class HttpConnector(_Model):
    """An HTTP JSON API, paginated, authenticated through an Airflow ``http`` connection."""

    type: Literal[ConnectorType.HTTP] = ConnectorType.HTTP
    conn_id: ConnId
    pagination: Pagination = Pagination.PAGE
    page_size: int = Field(default=100, ge=1, le=10_000)
    page_param: str = "page"
    """page: the page-number parameter (pages start at 1)."""
    size_param: str = "page_size"
    """page / offset: the page-size parameter."""
    offset_param: str = "offset"
    cursor_param: str = "cursor"
    """cursor: the request parameter carrying the cursor."""
    next_cursor_path: str = "next_cursor"
    """cursor: dotted path of the next cursor in the response; null or missing ends paging."""
    max_retries: int = Field(default=5, ge=0, le=20)
    """Retries with exponential backoff on 429 and 5xx responses (``Retry-After`` is honoured)."""
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)


Connector = Annotated[FilesConnector | PostgresConnector | HttpConnector, Field(discriminator="type")]


class Retention(_Model):
    explore_months: int = Field(default=13, ge=1, le=120)
    """Months of ``explore.raw_data`` partitions kept in the warehouse; older ones are archived."""
    archive: bool = True
    """Snapshot a partition to S3 (``atlas_s3``) before dropping it."""


class AlertRoute(_Model):
    """Where failures of this source are sent; routes combine freely."""

    type: Literal["email", "slack", "pagerduty"]
    to: list[str] = []
    """email: recipients."""
    conn_id: ConnId | None = None
    """slack / pagerduty: the Airflow connection holding the webhook or routing key."""

    @model_validator(mode="after")
    def _target_given(self) -> AlertRoute:
        if self.type == "email" and not self.to:
            raise ValueError("an email route needs 'to'")
        if self.type != "email" and not self.conn_id:
            raise ValueError(f"a {self.type} route needs 'conn_id'")
        return self


class Quality(_Model):
    severity: dict[str, Severity] = {}
    """Overrides of a check's severity by check name (``<entity>.<check>``)."""
    freshness_hours: int = Field(default=48, ge=1)
    """Timeliness: the newest landed row must be at most this old."""


class SourceConfig(_Model):
    """A source system: one YAML file, one generated DAG."""

    name: Identifier
    """The source's name; also the DAG id ``atlas_<name>`` and the prefix of its chart tables."""
    description: str = ""
    owner: str = Field(default="atlas", min_length=1)
    """Airflow task owner (a team), shown in the UI."""
    schedule: str | None = "@daily"
    """A cron expression or preset (``@daily``); ``null`` runs only when triggered."""
    start_date: dt.date
    catchup: bool = False
    tags: list[str] = []
    connector: Connector
    entities: list[Entity] = Field(min_length=1)
    retention: Retention = Retention()
    alerts: list[AlertRoute] = []
    quality: Quality = Quality()

    @field_validator("schedule")
    @classmethod
    def _schedule_shape(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not _SCHEDULE_PATTERN.match(value.strip()):
            raise ValueError("must be a preset like '@daily' or a five-field cron expression")
        if not value.startswith("@"):
            from croniter import croniter  # Airflow's own cron parser; imported only when needed

            if not croniter.is_valid(value.strip()):
                raise ValueError(
                    "is not a valid cron expression (minute hour day-of-month month day-of-week)"
                )
        return value

    @model_validator(mode="after")
    def _entities_fit_connector(self) -> SourceConfig:
        names = [e.name for e in self.entities]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ConfigProblem(f"duplicate entity name {name!r}", at=("entities", i, "name"))
        for i, entity in enumerate(self.entities):
            needs = _CONNECTOR_NEEDS[self.connector.type](entity)
            if needs:
                field, message = needs
                raise ConfigProblem(f"entity {entity.name!r}: {message}", at=("entities", i, field))
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
            first = names.index(cycle[0])
            raise ConfigProblem(
                f"references form a cycle: {' -> '.join(cycle)}; entities are promoted in "
                "reference order, so break the cycle",
                at=("entities", first, "references"),
            )
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


def _files_needs(entity: Entity) -> tuple[str, str] | None:
    return None if entity.path else ("path", "a files connector needs 'path' on every entity")


def _postgres_needs(entity: Entity) -> tuple[str, str] | None:
    if bool(entity.table) == bool(entity.query):
        return ("table", "a postgres connector needs exactly one of 'table' or 'query'")
    if not entity.watermark_column:
        return ("watermark_column", "a postgres connector needs 'watermark_column' (incremental by interval)")
    return None


def _http_needs(entity: Entity) -> tuple[str, str] | None:
    return None if entity.endpoint else ("endpoint", "an http connector needs 'endpoint' on every entity")


_CONNECTOR_NEEDS: dict[ConnectorType, Any] = {
    ConnectorType.FILES: _files_needs,
    ConnectorType.POSTGRES: _postgres_needs,
    ConnectorType.HTTP: _http_needs,
}
