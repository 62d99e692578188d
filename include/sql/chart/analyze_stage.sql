-- Statistics for the staging table, so the quarantine and upsert plans fit the batch.
ANALYZE {stage}
