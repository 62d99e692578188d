-- The navigate tables (plain or partitioned, not partitions) having a column named %(key)s, that
-- column's type, and their personal columns: those the data dictionary (compliance.data_assets,
-- written by every dbt build) classifies as requiring masking, and that exist now.
SELECT c.relname,
       format_type(k.atttypid, k.atttypmod),
       coalesce(array_agg(a.column_name ORDER BY a.column_name) FILTER (WHERE a.column_name IS NOT NULL), '{}')
  FROM pg_class AS c
  JOIN pg_namespace AS n ON n.oid = c.relnamespace AND n.nspname = 'navigate'
  JOIN pg_attribute AS k ON k.attrelid = c.oid AND k.attname = %(key)s AND NOT k.attisdropped
  LEFT JOIN compliance.data_assets AS a
    ON a.schema_name = 'navigate' AND a.table_name = c.relname AND a.column_name <> %(key)s
   AND a.classification IN (SELECT level_name FROM compliance.classification_levels WHERE requires_masking)
   AND EXISTS (SELECT 1 FROM pg_attribute AS p
                WHERE p.attrelid = c.oid AND p.attname = a.column_name AND p.attnum > 0 AND NOT p.attisdropped)
 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
 GROUP BY c.relname, k.atttypid, k.atttypmod
 ORDER BY c.relname
