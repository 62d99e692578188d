-- Every range-partitioned parent table (not itself a partition) in the given schemas.
SELECT n.nspname AS schema_name, c.relname AS table_name
  FROM pg_catalog.pg_partitioned_table AS p
  JOIN pg_catalog.pg_class AS c ON c.oid = p.partrelid
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE p.partstrat = 'r'
   AND NOT c.relispartition
   AND n.nspname = ANY(%(schemas)s)
 ORDER BY n.nspname, c.relname
