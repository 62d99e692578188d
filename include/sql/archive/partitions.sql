-- The partitions of %(parent)s with their range [range_start, range_end) as timestamptz (a date
-- bound is midnight UTC), read from the catalog's bound expression, in range order.
SELECT format('%%I.%%I', n.nspname, c.relname) AS partition_name,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), $$FROM \('([^']*)'\)$$))[1]::timestamptz AS range_start,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), $$TO \('([^']*)'\)$$))[1]::timestamptz AS range_end
  FROM pg_catalog.pg_inherits AS i
  JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE i.inhparent = %(parent)s::regclass
 ORDER BY 2 NULLS FIRST, 1
