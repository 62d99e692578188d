"""On-call alerts: one function sends an :class:`Alert` to a DAG's routes, and the task callbacks.

Every generated source DAG and the global DAGs get :func:`task_callbacks` in their
``default_args``: a task that fails (its last try) alerts every route; a failed try that will be
retried triggers PagerDuty only, under the same dedup key (``atlas/<dag>/<task>/<interval start>``),
so a retry storm is one incident; a task that succeeds after a failed try resolves that incident.
Later stages (a quality gate, anomalies, undeclared PII) alert through
``send_alert(alert, routes_for(config.alerts))``: the same routes as the task callbacks. A task
that alerts its own failure raises :class:`AlertedFailure`, so the failure callback stays quiet:
one failure, one alert.

A route that cannot deliver (no connection, server down) is logged with the alert it was carrying
and the other routes are still tried; :func:`send_alert` never raises, so an alert can never mask
or replace the failure it reports.

E-mail and Slack go through the Airflow providers' notifiers (``SmtpNotifier``,
``SlackWebhookNotifier``). PagerDuty Events v2 is one JSON POST sent with the http provider's
``HttpHook``: the PagerDuty provider's hook posts to a URL fixed in its client library, which
neither a proxy setup nor a test receiver can change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow.sdk.exceptions import AirflowFailException

from atlas.config.alerts import AlertRoutes, default_routes

log = logging.getLogger(__name__)

Severity = Literal["critical", "error", "warning", "info"]
PAGERDUTY_ENDPOINT = "v2/enqueue"
ROUTE_TIMEOUT_S = 10
"""Seconds an HTTP route (Slack, PagerDuty) may take before it counts as broken."""


@dataclass(frozen=True)
class Alert:
    """What an alert says: enough for on-call to act without opening Airflow first."""

    summary: str
    """One line: what happened where."""
    dag_id: str
    source: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    interval_start: dt.datetime | None = None
    interval_end: dt.datetime | None = None
    try_number: int | None = None
    exception: str | None = None
    log_url: str | None = None
    severity: Severity = "error"
    details: Mapping[str, Any] = field(default_factory=dict)
    """Anything else the sender knows (a quality check's metric, a column name)."""

    @property
    def dedup_key(self) -> str:
        """One incident per DAG, task and data interval."""
        start = self.interval_start.isoformat() if self.interval_start else "-"
        return f"atlas/{self.dag_id}/{self.task_id or '-'}/{start}"

    def fields(self) -> dict[str, str]:
        """The alert's fields in the order every route shows them."""
        interval = (
            f"{self.interval_start.isoformat()} .. {self.interval_end.isoformat()}"
            if self.interval_start and self.interval_end
            else None
        )
        values = {
            "source": self.source,
            "dag": self.dag_id,
            "task": self.task_id,
            "run": self.run_id,
            "data interval": interval,
            "try": str(self.try_number) if self.try_number is not None else None,
            "exception": self.exception,
            "log": self.log_url,
            **{key: str(value) for key, value in self.details.items()},
        }
        return {key: value for key, value in values.items() if value}

    def text(self) -> str:
        return "\n".join([self.summary, *(f"{key}: {value}" for key, value in self.fields().items())])


def send_alert(alert: Alert, routes: AlertRoutes) -> list[str]:
    """Send ``alert`` to every configured route; the names of the routes that failed (logged)."""
    failed = []
    for name, configured, send in (
        ("email", bool(routes.email), _email),
        ("slack", bool(routes.slack_webhook_conn_id), _slack),
        ("pagerduty", bool(routes.pagerduty_conn_id), _pagerduty_trigger),
    ):
        if configured and not _deliver(name, send, alert, routes):
            failed.append(name)
    if routes.empty:
        log.info("no alert route configured (source YAML 'alerts', include/alerts.yaml): %s", alert.summary)
    return failed


def resolve_alert(alert: Alert, routes: AlertRoutes) -> list[str]:
    """Resolve the PagerDuty incident of ``alert``'s dedup key, if PagerDuty is a route."""
    if routes.pagerduty_conn_id and not _deliver("pagerduty", _pagerduty_resolve, alert, routes):
        return ["pagerduty"]
    return []


def _deliver(name: str, send: Any, alert: Alert, routes: AlertRoutes) -> bool:
    try:
        send(alert, routes)
    except Exception:  # a broken route must never replace the failure it reports
        log.exception("alert route %s could not deliver; the alert was:\n%s", name, alert.text())
        return False
    log.info("alert sent to %s: %s", name, alert.summary)
    return True


def _email(alert: Alert, routes: AlertRoutes) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    body = "<pre>" + html.escape(alert.text()) + "</pre>"
    notifier = SmtpNotifier(
        to=list(routes.email or []),
        subject=f"[Atlas] {alert.summary}",
        html_content=body,
        smtp_conn_id=routes.smtp_conn,
    )
    notifier.notify({})  # not __call__: that would render the exception text as a Jinja template


def _slack(alert: Alert, routes: AlertRoutes) -> None:
    from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

    notifier = SlackWebhookNotifier(
        slack_webhook_conn_id=str(routes.slack_webhook_conn_id), text=alert.text(), timeout=ROUTE_TIMEOUT_S
    )
    notifier.notify({})


def _pagerduty(alert: Alert, routes: AlertRoutes, action: Literal["trigger", "resolve"]) -> None:
    from airflow.providers.http.hooks.http import HttpHook

    hook = HttpHook(method="POST", http_conn_id=str(routes.pagerduty_conn_id))
    connection = hook.get_connection(str(routes.pagerduty_conn_id))
    event: dict[str, Any] = {
        "routing_key": connection.password,
        "event_action": action,
        "dedup_key": alert.dedup_key,
    }
    if action == "trigger":
        event["payload"] = {
            "summary": alert.summary[:1024],
            "source": alert.dag_id,
            "severity": alert.severity,
            "component": alert.task_id or alert.dag_id,
            "group": alert.source or "atlas",
            "custom_details": alert.fields(),
        }
        if alert.log_url:
            event["links"] = [{"href": alert.log_url, "text": "task log"}]
    hook.run(
        endpoint=PAGERDUTY_ENDPOINT,
        data=json.dumps(event),
        headers={"Content-Type": "application/json"},
        extra_options={"timeout": ROUTE_TIMEOUT_S},  # a callback must never hang the task
    )


def _pagerduty_trigger(alert: Alert, routes: AlertRoutes) -> None:
    _pagerduty(alert, routes, "trigger")


def _pagerduty_resolve(alert: Alert, routes: AlertRoutes) -> None:
    _pagerduty(alert, routes, "resolve")


# -- task callbacks ---------------------------------------------------------------------------


class AlertedFailure(AirflowFailException):
    """A task failure the task has already alerted, with more to say than the failure callback (a
    quality gate's failed checks and their metrics): the callback does not alert it a second time.
    An ``AirflowFailException``: the data will not change by retrying, so it is not retried.
    """


def alert_from_context(context: Mapping[str, Any], summary: str, *, source: str | None = None) -> Alert:
    """An alert about the task instance of an Airflow callback or task ``context``."""
    ti = context.get("ti") or context.get("task_instance")
    exception = context.get("exception")
    log_url = None
    if ti is not None:
        try:
            log_url = ti.log_url
        except Exception:  # a missing base URL must not cost the alert
            log.debug("no log URL for %s", ti, exc_info=True)
    interval_start, interval_end = _interval(context)
    return Alert(
        summary=summary,
        source=source,
        dag_id=str(getattr(ti, "dag_id", None) or context.get("dag").dag_id),  # type: ignore[union-attr]
        task_id=getattr(ti, "task_id", None),
        run_id=getattr(ti, "run_id", None) or context.get("run_id"),
        interval_start=interval_start,
        interval_end=interval_end,
        try_number=getattr(ti, "try_number", None),
        exception=f"{type(exception).__name__}: {exception}" if exception is not None else None,
        log_url=log_url,
    )


def _interval(context: Any) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The run's interval, asset-triggered runs included; none when the run has none."""
    from atlas.batches import Interval
    from atlas.exceptions import AtlasError

    try:
        interval = Interval.from_context(context)
    except (AtlasError, KeyError, TypeError, ValueError):
        return context.get("data_interval_start"), context.get("data_interval_end")
    return interval.start, interval.end


class TaskAlerts:
    """The callable Airflow calls on a task's failure, retry or success (one per kind)."""

    def __init__(self, kind: Literal["failure", "retry", "success"], source: str | None, routes: AlertRoutes):
        self.kind = kind
        self.source = source
        self.routes = routes

    def __call__(self, context: Mapping[str, Any]) -> None:
        try:
            self._handle(context)
        except Exception:  # never let the callback hide the task's own outcome
            log.exception("atlas alert callback (%s) failed", self.kind)

    def _handle(self, context: Mapping[str, Any]) -> None:
        what = f"source {self.source}" if self.source else "Atlas"
        ti = context.get("ti")
        where = f"{getattr(ti, 'dag_id', '?')}.{getattr(ti, 'task_id', '?')}"
        if self.kind == "failure" and isinstance(context.get("exception"), AlertedFailure):
            log.info("%s failed and has sent its own alert: no second one", where)
        elif self.kind == "failure":
            send_alert(
                alert_from_context(context, f"{what}: task {where} failed", source=self.source), self.routes
            )
        elif self.kind == "retry":
            alert = alert_from_context(
                context, f"{what}: task {where} failed, will retry", source=self.source
            )
            alert = dataclasses.replace(alert, severity="warning")  # the final failure pages as error
            if self.routes.pagerduty_conn_id and not _deliver(
                "pagerduty", _pagerduty_trigger, alert, self.routes
            ):
                log.warning("the retry of %s was not reported to PagerDuty", where)
        elif (getattr(ti, "try_number", 1) or 1) > 1:  # success after a failed try: resolve
            resolve_alert(
                alert_from_context(context, f"{what}: task {where} recovered", source=self.source),
                self.routes,
            )

    def __repr__(self) -> str:
        return f"TaskAlerts({self.kind!r}, {self.source!r})"


def routes_for(routes: AlertRoutes | None = None) -> AlertRoutes:
    """A source's routes (its YAML ``alerts``) over the project's defaults; the defaults alone for
    ``None``. What a stage passes to :func:`send_alert` (``routes_for(config.alerts)``).

    A project file that does not validate is logged as an error and ignored (the source's own
    routes still apply), so that it cannot take every DAG down with it; with
    ``ATLAS_STRICT_SOURCES=1`` (CI) it is raised instead.
    """
    from atlas.exceptions import SourceConfigError
    from atlas.factory.loader import strict_mode  # here: the loader imports the builder, which imports this

    try:
        defaults = default_routes()
    except SourceConfigError:
        if strict_mode():
            raise
        log.exception("the project's default alert routes are ignored until the file is fixed")
        defaults = AlertRoutes()
    return (routes or AlertRoutes()).merged_over(defaults)


def task_callbacks(source: str | None, routes: AlertRoutes | None = None) -> dict[str, Any]:
    """``default_args`` entries that alert ``routes`` merged over the project's defaults."""
    merged = routes_for(routes)
    return {
        "on_failure_callback": TaskAlerts("failure", source, merged),
        "on_retry_callback": TaskAlerts("retry", source, merged),
        "on_success_callback": TaskAlerts("success", source, merged),
    }
