-- Rows of the batch, and how many of them passed every rule.
SELECT count(*) AS rows_landed,
       count(*) FILTER (WHERE _valid) AS rows_valid
  FROM {stage}
