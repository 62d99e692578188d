-- The SCD2 change hash in one place: pipeline.change_hash(row(attributes)).
--
-- Before, two callers each wrote it out: the dbt macro change_hash (the generated staging models,
-- include/atlas_dbt/macros/masking.sql) and erasure, which recomputes the hash of an erased row
-- (plugins/atlas/dsr/erase.py). Both now call this function, so they cannot drift apart.
--
-- The value is the one they computed: pipeline.keyed_hash (V017) of the text form of
-- row((a1)::text, (a2)::text, ...), so the change_hash of every version already stored stays what
-- it is and no snapshot run adds a version because of this migration. The callers pass the row
-- itself (anyelement takes an anonymous row of any width) and PostgreSQL renders it with its own
-- record_out, as the inline expression did: a SQL function of one statement, which the planner
-- inlines, so it costs what the expression cost (bench/bench_change_hash.py; a PL/pgSQL
-- rebuild of record_out's quoting from a text[] took twice the time per row). Callers cast every
-- attribute to text themselves ((col)::text, as before): a boolean's ::text is 'true' where its
-- output in a row is 't'.
CREATE FUNCTION pipeline.change_hash(attributes anyelement)
RETURNS text
LANGUAGE sql
STABLE PARALLEL SAFE
AS $$ SELECT pipeline.keyed_hash(attributes::text) $$;
COMMENT ON FUNCTION pipeline.change_hash(anyelement) IS
    'The change hash of an SCD2 version: pipeline.keyed_hash of the text form of row(attributes, each as text). '
    'Called by the generated staging models (dbt macro change_hash) and by data-subject erasure.';
REVOKE EXECUTE ON FUNCTION pipeline.change_hash(anyelement) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pipeline.change_hash(anyelement) TO atlas_write, atlas_admin;
