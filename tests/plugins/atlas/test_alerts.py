"""Alerts reach real receivers on loopback: an SMTP server (aiosmtpd) and an HTTP server standing
in for Slack's incoming webhook and PagerDuty's Events v2 endpoint, through Airflow connections.

The DAG tests run real tasks with ``dag.test()``: a task that fails, one that fails twice and then
succeeds (a retry storm), and a failing task whose e-mail route is broken.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from atlas.alerts import Alert, TaskAlerts, routes_for, send_alert
from atlas.config.alerts import AlertRoutes, default_routes
from atlas.exceptions import SourceConfigError

INTERVAL = (dt.datetime(2026, 1, 5, tzinfo=dt.UTC), dt.datetime(2026, 1, 6, tzinfo=dt.UTC))
ROUTING_KEY = "R0UT1NGKEY"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """aiosmtpd handler: every message received, parsed."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """An SMTP server on loopback; connection ``atlas_smtp`` points at it."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_ATLAS_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": port,
                "extra": {
                    "from_email": "atlas@example.com",
                    "disable_tls": True,
                    "disable_ssl": True,
                    "timeout": 5,
                },
            }
        ),
    )
    try:
        yield box
    finally:
        controller.stop()


class Posts:
    """What the HTTP receiver got: (path, JSON body) per POST."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []

    def at(self, path: str) -> list[Any]:
        return [body for where, body in self.received if where == path]


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Posts]:
    """An HTTP server on loopback: ``atlas_slack`` posts to /slack, ``atlas_pagerduty`` to /v2/enqueue."""
    posts = Posts()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            posts.received.append((self.path, json.loads(body)))
            self.send_response(202 if self.path.startswith("/v2/") else 200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_ATLAS_SLACK", json.dumps({"conn_type": "slackwebhook", "password": f"{base}/slack"})
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_ATLAS_PAGERDUTY",
        json.dumps({"conn_type": "http", "host": base, "password": ROUTING_KEY}),
    )
    try:
        yield posts
    finally:
        server.shutdown()
        server.server_close()


ALL_ROUTES = AlertRoutes(
    email=["oncall@example.com", "data@example.com"],
    slack_webhook_conn_id="atlas_slack",
    pagerduty_conn_id="atlas_pagerduty",
)


def an_alert() -> Alert:
    return Alert(
        summary="source crm: task atlas_crm.land_customers failed",
        source="crm",
        dag_id="atlas_crm",
        task_id="land_customers",
        run_id="scheduled__2026-01-06T00:00:00+00:00",
        interval_start=INTERVAL[0],
        interval_end=INTERVAL[1],
        try_number=3,
        exception="ConnectorError: no file for 2026-01-05 <b>&</b> {{ not a template }}",
        log_url="http://localhost:8080/dags/atlas_crm/runs/x/tasks/land_customers?try_number=3",
    )


EXPECTED_FIELDS = [
    "source: crm",
    "dag: atlas_crm",
    "task: land_customers",
    "run: scheduled__2026-01-06T00:00:00+00:00",
    "data interval: 2026-01-05T00:00:00+00:00 .. 2026-01-06T00:00:00+00:00",
    "try: 3",
    "exception: ConnectorError: no file for 2026-01-05 <b>&</b> {{ not a template }}",
    "log: http://localhost:8080/dags/atlas_crm/runs/x/tasks/land_customers?try_number=3",
]


def mail_text(message: Message) -> str:
    import html

    part = next(p for p in message.walk() if p.get_content_type() == "text/html")
    return html.unescape(part.get_payload(decode=True).decode())


def test_one_alert_reaches_every_route_with_every_field(mailbox: Mailbox, receiver: Posts) -> None:
    assert send_alert(an_alert(), ALL_ROUTES) == []
    (mail,) = mailbox.messages
    assert mail["Subject"] == "[Atlas] source crm: task atlas_crm.land_customers failed"
    assert sorted(mail["To"].replace(" ", "").split(",")) == ["data@example.com", "oncall@example.com"]
    text = mail_text(mail)
    (slack,) = receiver.at("/slack")
    (page,) = receiver.at("/v2/enqueue")
    for line in EXPECTED_FIELDS:
        assert line in text
        assert line in slack["text"]
    assert page["routing_key"] == ROUTING_KEY
    assert page["event_action"] == "trigger"
    assert page["dedup_key"] == "atlas/atlas_crm/land_customers/2026-01-05T00:00:00+00:00"
    assert page["payload"]["custom_details"]["exception"].startswith("ConnectorError: no file")
    assert page["payload"]["severity"] == "error"


def test_a_broken_route_is_logged_and_the_others_still_deliver(
    receiver: Posts, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = free_port()  # nothing listens there
    monkeypatch.setenv(
        "AIRFLOW_CONN_ATLAS_SMTP",
        json.dumps(
            {
                "conn_type": "smtp",
                "host": "127.0.0.1",
                "port": closed,
                "extra": {
                    "from_email": "a@b.example",
                    "disable_tls": True,
                    "disable_ssl": True,
                    "timeout": 2,
                    "retry_limit": 1,
                },
            }
        ),
    )
    routes = ALL_ROUTES.model_copy(update={"pagerduty_conn_id": "atlas_missing_connection"})
    assert send_alert(an_alert(), routes) == ["email", "pagerduty"]
    assert len(receiver.at("/slack")) == 1
    assert "alert route email could not deliver" in caplog.text
    assert "task atlas_crm.land_customers failed" in caplog.text, "the log keeps the alert that was not sent"


# -- configuration ----------------------------------------------------------------------------


def test_a_stage_alerts_its_sources_routes_over_the_project_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Posts
) -> None:
    """routes_for(config.alerts): what a later stage passes to send_alert; defaults from ATLAS_ALERTS_FILE."""
    path = tmp_path / "alerts.yaml"
    path.write_text("alerts:\n  slack_webhook_conn_id: atlas_slack\n")
    monkeypatch.setenv("ATLAS_ALERTS_FILE", str(path))
    routes = routes_for(AlertRoutes.model_validate({"pagerduty_conn_id": "atlas_pagerduty"}))
    assert send_alert(an_alert(), routes) == []
    assert len(receiver.at("/slack")) == 1
    assert len(receiver.at("/v2/enqueue")) == 1
    assert routes_for(None).slack_webhook_conn_id == "atlas_slack"


def test_a_broken_project_file_is_logged_and_ignored_unless_strict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One bad include/alerts.yaml must not take every DAG down: logged, the source's routes kept."""
    path = tmp_path / "alerts.yaml"
    path.write_text("alerts:\n  emails: [x@example.com]\n")
    monkeypatch.setenv("ATLAS_ALERTS_FILE", str(path))
    monkeypatch.setenv("ATLAS_STRICT_SOURCES", "0")
    own = AlertRoutes.model_validate({"slack_webhook_conn_id": "atlas_slack"})
    assert routes_for(own) == own
    assert str(path) in caplog.text
    monkeypatch.setenv("ATLAS_STRICT_SOURCES", "1")
    with pytest.raises(SourceConfigError, match=r"alerts\.emails"):
        routes_for(own)


