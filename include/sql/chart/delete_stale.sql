-- Keys this batch promoted on an earlier run but no longer holds as valid rows (re-landed
-- with fewer rows, or now failing a rule) are removed: the chart reflects the batch as it is.
DELETE FROM {table} AS c
 WHERE c._batch_id = %(batch_id)s
   AND NOT EXISTS (
        SELECT FROM {stage} AS s
         WHERE s._valid
           AND {key_match}
       )
