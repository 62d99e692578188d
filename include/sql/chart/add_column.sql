-- A column declared in the YAML after the table was created (existing rows get NULL).
ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {column_type}
