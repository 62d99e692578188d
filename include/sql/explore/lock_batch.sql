-- Serialise concurrent landings of the same batch: held until the landing transaction ends.
SELECT pg_advisory_xact_lock(hashtext('atlas.batch:' || %(batch_id)s::text))
