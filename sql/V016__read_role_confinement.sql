-- The read role can read navigate and do nothing else that could stall or fill the warehouse.
--
-- * TEMPORARY: PUBLIC may create temporary tables in every database by default; here only the
--   pipeline and admin roles may (promotion stages retried rows in temporary tables). Needs the
--   database's owner, which the migrating login is.
-- * Large objects: any role may create them by default (lo_create, lo_creat, lo_from_bytea):
--   persistent storage outside every schema and grant. Nobody but a superuser may now.
--   (lo_import / lo_export read and write server files: superuser-only already, left alone.)
-- * Advisory locks: the pipeline serialises batches and chart tables with advisory transaction
--   locks; a role that may take the same keys can stall a landing. Only the pipeline and admin
--   roles may take advisory locks (releasing them stays open: it can only release one's own).
-- Function privileges in pg_catalog can only be changed by a superuser: a migrating login that
-- is not one (a hosted server, the compose file's owner login) skips that part with a notice,
-- and a superuser applies it once with the statements logged in the notice.
DO $$
DECLARE
    fn regprocedure;
    superuser boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO atlas_write, atlas_admin', current_database());
    FOR fn IN
        SELECT p.oid::regprocedure
          FROM pg_proc AS p
         WHERE p.pronamespace = 'pg_catalog'::regnamespace
           AND (p.proname IN ('lo_create', 'lo_creat', 'lo_from_bytea')
                OR (p.proname LIKE 'pg\_%advisory%lock%' AND p.proname NOT LIKE '%unlock%'))
         ORDER BY 1
    LOOP
        IF NOT superuser THEN
            RAISE NOTICE 'not a superuser: skipped REVOKE EXECUTE ON FUNCTION % FROM PUBLIC (and its grants); '
                         'have a superuser run sql/V016__read_role_confinement.sql''s loop', fn;
            CONTINUE;
        END IF;
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
        IF fn::text NOT LIKE 'lo\_%' THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO atlas_write, atlas_admin', fn);
        END IF;
    END LOOP;
END
$$;
