-- Does the batch hold more than one valid row of a key? (A hash of the keys; only then does
-- dedupe_stage run, so the usual batch of distinct keys pays no sort.)
SELECT EXISTS (
    SELECT FROM {stage} AS s
     WHERE cardinality(s._failed_rules) = 0
     GROUP BY {stage_key}
    HAVING count(*) > 1
)