def test_default_routes_come_from_the_project_file_and_a_source_overrides_them(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text("alerts:\n  email: [platform@example.com]\n  slack_webhook_conn_id: atlas_slack\n")
    defaults = default_routes(path)
    source = AlertRoutes.model_validate({"email": ["crm-team@example.com"]})
    merged = source.merged_over(defaults)
    assert merged.email == ["crm-team@example.com"]
    assert merged.slack_webhook_conn_id == "atlas_slack"
    assert default_routes(tmp_path / "absent.yaml").empty


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("alerts:\n  email: [not-an-address]\n", "alerts.email.0"),
        ("alerts:\n  pagerduty: atlas_pd\n", "alerts.pagerduty"),
        ("routes: {}\n", "<root>"),
    ],
)
def test_a_broken_project_file_names_the_file_and_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "alerts.yaml"
    path.write_text(text)
    with pytest.raises(SourceConfigError) as error:
        default_routes(path)
    assert str(path) in str(error.value)
    assert key in str(error.value)


# -- real task runs ---------------------------------------------------------------------------

FAILING_DAG = """
import datetime as dt
from airflow.sdk import DAG, task
from atlas.alerts import task_callbacks
from atlas.config.alerts import AlertRoutes

ROUTES = AlertRoutes(email=["oncall@example.com"], slack_webhook_conn_id="atlas_slack",
                     pagerduty_conn_id="atlas_pagerduty", smtp_conn_id="{smtp}")

with DAG("{dag_id}", schedule=None, start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
         default_args={{"retries": {retries}, "retry_delay": dt.timedelta(0), **task_callbacks("demo", ROUTES)}}):
    @task
    def load():
        counter = __import__("pathlib").Path("{counter}")
        tries = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(tries))
        if tries <= {failures}:
            raise ValueError(f"boom on try {{tries}}")
    load()
"""


