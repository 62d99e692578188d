"""Configuration of the PostgreSQL connector: the ``connector:`` section and each entity's table or query."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from atlas.config.connectors import ConnectorConfig
from atlas.config.source import Entity
from atlas.config.types import IDENTIFIER_PATTERN, ConnId, Identifier
from atlas.exceptions import ConfigProblem


class PostgresConnector(ConnectorConfig):
    """A table or query on any Airflow ``postgres`` connection, read by interval of a watermark column."""

    type: Literal["postgres"] = "postgres"
    """This connector."""
    conn_id: ConnId
    """The Airflow ``postgres`` connection of the source database. Its role should be read-only
    (``pg_read_all_data``, or SELECT grants only): the extract runs in a ``READ ONLY``
    transaction, but only the role's rights stop a query from calling ``pg_read_file`` or
    ``dblink`` with them."""
    fetch_size: int = Field(default=10_000, ge=100, le=1_000_000)
    """Rows per server-side cursor fetch."""
    statement_timeout_seconds: int = Field(default=3600, ge=1, le=86_400)
    """PostgreSQL's ``statement_timeout`` for the extract: a statement (the cursor's first fetch,
    which runs the query up to its first ``fetch_size`` rows, or any later fetch) that runs longer
    is cancelled and fails the task."""

    def summary(self) -> str:
        return f"postgres: connection `{self.conn_id}`, rows by interval of a watermark column"

    def lineage_dataset(self, entity: Any) -> tuple[str, str]:
        """``postgres://host:port`` of the connection and ``database.schema.table`` (or the
        entity's name for a query)."""
        from atlas.lineage import postgres_namespace

        namespace, database = postgres_namespace(self.conn_id)
        if entity.table is None:  # a query: named after the entity, under the database
            return namespace, f"{database}.query.{entity.name}"
        table = entity.table if "." in entity.table else f"public.{entity.table}"
        return namespace, f"{database}.{table}"


class PostgresEntity(Entity):
    """An entity read from a PostgreSQL table or query."""

    table: str | None = None
    """``schema.table`` to read (quoted as identifiers)."""
    query: str | None = None
    """A SELECT to read instead of ``table``; it must expose the watermark column."""
    watermark_column: Identifier
    """The column that orders changes; a run reads the rows whose value lies in its data interval
    ``[start, end)``, so re-runs and backfills of an interval read the same rows."""

    @field_validator("table")
    @classmethod
    def _qualified_table(cls, value: str | None) -> str | None:
        if value is not None:
            parts = value.split(".")
            if len(parts) > 2 or not all(re.fullmatch(IDENTIFIER_PATTERN, p) for p in parts):
                raise ValueError("must be 'table' or 'schema.table' of lower-case identifiers")
        return value

    @model_validator(mode="after")
    def _table_or_query(self) -> PostgresEntity:
        if bool(self.table) == bool(self.query):
            raise ConfigProblem("a postgres entity needs exactly one of 'table' or 'query'", at=("table",))
        return self

    def location(self) -> str:
        return self.table or "query"
