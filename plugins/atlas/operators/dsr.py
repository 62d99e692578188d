"""``DataSubjectRequestOperator``: the one task of ``atlas_data_subject_request`` (``SubjectRequestHook``)."""

from __future__ import annotations

import logging
from functools import cached_property
from typing import Any

from atlas.hooks.dsr import SubjectRequestHook
from atlas.operators.archive import _ArchiveOperator

log = logging.getLogger(__name__)


class DataSubjectRequestOperator(_ArchiveOperator):
    """Validate the run's conf as a data-subject request and carry it out (access or erasure).

    Takes the archive operators' connections (``warehouse_conn_id``, ``s3_conn_id``).

    The sources' YAMLs (their ``subject``) and the bucket (``include/retention.yaml``) are read
    when the task runs. A bad conf, a request id reused for another request or a subject key of
    the wrong type fails the task at once, without retries, naming what is wrong.
    """

    ui_color = "#fbecec"

    @cached_property
    def hook(self) -> SubjectRequestHook:
        return SubjectRequestHook(warehouse_conn_id=self.warehouse_conn_id, s3_conn_id=self.s3_conn_id)

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from atlas.config.retention import project_retention
        from atlas.dsr.erase import Actor
        from atlas.dsr.request import parse_request
        from atlas.dsr.targets import identifier_names, load_targets
        from atlas.exceptions import SubjectRequestError

        found = load_targets()
        dag_run = context.get("dag_run")
        try:
            request = parse_request(getattr(dag_run, "conf", None), identifier_names(found))
        except SubjectRequestError as err:
            raise AirflowFailException(str(err)) from err
        log.info(
            "data-subject request %s: %s of %s", request.request_id, request.type, sorted(request.subject)
        )
        actor = Actor(
            request_id=str(request.uuid),
            dag_id=getattr(context.get("dag"), "dag_id", None),
            run_id=context.get("run_id"),
            task_id=getattr(context.get("ti"), "task_id", None),
        )
        try:
            return self.hook.carry_out(request, found, bucket=project_retention().bucket, actor=actor)
        except SubjectRequestError as err:  # the request itself is wrong: a retry would fail the same way
            raise AirflowFailException(str(err)) from err
