-- The read role can read navigate and do nothing else that could stall or fill the warehouse.
--
-- * TEMPORARY: PUBLIC may create temporary tables in every database by default; here only the
--   pipeline and admin roles may (promotion stages retried rows in temporary tables).
-- * Large objects: any role may create them by default (lo_create, lo_import, lo_from_bytea):
--   persistent storage outside every schema and grant. Only atlas_admin may now.
-- * Advisory locks: the pipeline serialises batches and chart tables with advisory transaction
--   locks; a role that may take the same keys can stall a landing. Only the pipeline and admin
--   roles may take advisory locks (releasing them stays open: it can only release one's own).
-- All of these are privileges of this database's objects, so this applies per database.
DO $$
DECLARE
    fn regprocedure;
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO atlas_write, atlas_admin', current_database());
    FOR fn IN
        SELECT p.oid::regprocedure
          FROM pg_proc AS p
         WHERE p.pronamespace = 'pg_catalog'::regnamespace
           AND (p.proname IN ('lo_create', 'lo_creat', 'lo_import', 'lo_from_bytea')
                OR (p.proname LIKE 'pg\_%advisory%lock%' AND p.proname NOT LIKE '%unlock%'))
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
        IF fn::text LIKE 'lo\_%' THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO atlas_admin', fn);
        ELSE
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO atlas_write, atlas_admin', fn);
        END IF;
    END LOOP;
END
$$;
