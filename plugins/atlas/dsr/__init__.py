"""Data-subject requests (GDPR access and erasure) across every layer.

``request`` (the conf of a request, validated; Airflow Params of the DAG), ``targets`` (where a
subject's records are, from the source YAMLs' ``subject``), ``find`` (the subject's keys and rows
in explore, chart and navigate), ``erase`` (irreversible anonymisation, checksums, tombstones,
audit). ``atlas.hooks.dsr.SubjectRequestHook`` runs a request and keeps its row in
``compliance.data_subject_requests``; the DAG is ``atlas_data_subject_request``.
"""
