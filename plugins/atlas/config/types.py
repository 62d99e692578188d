"""Field types of the source YAML shared by every model: safe names, column types, closed choices."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, NamedTuple

from pydantic import BaseModel, ConfigDict, StringConstraints

IDENTIFIER_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
"""Schema, table and column names from configuration: lower-case snake case, at most 48 characters
(so ``chart.<source>__<entity>`` and partition suffixes stay under PostgreSQL's 63)."""

Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN)]
"""A name that is safe to quote into SQL; it is still always passed through ``sql.Identifier``."""

ConnId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,250}$")]
"""An Airflow connection id."""


class Model(BaseModel):
    """Base of every configuration model: unknown keys are errors, objects are immutable."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, use_enum_values=False, use_attribute_docstrings=True
    )


class _PgType(NamedTuple):
    ddl: str
    """How the type is written in DDL."""
    catalog: str
    """How ``format_type()`` spells it in the catalog."""


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
        """The PostgreSQL type of the chart column (``timestamptz`` for ``timestamp``)."""
        return PG_TYPES[self].ddl

    @property
    def catalog_type(self) -> str:
        """``format_type()``'s spelling of :attr:`pg_type` (``timestamp with time zone``)."""
        return PG_TYPES[self].catalog


PG_TYPES: dict[ColumnType, _PgType] = {
    ColumnType.TEXT: _PgType("text", "text"),
    ColumnType.INTEGER: _PgType("integer", "integer"),
    ColumnType.BIGINT: _PgType("bigint", "bigint"),
    ColumnType.NUMERIC: _PgType("numeric", "numeric"),
    ColumnType.BOOLEAN: _PgType("boolean", "boolean"),
    ColumnType.DATE: _PgType("date", "date"),
    ColumnType.TIMESTAMP: _PgType("timestamptz", "timestamp with time zone"),
    ColumnType.JSON: _PgType("jsonb", "jsonb"),
}
"""The one map from logical column type to PostgreSQL type."""


class Classification(StrEnum):
    """The five classification levels of ``compliance.classification_levels``."""

    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"
    SPECIAL_CATEGORY = "special_category"


class OnUnknownColumns(StrEnum):
    """What a source field the entity does not declare, or a declared one the source lacks, does."""

    FAIL = "fail"
    """Fail the batch (nothing lands) with a message naming the file, the field and the column."""
    WARN = "warn"
    """Land the batch, log a warning and record it in the batch's ``pipeline.batches.notes``."""
    IGNORE = "ignore"
    """Land the batch silently (undeclared fields still land in ``explore``, as read)."""


class History(StrEnum):
    """What ``navigate`` keeps of an entity (read by the dbt generator, ``atlas.dbt.generate``)."""

    NONE = "none"
    """Only the current state: a view ``navigate.<source>__<entity>`` over the masked staging model."""
    SCD2 = "scd2"
    """Also a Type 2 history: a dbt snapshot (``dimension``, default ``<source>__<entity>_history``)."""
