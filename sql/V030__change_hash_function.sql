-- The SCD2 change hash in one place: pipeline.change_hash(VARIADIC text[]).
--
-- Before, two callers each wrote it out: the dbt macro change_hash (the generated staging models,
-- include/atlas_dbt/macros/masking.sql) and erasure, which recomputes the hash of an erased row
-- (plugins/atlas/dsr/erase.py). Both now call this function, so they cannot drift apart.
--
-- The value is the one they computed: pipeline.keyed_hash (V017) of the text form of
-- row((a1)::text, (a2)::text, ...), so the change_hash of every version already stored stays what
-- it is and no snapshot run adds a version because of this migration. A row constructor's text
-- form (PostgreSQL's record_out) is rebuilt here from the array, because a function cannot take an
-- anonymous row of any width: fields joined by ',', a NULL as nothing, the empty string and any
-- value holding '"', '\', '(', ')', ',' or a space character (isspace of the C library: space,
-- \t, \n, \v, \f, \r; no byte of a multi-byte UTF-8 character is one) quoted in '"', with '"' and
-- '\' doubled inside. tests/plugins/atlas/migrations/test_keyed_hash.py compares it with the row
-- constructor for generated hostile values.
--
-- PL/pgSQL, not SQL: a SQL body needs unnest and an aggregate and is then run as a sub-query per
-- call (about twice the cost of the loop here). bench/bench_change_hash.py measures it against the
-- inline expression (about 2x its time per value, 1M rows). Callers cast every attribute to text themselves ((col)::text, as before): a
-- boolean's ::text is 'true' where its output in a row is 't'; the text[] argument makes a
-- missing cast an error instead of a silently different hash.
CREATE FUNCTION pipeline.change_hash(VARIADIC attributes text[])
RETURNS text
LANGUAGE plpgsql
STABLE PARALLEL SAFE
AS $$
DECLARE
    shown text := '';
    value text;
    i integer := 0;
BEGIN
    FOREACH value IN ARRAY coalesce(attributes, '{}') LOOP
        IF i > 0 THEN
            shown := shown || ',';
        END IF;
        i := i + 1;
        IF value IS NULL THEN
            CONTINUE;
        ELSIF value = '' OR value ~ '[",\\() \t\n\v\f\r]' THEN
            shown := shown || '"' || replace(replace(value, '\', '\\'), '"', '""') || '"';
        ELSE
            shown := shown || value;
        END IF;
    END LOOP;
    RETURN pipeline.keyed_hash('(' || shown || ')');
END
$$;
COMMENT ON FUNCTION pipeline.change_hash(text[]) IS
    'The change hash of an SCD2 version: pipeline.keyed_hash of the text form of row(attributes, each as text). '
    'Called by the generated staging models (dbt macro change_hash) and by data-subject erasure.';
REVOKE EXECUTE ON FUNCTION pipeline.change_hash(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pipeline.change_hash(text[]) TO atlas_write, atlas_admin;
