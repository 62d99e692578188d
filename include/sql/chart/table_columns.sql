-- The columns an existing chart table has, with their types; no rows when it does not exist.
SELECT a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS column_type
  FROM pg_catalog.pg_attribute AS a
  JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s
   AND c.relname = %(table)s
   AND a.attnum > 0
   AND NOT a.attisdropped
 ORDER BY a.attnum
