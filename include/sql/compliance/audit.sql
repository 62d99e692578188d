-- One compliance.audit_log entry of a governed action (ingest.batch, promote.batch, pii.scan,
-- archive.partition, partition.drop, archive.restore, archive.snapshot, dsr.*); run audit_partition first.
INSERT INTO compliance.audit_log (action, object_schema, object_name, dag_id, run_id, task_id, request_id, rows_affected, details)
VALUES (%(action)s, %(object_schema)s, %(object_name)s, %(dag_id)s, %(run_id)s, %(task_id)s, %(request_id)s, %(rows)s, %(details)s)
