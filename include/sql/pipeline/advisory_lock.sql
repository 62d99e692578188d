-- Take the transaction-level advisory lock named %(lock_name)s, waiting at most lock_timeout
-- (set for the transaction just before): held until the transaction ends.
SELECT set_config('lock_timeout', %(lock_timeout)s, true),
       pg_advisory_xact_lock(hashtext(%(lock_name)s))
