-- A data-subject request is being carried out by this DAG run (again, after a re-trigger).
UPDATE compliance.data_subject_requests
   SET status = 'in_progress', completed_at = NULL, error = NULL, dag_id = %(dag_id)s, run_id = %(run_id)s
 WHERE request_id = %(request_id)s
