-- Range partitions on demand: pipeline.ensure_partition / pipeline.ensure_partitions.
--
-- There is no default partition anywhere (docs/design.md): a row whose partition is missing
-- fails loudly. Every writer calls ensure_partition for its interval first, and the maintenance
-- DAG keeps partitions ahead. Python (WarehouseHook) and SQL callers share this one function.
--
-- Bounds are computed in UTC whatever the session TimeZone: `at AT TIME ZONE 'UTC'` gives the
-- UTC wall-clock timestamp, date_trunc cuts it to the grain, and the bound literal is written
-- as 'YYYY-MM-DD HH24:MI:SS+00' with to_char (independent of DateStyle), so the partition
-- pYYYYMM holds exactly [YYYY-MM-01 00:00 UTC, next month 00:00 UTC). The name uses the same
-- UTC values.
--
-- Concurrency: the function takes pg_advisory_xact_lock(hashtext(parent::text)) before looking
-- for the partition, so two transactions creating the same partition serialise; the second
-- then finds it. As a second line of defence a duplicate_table raised by CREATE (a catalog
-- cache that has not yet seen the other transaction's commit) is taken as "it exists".
-- The lock is held until the caller's transaction ends.
--
-- SECURITY DEFINER: creating a partition requires owning the parent table; the function runs
-- as the migration owner so members of atlas_write can call it (EXECUTE is granted in
-- V012__grants.sql, revoked from PUBLIC). It only serves parents in the seven Atlas schemas,
-- and its search_path is pinned.

CREATE OR REPLACE FUNCTION pipeline.ensure_partition(parent regclass, grain text, at timestamptz)
RETURNS text
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parent_namespace oid;
    parent_schema name;
    parent_name name;
    step interval;
    name_format text;
    lower_utc timestamp;
    upper_utc timestamp;
    lower_bound text;
    upper_bound text;
    partition_name text;
    existing oid;
BEGIN
    IF parent IS NULL OR grain IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'ensure_partition(%, %, %): no argument may be NULL', parent, grain, at
            USING ERRCODE = 'null_value_not_allowed';
    END IF;

    CASE grain
        WHEN 'month' THEN step := interval '1 month'; name_format := 'YYYYMM';
        WHEN 'quarter' THEN step := interval '3 months'; name_format := 'YYYY"q"Q';
        WHEN 'year' THEN step := interval '1 year'; name_format := 'YYYY';
        ELSE
            RAISE EXCEPTION 'ensure_partition: grain must be month, quarter or year, not %', grain
                USING ERRCODE = 'invalid_parameter_value';
    END CASE;

    SELECT n.oid, n.nspname, c.relname
      INTO parent_namespace, parent_schema, parent_name
      FROM pg_class AS c
      JOIN pg_namespace AS n ON n.oid = c.relnamespace
      JOIN pg_partitioned_table AS p ON p.partrelid = c.oid
     WHERE c.oid = parent AND p.partstrat = 'r';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'ensure_partition: % is not a range-partitioned table', parent
            USING ERRCODE = 'wrong_object_type';
    END IF;
    IF parent_schema NOT IN ('explore', 'chart', 'navigate', 'pipeline', 'quality', 'compliance', 'archive') THEN
        RAISE EXCEPTION 'ensure_partition: % is outside the Atlas schemas', parent
            USING ERRCODE = 'insufficient_privilege';
    END IF;

    lower_utc := date_trunc(grain, at AT TIME ZONE 'UTC');
    upper_utc := lower_utc + step;
    lower_bound := to_char(lower_utc, 'YYYY-MM-DD HH24:MI:SS') || '+00';
    upper_bound := to_char(upper_utc, 'YYYY-MM-DD HH24:MI:SS') || '+00';
    partition_name := parent_name || '_p' || to_char(lower_utc, name_format);
    IF octet_length(partition_name) > 63 THEN
        RAISE EXCEPTION 'ensure_partition: partition name % is longer than 63 bytes', partition_name
            USING ERRCODE = 'name_too_long';
    END IF;

    PERFORM pg_advisory_xact_lock(hashtext(parent::text));

    SELECT c.oid INTO existing
      FROM pg_class AS c
     WHERE c.relnamespace = parent_namespace AND c.relname = partition_name;
    IF existing IS NULL THEN
        BEGIN
            EXECUTE format(
                'CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                parent_schema, partition_name, parent, lower_bound, upper_bound
            );
            EXECUTE format(
                'COMMENT ON TABLE %I.%I IS %L',
                parent_schema, partition_name,
                format('%sly partition of %s: [%s, %s).', initcap(grain), parent,
                       lower_bound, upper_bound)
            );
            RAISE DEBUG 'ensure_partition: created %.%', parent_schema, partition_name;
        EXCEPTION WHEN duplicate_table THEN
            NULL;
        END;
    ELSIF NOT EXISTS (SELECT FROM pg_inherits WHERE inhrelid = existing AND inhparent = parent) THEN
        RAISE EXCEPTION 'ensure_partition: %.% exists but is not a partition of %',
            parent_schema, partition_name, parent
            USING ERRCODE = 'duplicate_table',
                  HINT = 'Rename or drop the stray table, or attach it with the bounds of its name.';
    END IF;

    RETURN format('%I.%I', parent_schema, partition_name);
END
$$;
COMMENT ON FUNCTION pipeline.ensure_partition(regclass, text, timestamptz) IS
    'Creates, if missing, the range partition of `parent` holding `at` for grain month | quarter | year '
    '(<parent>_pYYYYMM, <parent>_pYYYYqN, <parent>_pYYYY; bounds in UTC) and returns its schema-qualified '
    'name. Safe under concurrency: serialised by an advisory transaction lock per parent.';

CREATE OR REPLACE FUNCTION pipeline.ensure_partitions(
    parent regclass, grain text, from_ts timestamptz, to_ts timestamptz
)
RETURNS SETOF text
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    step interval;
    cursor_utc timestamp;
BEGIN
    IF from_ts IS NULL OR to_ts IS NULL OR to_ts < from_ts THEN
        RAISE EXCEPTION 'ensure_partitions: need from_ts <= to_ts, got % and %', from_ts, to_ts
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    step := CASE grain
        WHEN 'month' THEN interval '1 month'
        WHEN 'quarter' THEN interval '3 months'
        WHEN 'year' THEN interval '1 year'
    END;
    IF step IS NULL THEN
        RAISE EXCEPTION 'ensure_partitions: grain must be month, quarter or year, not %', grain
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    cursor_utc := date_trunc(grain, from_ts AT TIME ZONE 'UTC');
    WHILE cursor_utc <= to_ts AT TIME ZONE 'UTC' LOOP
        RETURN NEXT pipeline.ensure_partition(parent, grain, cursor_utc AT TIME ZONE 'UTC');
        cursor_utc := cursor_utc + step;
    END LOOP;
END
$$;
COMMENT ON FUNCTION pipeline.ensure_partitions(regclass, text, timestamptz, timestamptz) IS
    'ensure_partition for every partition holding an instant of [from_ts, to_ts] (both ends included); '
    'returns the partition names in order. ensure_partitions(t, ''month'', now(), now() + interval ''3 months'') '
    'covers the current month and the three after it.';
