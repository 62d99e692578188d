-- Retried rows that still fail stay quarantined with the rules they fail now: a reference whose
-- parent arrived since is no longer listed, so failed_rules is what a clean promotion of their
-- batch would record today, whatever the order the intervals ran in.
UPDATE chart.quarantine AS q
   SET failed_rules = s._failed_rules
  FROM {stage} AS s
 WHERE NOT s._valid
   AND q.batch_id = s._batch_id
   AND q.raw_id = s._raw_id
   AND q.source_name = %(source_name)s
   AND q.entity_name = %(entity_name)s
   AND q.failed_rules IS DISTINCT FROM s._failed_rules