def run_test_dag(
    make_test_dag: Any, tmp_path: Path, dag_id: str, *, retries: int, failures: int, smtp: str = "atlas_smtp"
) -> Any:
    source = FAILING_DAG.format(
        dag_id=dag_id, retries=retries, failures=failures, counter=tmp_path / "tries", smtp=smtp
    )
    dag = make_test_dag(dag_id, source)
    return dag.test(logical_date=dt.datetime(2026, 1, 6, tzinfo=dt.UTC))


@pytest.mark.airflow
def test_a_failed_task_alerts_every_route_with_the_run_and_the_exception(
    make_test_dag: Any, tmp_path: Path, mailbox: Mailbox, receiver: Posts
) -> None:
    run = run_test_dag(make_test_dag, tmp_path, "alerts_fail", retries=0, failures=9)
    assert str(run.state) == "failed"
    (mail,) = mailbox.messages
    text = mail_text(mail)
    (slack,) = receiver.at("/slack")
    for shown in (text, slack["text"]):
        assert "source demo: task alerts_fail.load failed" in shown
        for line in ("source: demo", "dag: alerts_fail", "task: load", f"run: {run.run_id}", "try: 1"):
            assert line in shown
        assert "exception: ValueError: boom on try 1" in shown
        assert "data interval: " in shown
        assert "log: http" in shown
    (page,) = receiver.at("/v2/enqueue")
    assert page["event_action"] == "trigger"
    assert page["dedup_key"].startswith("atlas/alerts_fail/load/")


@pytest.mark.airflow
def test_a_retry_storm_is_one_incident_resolved_by_the_success(
    make_test_dag: Any, tmp_path: Path, mailbox: Mailbox, receiver: Posts
) -> None:
    run = run_test_dag(make_test_dag, tmp_path, "alerts_retry", retries=3, failures=2)
    assert str(run.state) == "success"
    events = receiver.at("/v2/enqueue")
    assert [event["event_action"] for event in events] == ["trigger", "trigger", "resolve"]
    assert [event["payload"]["severity"] for event in events[:2]] == ["warning", "warning"]
    assert len({event["dedup_key"] for event in events}) == 1
    assert mailbox.messages == [], "retries page PagerDuty only; nobody is mailed for a task that recovered"
    assert receiver.at("/slack") == []


@pytest.mark.airflow
def test_a_broken_route_never_hides_the_failure(
    make_test_dag: Any, tmp_path: Path, receiver: Posts, caplog: pytest.LogCaptureFixture
) -> None:
    run = run_test_dag(
        make_test_dag, tmp_path, "alerts_broken", retries=0, failures=9, smtp="atlas_smtp_missing"
    )
    assert str(run.state) == "failed"
    (ti,) = run.get_task_instances()
    assert str(ti.state) == "failed"
    assert len(receiver.at("/slack")) == 1, "the working routes still deliver"
    assert len(receiver.at("/v2/enqueue")) == 1


def test_generated_dags_alert_through_their_sources_routes(tmp_path: Path) -> None:
    """Every task of a source DAG carries the callbacks with the YAML's routes over the defaults."""
    from atlas.config import load_source
    from atlas.constants import SOURCES_DIR
    from atlas.factory.builder import build_dag

    text = (SOURCES_DIR / "support.yaml").read_text() + "alerts:\n  email: [support-team@example.com]\n"
    path = tmp_path / "support.yaml"
    path.write_text(text)
    dag = build_dag(load_source(path), path)
    for task in dag.tasks:
        callbacks = (
            task.on_failure_callback
            if isinstance(task.on_failure_callback, list)
            else [task.on_failure_callback]
        )
        (alerts,) = [c for c in callbacks if isinstance(c, TaskAlerts)]
        assert alerts.source == "support"
        assert alerts.routes.email == ["support-team@example.com"]


def test_an_asset_triggered_runs_alert_names_the_interval_its_events_named() -> None:
    """Airflow gives such a run no data interval; the alert (and its dedup key) still has one."""
    from types import SimpleNamespace

    from atlas.alerts import alert_from_context

    extra = {"interval_start": "2026-01-05T00:00:00Z", "interval_end": "2026-01-06T00:00:00Z"}
    event = SimpleNamespace(id=1, extra=extra, asset=SimpleNamespace(uri="helpdesk://exports"))
    context = {
        "dag": SimpleNamespace(dag_id="atlas_support"),
        "run_id": "asset_triggered__x",
        "data_interval_start": None,
        "data_interval_end": None,
        "triggering_asset_events": {"helpdesk://exports": [event]},
    }
    alert = alert_from_context(context, "failed", source="support")
    assert (alert.interval_start, alert.interval_end) == (
        dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 6, tzinfo=dt.UTC),
    )
