-- A check's definition, synced from the source YAML (or a hand-written SodaCL file) on every run.
INSERT INTO quality.check_definitions AS d
    (check_name, source_name, entity_name, table_name, column_name, dimension_name, check_type,
     definition, severity)
VALUES
    (%(check_name)s, %(source_name)s, %(entity_name)s, %(table_name)s, %(column_name)s,
     %(dimension_name)s, %(check_type)s, %(definition)s, %(severity)s)
ON CONFLICT (table_name, check_name) DO UPDATE
   SET source_name = EXCLUDED.source_name,
       entity_name = EXCLUDED.entity_name,
       column_name = EXCLUDED.column_name,
       dimension_name = EXCLUDED.dimension_name,
       check_type = EXCLUDED.check_type,
       definition = EXCLUDED.definition,
       severity = EXCLUDED.severity,
       enabled = true,
       updated_at = now()
RETURNING check_id
