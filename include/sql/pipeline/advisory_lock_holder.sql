-- Who holds the advisory lock named %(lock_name)s (pg_advisory_xact_lock(hashtext(name))): a
-- bigint key is classid (high 32 bits) and objid (low 32 bits) in pg_locks.
SELECT a.pid, a.usename, a.application_name, a.xact_start, left(a.query, 200) AS query
  FROM pg_locks AS l
  JOIN pg_stat_activity AS a USING (pid)
 WHERE l.locktype = 'advisory'
   AND l.granted
   AND l.objsubid = 1
   AND l.classid::bigint = ((hashtext(%(lock_name)s)::bigint >> 32) & 4294967295)
   AND l.objid::bigint = (hashtext(%(lock_name)s)::bigint & 4294967295)
