-- The rows of one batch: one partition of explore.raw_data (batch_id AND interval_start).
explore.raw_data AS r
 WHERE r.batch_id = %(batch_id)s
   AND r.interval_start = %(interval_start)s
