-- A data-subject request's row, once per request id (a re-trigger finds it and changes nothing
-- here); returns the row's type and subject, which must equal the re-trigger's.
WITH new AS (
    INSERT INTO compliance.data_subject_requests
        (request_id, external_reference, request_type, subject_identifiers, requested_by, dag_id, run_id)
    VALUES (%(request_id)s, %(reference)s, %(type)s, %(subject)s, %(requested_by)s, %(dag_id)s, %(run_id)s)
    ON CONFLICT (request_id) DO NOTHING
    RETURNING request_type, subject_identifiers, due_at
)
SELECT request_type, subject_identifiers, due_at FROM new
UNION ALL
SELECT request_type, subject_identifiers, due_at
  FROM compliance.data_subject_requests
 WHERE request_id = %(request_id)s AND NOT EXISTS (SELECT 1 FROM new)
