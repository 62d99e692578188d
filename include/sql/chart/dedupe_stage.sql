-- Latest record wins within the staged rows: of the valid rows of one key only the last by
-- (interval_start, raw_id) is written (one batch: by raw_id; a retry spans batches). The
-- superseded ones were already counted as promoted; see atlas.hooks.chart.
DELETE FROM {stage} AS s
 USING {stage} AS d
 WHERE s._valid
   AND d._valid
   AND {key_match}
   AND (d._interval_start, d._raw_id) > (s._interval_start, s._raw_id)
