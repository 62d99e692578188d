"""Configuration of the HTTP connector: the ``connector:`` section and each entity's endpoint."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import Field

from atlas.config.connectors import ConnectorConfig
from atlas.config.source import Entity
from atlas.config.templates import IntervalTemplate
from atlas.config.types import ConnId


class Pagination(StrEnum):
    PAGE = "page"
    OFFSET = "offset"
    CURSOR = "cursor"
    NONE = "none"


class HttpConnector(ConnectorConfig):
    """An HTTP JSON API, paginated, authenticated through an Airflow ``http`` connection."""

    type: Literal["http"] = "http"
    """This connector."""
    conn_id: ConnId
    """The Airflow ``http`` connection: base URL, and ``extra.bearer_token`` or login/password."""
    pagination: Pagination = Pagination.PAGE
    """``page`` / ``offset`` (until an empty page), ``cursor`` (until no next cursor) or ``none``."""
    page_size: int = Field(default=100, ge=1, le=10_000)
    """Records asked for per request."""
    page_param: str = "page"
    """page: the page-number parameter (pages start at 1)."""
    size_param: str = "page_size"
    """page / offset / cursor: the page-size parameter."""
    offset_param: str = "offset"
    """offset: the parameter carrying the offset of the first record."""
    cursor_param: str = "cursor"
    """cursor: the request parameter carrying the cursor."""
    next_cursor_path: str = "next_cursor"
    """cursor: dotted path of the next cursor in the response; null or missing ends paging."""
    max_retries: int = Field(default=5, ge=0, le=20)
    """Retries with exponential backoff on 429 and 5xx responses (``Retry-After`` is honoured)."""
    backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    """The first retry's wait; each next retry waits twice as long (at most 60 s)."""
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    """Timeout of one request."""

    def summary(self) -> str:
        return f"http: connection `{self.conn_id}`, {self.pagination.value} pagination, {self.page_size} per page"

    def lineage_dataset(self, entity: Any) -> tuple[str, str]:
        """The connection's ``scheme://host[:port]`` and the endpoint's path."""
        from urllib.parse import urlsplit

        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(self.conn_id)
        base = conn.host or ""
        if "://" not in base:  # the scheme as the reader picks it (atlas/connectors/http/reader.py)
            scheme = next((s for s in (conn.schema, conn.conn_type) if s in ("http", "https")), "http")
            base = f"{scheme}://{base}"
        parts = urlsplit(base)
        netloc = parts.hostname or "localhost"
        netloc += f":{conn.port or parts.port}" if (conn.port or parts.port) else ""
        path = "/".join(p.strip("/") for p in (parts.path, entity.endpoint) if p.strip("/"))
        return f"{parts.scheme}://{netloc}", "/" + path


class HttpEntity(Entity):
    """An entity read from an HTTP endpoint."""

    endpoint: str
    """The path under the connection's base URL, e.g. ``/api/tickets``."""
    records_path: str | None = None
    """Dotted path to the list of records in each response (``data.items``); none = the body."""
    params: dict[str, IntervalTemplate] = {}
    """Query parameters, each value formatted with the interval (``{start:%Y-%m-%dT%H:%M:%SZ}``):
    only the fields ``start`` and ``end``, each with an optional strftime format."""

    def location(self) -> str:
        return self.endpoint
