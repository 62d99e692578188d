-- Accuracy: every landed row of the batch is accounted for downstream: quarantined, in the chart
-- table itself, or superseded there by a later row of its key (same record key). The count of
-- rows that are none of these (0 expected): a row lost between explore and chart.
SELECT 0 AS expected, count(*) AS actual
  FROM explore.raw_data AS r
 WHERE r.batch_id = %(batch_id)s
   AND r.interval_start = %(interval_start)s
   AND NOT EXISTS (SELECT FROM chart.quarantine AS q WHERE q.batch_id = r.batch_id AND q.raw_id = r.raw_id)
   AND NOT EXISTS (SELECT FROM {table} AS c WHERE c._raw_id = r.raw_id)
   AND NOT EXISTS (SELECT FROM {table} AS c WHERE c._record_key = r.record_key)
