"""atlas_data_subject_request: a GDPR data-subject request (access or erasure), triggered through
the REST API with a JSON conf (README, "Data-subject requests")::

    {"request_id": "DSR-2026-0042", "type": "erasure",
     "subject": {"email": "anna@example.org"}, "requested_by": "dpo@example.com"}

The Params refuse a malformed conf when the run is triggered (the API answers 400 with the
reason); the task validates it again and fails, naming the problem, without retries. Access
exports every record of the subject in explore, chart and navigate to
``s3://<bucket>/dsr/<request uuid>/access.json``; erasure anonymises the subject's personal data in
every layer, history and quarantine. The request row (``compliance.data_subject_requests``)
tracks status, result and the 30-day deadline; every step is in ``compliance.audit_log``.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG, Param

from atlas.alerts import task_callbacks
from atlas.dsr.request import params_schema
from atlas.dsr.targets import identifier_names, load_targets
from atlas.operators.dsr import DataSubjectRequestOperator

with DAG(
    dag_id="atlas_data_subject_request",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,  # two requests never erase at once
    tags=["atlas", "global", "compliance"],
    params={
        name: Param(**schema)
        for name, schema in params_schema(identifier_names(load_targets(strict=False))).items()
    },
    default_args={
        "owner": "atlas-platform",
        "retries": 2,
        "retry_delay": dt.timedelta(minutes=1),
        **task_callbacks(None),
    },
    doc_md=__doc__,
):
    DataSubjectRequestOperator(task_id="carry_out_request")
