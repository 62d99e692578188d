"""HTTP connector: a paginated JSON API behind an Airflow ``http`` connection.

The connection gives the base URL (host, schema, port) and the authentication: ``extra``
``bearer_token`` (or ``token``) becomes an ``Authorization: Bearer`` header, otherwise login and
password are sent as basic auth; ``extra.headers`` are added to every request. Pagination is
``page`` / ``offset`` (until an empty page), ``cursor`` (until the next cursor is null or
missing) or ``none``. Responses 429 and 5xx (and connection errors) are retried with exponential
backoff, honouring ``Retry-After``; other 4xx fail at once. Each record's location is
``GET <url>?<params>#<n>`` (``n`` 1-based within the page).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import orjson

from atlas.batches import Interval
from atlas.config.templates import render
from atlas.connectors.base import DEFAULT_CHUNK_ROWS, Chunk, Reject
from atlas.connectors.fields import RecordFields
from atlas.connectors.http.config import HttpConnector, HttpEntity, Pagination
from atlas.exceptions import ConnectorError

log = logging.getLogger(__name__)

MAX_SLEEP_SECONDS = 60.0
"""No single retry waits longer than this, whatever ``Retry-After`` asks for."""

_JSON_TYPES = {
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    list: "array",
    type(None): "null",
}


class HttpSourceConnector:
    """Reads every page of an entity's endpoint for a data interval (implements ``SourceConnector``)."""

    def __init__(
        self,
        config: HttpConnector,
        *,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
        sleep: Callable[[float], None] = time.sleep,
        max_sleep: float = MAX_SLEEP_SECONDS,
    ) -> None:
        self.config = config
        self.chunk_rows = chunk_rows
        self.sleep = sleep
        """Called with the seconds to wait before a retry; tests inject a recorder."""
        self.max_sleep = max_sleep

    def extract(self, entity: HttpEntity, interval: Interval) -> Iterator[Chunk]:
        """Yield the records of every page, in the order the API returns them."""
        session, base_url = self.session()
        url = f"{base_url.rstrip('/')}/{entity.endpoint.lstrip('/')}"
        params = {k: render(v, interval.start, interval.end) for k, v in entity.params.items()}
        chunk = Chunk()
        fields = RecordFields(entity, f"GET {url}")
        pages = 0
        try:
            for query, body in self._pages(session, url, params, entity):
                pages += 1
                location = f"GET {url}?{urlencode(query)}"
                for n, item in enumerate(records_at(body, entity.records_path, location), 1):
                    if isinstance(item, dict):
                        chunk.records.append((item, f"{location}#{n}"))
                    else:
                        kind = _JSON_TYPES.get(type(item), type(item).__name__)
                        raw = orjson.dumps(item).decode()
                        reason = f"record is a JSON {kind}, not an object"
                        chunk.rejects.append(Reject(f"{location}#{n}", n, raw, reason))
                    if len(chunk) >= self.chunk_rows:
                        yield fields.check(chunk)
                        chunk = Chunk()
        finally:
            session.close()
        if len(chunk):
            yield fields.check(chunk)
        log.info("%s: read %s page(s) from %s", entity.name, pages, url)

    def _pages(
        self, session: Any, url: str, params: dict[str, str], entity: HttpEntity
    ) -> Iterator[tuple[dict[str, str], Any]]:
        cfg = self.config
        page, offset, cursor = 1, 0, None
        seen: set[str] = set()
        while True:
            query = dict(params)
            if cfg.pagination is Pagination.PAGE:
                query |= {cfg.page_param: str(page), cfg.size_param: str(cfg.page_size)}
            elif cfg.pagination is Pagination.OFFSET:
                query |= {cfg.offset_param: str(offset), cfg.size_param: str(cfg.page_size)}
            elif cfg.pagination is Pagination.CURSOR:
                query[cfg.size_param] = str(cfg.page_size)
                if cursor is not None:
                    query[cfg.cursor_param] = cursor
            body = self.get_json(session, url, query)
            yield query, body
            if cfg.pagination is Pagination.NONE:
                return
            if cfg.pagination is Pagination.CURSOR:
                found = dig(body, cfg.next_cursor_path)
                if found in (None, ""):
                    return
                cursor = str(found)
                if cursor in seen:
                    raise ConnectorError(
                        f"GET {url}: the API returned cursor {cursor!r} twice; stopping a loop"
                    )
                seen.add(cursor)
                continue
            size = len(records_at(body, entity.records_path, url))
            if size == 0:
                return
            page, offset = page + 1, offset + size

    def get_json(self, session: Any, url: str, query: dict[str, str]) -> Any:
        """GET ``url`` with retries on 429, 5xx and connection errors; the decoded JSON body."""
        import requests

        target = f"{url}?{urlencode(query)}"
        problem = ""
        for attempt in range(self.config.max_retries + 1):
            retry_after = None
            try:
                response = session.get(url, params=query, timeout=self.config.timeout_seconds)
            except requests.RequestException as exc:
                problem = f"request failed: {exc}"
            else:
                status = response.status_code
                if status < 400:
                    try:
                        return orjson.loads(response.content)
                    except orjson.JSONDecodeError as exc:
                        raise ConnectorError(f"GET {target} did not return JSON: {exc}") from exc
                if status != 429 and status < 500:
                    raise ConnectorError(
                        f"GET {target} answered HTTP {status}: {response.text[:200]!r}; "
                        "check the connection's URL and credentials"
                    )
                problem = f"HTTP {status}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if attempt == self.config.max_retries:
                break
            delay = min(self.max_sleep, max(retry_after or 0.0, self.config.backoff_seconds * 2**attempt))
            log.warning("GET %s: %s; retry %s in %.1fs", target, problem, attempt + 1, delay)
            self.sleep(delay)
        raise ConnectorError(
            f"GET {target} failed after {self.config.max_retries + 1} attempt(s): last {problem}"
        )

    def session(self) -> tuple[Any, str]:
        """A ``requests`` session authenticated from the Airflow connection, and its base URL."""
        import requests
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(self.config.conn_id)
        host = conn.host or ""
        if "://" in host:
            base_url = host
        else:
            scheme = next((s for s in (conn.schema, conn.conn_type) if s in ("http", "https")), "http")
            base_url = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
        extra = conn.extra_dejson or {}
        session = requests.Session()
        session.headers.update({"Accept": "application/json", **extra.get("headers", {})})
        token = extra.get("bearer_token") or extra.get("token")
        if token:
            session.headers["Authorization"] = f"Bearer {token}"
        elif conn.login:
            session.auth = (conn.login, conn.password or "")
        return session, base_url


def dig(body: Any, path: str | None) -> Any:
    """The value at dotted ``path`` in ``body`` (the body itself for no path); None if missing."""
    node = body
    for part in path.split(".") if path else ():
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def records_at(body: Any, path: str | None, where: str) -> list[Any]:
    """The list of records at ``path``; a missing or non-list value is a ``ConnectorError``."""
    records = dig(body, path)
    if not isinstance(records, list):
        found = "nothing" if records is None else f"a JSON {_JSON_TYPES.get(type(records), 'object')}"
        raise ConnectorError(f"{where}: expected a list of records at {path or 'the body'!r}, found {found}")
    return records


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
