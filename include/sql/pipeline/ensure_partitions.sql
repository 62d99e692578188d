-- Create (if missing) every partition of a range-partitioned table holding an instant of
-- [from_ts, to_ts]; pipeline.ensure_partitions serialises creators with an advisory lock.
SELECT partition_name
  FROM pipeline.ensure_partitions(%(parent)s::regclass, %(grain)s, %(from_ts)s, %(to_ts)s)
       AS partition_name
