-- Checkpoint an incremental load's high watermark, only if it moves forward. Values are text:
-- two numbers compare as numbers, anything else (ISO 8601 timestamps in UTC) byte-wise.
INSERT INTO pipeline.watermarks AS w
    (source_name, entity_name, watermark_column, watermark_value, batch_id, updated_at)
VALUES
    (%(source_name)s, %(entity_name)s, %(watermark_column)s, %(watermark_value)s, %(batch_id)s, now())
ON CONFLICT (source_name, entity_name) DO UPDATE
   SET watermark_column = EXCLUDED.watermark_column,
       watermark_value = EXCLUDED.watermark_value,
       batch_id = EXCLUDED.batch_id,
       updated_at = EXCLUDED.updated_at
 WHERE w.watermark_value IS NULL
    OR w.watermark_column IS DISTINCT FROM EXCLUDED.watermark_column
    OR CASE
           WHEN w.watermark_value ~ '^-?[0-9]+(\.[0-9]+)?$'
            AND EXCLUDED.watermark_value ~ '^-?[0-9]+(\.[0-9]+)?$'
           THEN EXCLUDED.watermark_value::numeric > w.watermark_value::numeric
           ELSE EXCLUDED.watermark_value COLLATE "C" > w.watermark_value COLLATE "C"
       END
RETURNING watermark_value
