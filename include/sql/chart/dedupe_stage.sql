-- Latest record wins within the batch: of the valid rows of one key only the last by raw_id is
-- written (the superseded ones were already counted as promoted; see atlas.hooks.chart).
DELETE FROM {stage} AS s
 USING {stage} AS d
 WHERE cardinality(s._failed_rules) = 0
   AND cardinality(d._failed_rules) = 0
   AND {key_match}
   AND d._raw_id > s._raw_id
