-- Rows of the batch, and how many of them passed every rule.
SELECT count(*) AS rows_landed,
       count(*) FILTER (WHERE cardinality(_failed_rules) = 0) AS rows_valid
  FROM {stage}
