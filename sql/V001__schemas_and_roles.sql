-- The seven warehouse schemas and the three group roles.
--
-- Roles are cluster-global while schemas live in one database: a second database on the same
-- cluster (every test session creates one) finds the roles already there, so each role is
-- created only when missing, and a concurrent creator (duplicate_object / unique_violation) is
-- not an error. The roles are NOLOGIN groups: login users are granted membership by the DBA.
-- Their privileges are granted per database in V012__grants.sql.

CREATE SCHEMA IF NOT EXISTS explore;
CREATE SCHEMA IF NOT EXISTS chart;
CREATE SCHEMA IF NOT EXISTS navigate;
CREATE SCHEMA IF NOT EXISTS pipeline;
CREATE SCHEMA IF NOT EXISTS quality;
CREATE SCHEMA IF NOT EXISTS compliance;
CREATE SCHEMA IF NOT EXISTS archive;

COMMENT ON SCHEMA explore IS
    'Raw layer: landed records as JSONB, exactly as read from the source, partitioned monthly.';
COMMENT ON SCHEMA chart IS
    'Validated layer: one typed table per source entity, plus the quarantine of rows that failed validation.';
COMMENT ON SCHEMA navigate IS
    'Business layer built by dbt: SCD2 dimensions and yearly-partitioned facts, personal data masked. '
    'The only schema the atlas_read role can see.';
COMMENT ON SCHEMA pipeline IS
    'Pipeline bookkeeping: one row per batch, incremental watermarks, and the shared helper functions '
    '(row_checksum, ensure_partition). Run and task history stays in the Airflow metadata database.';
COMMENT ON SCHEMA quality IS
    'Data quality: the six dimensions and their weights, check definitions and results, daily scorecards, anomalies.';
COMMENT ON SCHEMA compliance IS
    'Governance: classification levels, data-asset inventory, PII patterns and detections, '
    'the audit log (7 years) and data-subject requests; masking functions.';
COMMENT ON SCHEMA archive IS
    'Manifest of partition snapshots archived to object storage before their partitions are dropped.';

DO $$
DECLARE
    role record;
BEGIN
    FOR role IN
        SELECT * FROM (VALUES
            ('atlas_read', 'Analysts: SELECT on navigate only (masked data); no access to any other schema.'),
            ('atlas_write', 'The pipeline: reads and writes explore, chart, navigate, pipeline, quality, compliance, archive.'),
            ('atlas_admin', 'Administrators: every privilege on the seven Atlas schemas.')
        ) AS r(role_name, description)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = role.role_name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', role.role_name);
                EXECUTE format('COMMENT ON ROLE %I IS %L', role.role_name, role.description);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                -- another session created it between our check and our CREATE
                NULL;
            END;
        END IF;
    END LOOP;
END
$$;
