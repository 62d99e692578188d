-- A reference to the entity itself: the referenced key must be in the chart table already or
-- among this batch's rows that passed every other rule.
UPDATE {stage} AS s
   SET _failed_rules = s._failed_rules || %(rule)s::text,
       _valid = false
 WHERE {present}
   AND NOT EXISTS (SELECT FROM {table} AS c WHERE {chart_match})
   AND NOT EXISTS (SELECT FROM {stage} AS v WHERE v._valid AND {stage_match})
