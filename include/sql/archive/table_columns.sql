-- The columns of the table %(table)s (schema.table) in order: name, format_type(), typname.
SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname
  FROM pg_catalog.pg_attribute AS a
  JOIN pg_catalog.pg_type AS t ON t.oid = a.atttypid
 WHERE a.attrelid = %(table)s::regclass
   AND a.attnum > 0
   AND NOT a.attisdropped
 ORDER BY a.attnum
