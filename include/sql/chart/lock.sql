-- Serialise promotions into one chart table (its DDL and upsert) until the transaction ends.
SELECT pg_advisory_xact_lock(hashtext(%(lock_name)s))
