-- A data-subject request carried out (completed) or not (failed, with the error); the deadline
-- stays. A re-run's result keeps the previous run's as earlier_run (an erasure run again finds
-- nothing left to erase: its counts alone would hide what the first run did).
UPDATE compliance.data_subject_requests
   SET status = %(status)s, completed_at = now(), error = %(error)s,
       result_location = coalesce(%(location)s, result_location),
       result = CASE WHEN %(result)s::jsonb IS NULL THEN result
                     WHEN result IS NULL THEN %(result)s::jsonb
                     ELSE %(result)s::jsonb || jsonb_build_object('earlier_run', result - 'earlier_run') END
 WHERE request_id = %(request_id)s
