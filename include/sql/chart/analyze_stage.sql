-- Statistics for the staging table, so the quarantine and upsert plans fit the batch: only the
-- columns those plans filter, join or group on (_valid and the key), not the wide rest.
ANALYZE {stage} (_valid, {key})
