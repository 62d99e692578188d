"""Where alerts go: the ``alerts`` section of a source YAML and the project's default routes.

A route is one of Airflow's notification channels, reached through an Airflow connection (no
address, URL or key is ever written in a YAML file): e-mail through an SMTP connection, a Slack
incoming webhook, PagerDuty Events v2. A source's ``alerts`` section sets the routes of its DAG;
every key it leaves out comes from the project defaults, ``include/alerts.yaml`` (or the file
``$ATLAS_ALERTS_FILE`` names), which also route the alerts of the global DAGs (maintenance,
bootstrap). Without either, nothing is sent and a failure shows in Airflow only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints

from atlas.config.project import load_section
from atlas.config.types import Model
from atlas.constants import INCLUDE_DIR

ALERTS_FILE_ENV = "ATLAS_ALERTS_FILE"
DEFAULT_ALERTS_FILE = INCLUDE_DIR / "alerts.yaml"

ConnId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,250}$")]
EmailAddress = Annotated[str, StringConstraints(pattern=r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")]


class AlertRoutes(Model):
    """The routes of one DAG's alerts; every key is optional and any mix may be set."""

    email: list[EmailAddress] | None = Field(default=None, min_length=1)
    """Recipients of an e-mail per failed task (Airflow's ``SmtpNotifier``)."""
    smtp_conn_id: ConnId | None = None
    """The SMTP connection the e-mails go through (its ``from_email`` extra is the sender);
    default ``atlas_smtp``."""
    slack_webhook_conn_id: ConnId | None = None
    """A Slack incoming-webhook connection (type ``slackwebhook``, the webhook URL as its
    password): one message per failed task (Airflow's ``SlackWebhookNotifier``)."""
    pagerduty_conn_id: ConnId | None = None
    """A PagerDuty Events v2 connection (type ``http``: host ``https://events.pagerduty.com``, the
    integration's routing key as password). One incident per DAG, task and data interval: every
    failed try of a retry storm triggers the same dedup key, and the task's later success
    resolves it."""

    def merged_over(self, defaults: AlertRoutes) -> AlertRoutes:
        """These routes, with every key they leave unset taken from ``defaults``."""
        return defaults.model_copy(update=self.model_dump(exclude_unset=True))

    @property
    def smtp_conn(self) -> str:
        return self.smtp_conn_id or "atlas_smtp"

    @property
    def empty(self) -> bool:
        return not (self.email or self.slack_webhook_conn_id or self.pagerduty_conn_id)


def alerts_file() -> Path:
    """The project's default routes: ``$ATLAS_ALERTS_FILE``, else ``include/alerts.yaml``."""
    return Path(os.environ.get(ALERTS_FILE_ENV) or DEFAULT_ALERTS_FILE)


def default_routes(path: Path | None = None) -> AlertRoutes:
    """The project's default routes (none when the file does not exist).

    The file holds one mapping, ``alerts:``, with the keys of a source's ``alerts`` section; a
    file that does not parse or validate raises :class:`SourceConfigError` naming it and the key.
    """
    return load_section(path or alerts_file(), "alerts", AlertRoutes, "the routes")
