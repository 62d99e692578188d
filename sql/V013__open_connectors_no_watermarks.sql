-- Connectors are a registry of packages (atlas.connectors): the set of connector types is no
-- longer fixed, so the CHECK listing them goes (the source YAML is validated against the
-- registry before a source is ever synced).
-- pipeline.watermarks was written and never read: every extract is bounded by its run's data
-- interval (re-runs and backfills stay idempotent), and pipeline.batches records the interval
-- of every batch, so no checkpoint table is kept.
ALTER TABLE explore.source_systems DROP CONSTRAINT IF EXISTS source_systems_connector_type_check;
DROP TABLE IF EXISTS pipeline.watermarks;
COMMENT ON SCHEMA pipeline IS
    'Pipeline bookkeeping: one row per batch (source, entity, data interval, counts, checksum) and '
    'the shared helper functions (row_checksum, ensure_partition). Run and task history stays in the '
    'Airflow metadata database.';
