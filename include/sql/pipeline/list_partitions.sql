-- The partitions of a partitioned table, with their bounds, in bound order.
SELECT format('%%I.%%I', n.nspname, c.relname) AS partition_name,
       pg_get_expr(c.relpartbound, c.oid) AS bounds
  FROM pg_catalog.pg_inherits AS i
  JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
 WHERE i.inhparent = %(parent)s::regclass
 ORDER BY c.relname
