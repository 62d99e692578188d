"""``SupportApiServer``: the helpdesk's HTTP JSON API, served locally for the ``support`` source.

``GET /api/v1/tickets?updated_from=&updated_to=&page_size=&cursor=`` returns the tickets with
``updated_from <= updated_at < updated_to`` ordered by ``(updated_at, ticket_id)`` as
``{"data": [...], "next_cursor": "..." | null}``. ``page`` (1-based) or ``offset`` may be given
instead of ``cursor`` (page / offset pagination); the response shape is the same.

Authentication: a bearer token, basic auth, both, or none (``token=None, basic_auth=None``).
Fault injection for retry tests: ``fail_next(n, status, retry_after)`` answers the next ``n``
requests with ``status`` (429 / 503 …) and an optional ``Retry-After`` header.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
import logging
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from atlas_dev.sample.support import Ticket, read_tickets

log = logging.getLogger(__name__)

TICKETS_PATH = "/api/v1/tickets"
DEFAULT_TOKEN = "atlas-demo-token"  # noqa: S105 - a local sample server's demo token
MAX_PAGE_SIZE = 1_000


class SupportApiServer:
    """A threaded ``http.server`` on 127.0.0.1 serving tickets; a context manager."""

    def __init__(
        self,
        tickets: Sequence[Ticket],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = DEFAULT_TOKEN,
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        self.tickets = sorted(tickets, key=lambda t: (t.updated_at, t.ticket_id))
        self._keys = [t.updated_at for t in self.tickets]
        self.host = host
        self.port = port
        self.token = token
        self.basic_auth = basic_auth
        self.requests: list[str] = []
        """Path and query of every request received (tests count retries with it)."""
        self._faults: list[tuple[int, float | None]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def from_jsonl(cls, path: Path, **kwargs: Any) -> SupportApiServer:
        """A server for the tickets of a file written by ``generate_support``."""
        return cls(read_tickets(path), **kwargs)

    # --- lifecycle -------------------------------------------------------------------------
    def start(self) -> SupportApiServer:
        """Bind (port 0 picks a free one) and serve in a daemon thread."""
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="support-api", daemon=True)
        self._thread.start()
        log.info("support API serving %s tickets at %s", len(self.tickets), self.url)
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self) -> SupportApiServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{self.host}:{self.port}"

    def connection_uri(self) -> str:
        """An ``AIRFLOW_CONN_<ID>`` value (JSON) for this server and its credentials."""
        conn: dict[str, Any] = {"conn_type": "http", "host": self.host, "port": self.port, "schema": "http"}
        if self.token:
            conn["extra"] = {"bearer_token": self.token}
        elif self.basic_auth:
            conn["login"], conn["password"] = self.basic_auth
        return json.dumps(conn)

    # --- fault injection -------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 503, retry_after: float | None = None) -> None:
        """Answer the next ``count`` requests with ``status`` (and ``Retry-After`` if given)."""
        with self._lock:
            self._faults.extend([(status, retry_after)] * count)

    def _take_fault(self) -> tuple[int, float | None] | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    # --- the API ---------------------------------------------------------------------------
    def authorized(self, header: str | None) -> bool:
        if self.token is None and self.basic_auth is None:
            return True
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and self.token is not None:
            return value == self.token
        if scheme.lower() == "basic" and self.basic_auth is not None:
            try:
                user, _, password = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
            return (user, password) == self.basic_auth
        return False

    def page(self, query: dict[str, str]) -> dict[str, Any]:
        """The response body for a tickets query (raises ``ValueError`` on bad parameters)."""
        low = _timestamp(query.get("updated_from"), "updated_from") or ""
        high = _timestamp(query.get("updated_to"), "updated_to") or "\uffff"
        size = min(int(query.get("page_size", "100")), MAX_PAGE_SIZE)
        if size < 1:
            raise ValueError("page_size must be at least 1")
        if "page" in query:
            skip = (int(query["page"]) - 1) * size
        elif "offset" in query:
            skip = int(query["offset"])
        elif query.get("cursor"):
            skip = _read_cursor(query["cursor"])
        else:
            skip = 0
        if skip < 0:
            raise ValueError("page, offset or cursor points before the first record")
        first, last = bisect.bisect_left(self._keys, low), bisect.bisect_left(self._keys, high)
        selected = self.tickets[first + skip : min(last, first + skip + size)]
        more = first + skip + size < last
        return {
            "data": [t.record for t in selected],
            "next_cursor": _make_cursor(skip + size) if more else None,
        }


class _Handler(BaseHTTPRequestHandler):
    api: SupportApiServer
    server_version = "AtlasSupportAPI/1.0"

    def do_GET(self) -> None:
        self.api.requests.append(self.path)
        fault = self.api._take_fault()
        if fault is not None:
            status, retry_after = fault
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            self._send(status, {"error": "injected fault"}, headers)
            return
        parts = urlsplit(self.path)
        if parts.path != TICKETS_PATH:
            self._send(404, {"error": f"no such resource {parts.path}"})
            return
        if not self.api.authorized(self.headers.get("Authorization")):
            self._send(
                401,
                {"error": "authentication required"},
                {"WWW-Authenticate": 'Bearer, Basic realm="support"'},
            )
            return
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            body = self.api.page(query)
        except ValueError as exc:
            self._send(400, {"error": str(exc)})
            return
        self._send(200, body)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = orjson.dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("support API: %s", format % args)


def _timestamp(value: str | None, name: str) -> str | None:
    """A query timestamp normalised to the tickets' ``YYYY-MM-DDTHH:MM:SSZ`` form."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{name} is not an ISO 8601 timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _make_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": offset})).decode().rstrip("=")


def _read_cursor(cursor: str) -> int:
    try:
        return int(orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"invalid cursor {cursor!r}") from exc
