-- quality.latest_scorecards: each table's most recent daily scorecard (atlas.quality.scorecard).

CREATE VIEW quality.latest_scorecards AS
SELECT DISTINCT ON (table_name)
       table_name, scorecard_date, score, grade, dimension_scores,
       checks_total, checks_passed, checks_warned, checks_failed, computed_at
  FROM quality.scorecards
 ORDER BY table_name, scorecard_date DESC;
COMMENT ON VIEW quality.latest_scorecards IS
    'The latest daily scorecard of each table: score 0-100, grade A-F (quality.score_grade), per-dimension scores.';

GRANT SELECT ON quality.latest_scorecards TO atlas_write;
GRANT ALL ON quality.latest_scorecards TO atlas_admin;
