-- Detaching and dropping a partition needs its table's owner; the pipeline's login (atlas_write)
-- is not, and must not be. archive.drop_archived_partition() runs as the owner (SECURITY
-- DEFINER, like pipeline.ensure_partition) and drops a partition only when archive.snapshots
-- holds a verified archive of exactly that partition: nothing unarchived can be dropped through it.

CREATE FUNCTION archive.drop_archived_partition(partition_name text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    part regclass := to_regclass(partition_name);
    parent regclass;
BEGIN
    IF part IS NULL THEN
        RAISE EXCEPTION 'archive.drop_archived_partition: no table %', partition_name;
    END IF;
    SELECT i.inhparent INTO parent FROM pg_catalog.pg_inherits AS i WHERE i.inhrelid = part;
    IF parent IS NULL THEN
        RAISE EXCEPTION 'archive.drop_archived_partition: % is not a partition', partition_name;
    END IF;
    IF NOT EXISTS (
        SELECT FROM archive.snapshots AS s
         WHERE s.partition_name = drop_archived_partition.partition_name
           AND s.kind = 'archive' AND s.verified_at IS NOT NULL
    ) THEN
        RAISE EXCEPTION 'archive.drop_archived_partition: % has no verified archive in archive.snapshots: not dropped',
            partition_name;
    END IF;
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', parent, part);
    EXECUTE format('DROP TABLE %s', part);
END
$$;
COMMENT ON FUNCTION archive.drop_archived_partition(text) IS
    'Detach and drop a partition (as its owner) only when archive.snapshots holds a verified archive of it.';

REVOKE EXECUTE ON FUNCTION archive.drop_archived_partition(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION archive.drop_archived_partition(text) TO atlas_write, atlas_admin;
