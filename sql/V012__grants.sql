-- Privileges of the three roles (created in V001) in this database.
--
-- Grants and default privileges are per database, so this file applies cleanly to every new
-- database on a cluster where the roles already exist. Default privileges cover tables later
-- created by the migrating role (dbt models, chart tables, new partitions) and, where the
-- migrating role may act for them, by atlas_write and atlas_admin; a migration that adds a
-- table needing more than the defaults grants it there.
--
--   atlas_read   USAGE on navigate, SELECT on its tables and views; nothing anywhere else.
--   atlas_write  the pipeline: read/write on the seven schemas, CREATE in chart and navigate,
--                the helper functions; compliance is append-only by default and audit_log
--                can never be updated or deleted by it.
--   atlas_admin  everything on the seven schemas.

-- atlas_read: navigate only. The revokes are explicit so that the intent is in the code.
REVOKE ALL ON SCHEMA explore, chart, pipeline, quality, compliance, archive FROM atlas_read;
REVOKE ALL ON ALL TABLES IN SCHEMA explore, chart, pipeline, quality, compliance, archive FROM atlas_read;
GRANT USAGE ON SCHEMA navigate TO atlas_read;
GRANT SELECT ON ALL TABLES IN SCHEMA navigate TO atlas_read;

-- atlas_write: the pipeline.
GRANT USAGE ON SCHEMA explore, chart, navigate, pipeline, quality, compliance, archive TO atlas_write;
GRANT CREATE ON SCHEMA chart, navigate TO atlas_write;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON ALL TABLES IN SCHEMA explore, chart, navigate, pipeline, quality, compliance, archive TO atlas_write;
GRANT USAGE, SELECT ON ALL SEQUENCES
    IN SCHEMA explore, chart, navigate, pipeline, quality, compliance, archive TO atlas_write;
REVOKE UPDATE, DELETE, TRUNCATE ON compliance.audit_log FROM atlas_write;
REVOKE UPDATE, DELETE ON compliance.classification_levels, compliance.pii_patterns FROM atlas_write;
REVOKE UPDATE, DELETE ON quality.dimensions FROM atlas_write;

-- SECURITY DEFINER functions are not for everyone.
REVOKE EXECUTE ON FUNCTION pipeline.ensure_partition(regclass, text, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION pipeline.ensure_partitions(regclass, text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pipeline, quality, compliance TO atlas_write;

-- atlas_admin: everything on the seven schemas.
GRANT ALL ON SCHEMA explore, chart, navigate, pipeline, quality, compliance, archive TO atlas_admin;
GRANT ALL ON ALL TABLES IN SCHEMA explore, chart, navigate, pipeline, quality, compliance, archive TO atlas_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA explore, chart, navigate, pipeline, quality, compliance, archive TO atlas_admin;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA explore, chart, navigate, pipeline, quality, compliance, archive TO atlas_admin;

-- Partitions are tables of their own: a direct write to an audit_log partition must be as
-- impossible as one through the parent.
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'compliance.audit_log'::regclass LOOP
        EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM atlas_write', part);
    END LOOP;
END
$$;

-- Default privileges for objects created later, by the migrating role and (when it may act
-- for them: superuser or member) by atlas_write and atlas_admin. Compliance defaults are
-- append-only (SELECT, INSERT), so future audit_log partitions stay append-only too.
DO $$
DECLARE
    creator text;
    schema_name text;
BEGIN
    FOREACH creator IN ARRAY ARRAY[current_user::text, 'atlas_write', 'atlas_admin'] LOOP
        CONTINUE WHEN NOT pg_has_role(current_user, creator, 'MEMBER');
        EXECUTE format(
            'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA navigate GRANT SELECT ON TABLES TO atlas_read',
            creator);
        FOREACH schema_name IN ARRAY ARRAY['explore', 'chart', 'navigate', 'pipeline', 'quality', 'archive'] LOOP
            EXECUTE format(
                'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I '
                'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO atlas_write',
                creator, schema_name);
        END LOOP;
        EXECUTE format(
            'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA compliance GRANT SELECT, INSERT ON TABLES TO atlas_write',
            creator);
        FOREACH schema_name IN ARRAY ARRAY['explore', 'chart', 'navigate', 'pipeline', 'quality', 'compliance', 'archive'] LOOP
            EXECUTE format(
                'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO atlas_write',
                creator, schema_name);
            EXECUTE format(
                'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT ALL ON TABLES TO atlas_admin',
                creator, schema_name);
            EXECUTE format(
                'ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT ALL ON SEQUENCES TO atlas_admin',
                creator, schema_name);
        END LOOP;
    END LOOP;
END
$$;
