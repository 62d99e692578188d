-- Rows that failed at least one rule, with every rule they failed and their raw payload.
INSERT INTO chart.quarantine
    (source_name, entity_name, batch_id, raw_id, interval_start, record_key, payload, failed_rules)
SELECT %(source_name)s, %(entity_name)s, %(batch_id)s, s._raw_id, %(interval_start)s,
       s._record_key, r.payload, s._failed_rules
  FROM {stage} AS s
  JOIN explore.raw_data AS r
    ON r.raw_id = s._raw_id
   AND r.interval_start = %(interval_start)s
 WHERE NOT s._valid
