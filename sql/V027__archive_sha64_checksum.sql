-- archive: the manifest's checksum is now the sha64 checksum (atlas.row_checksum), which
-- PostgreSQL computes in the export query and the archiver recomputes from the object it reads
-- back. Rows written before it keep their h64x2 checksum and object digest, and a restore checks
-- them with archive.relation_checksum (V019/V029), which stays: the prefix of the checksum says
-- which algorithm a row used. Only the columns' documentation changes.
COMMENT ON COLUMN archive.snapshots.checksum IS
    'Checksum of the rows when archived, prefixed by its algorithm: sha64:<sum> (atlas.row_checksum: sum of the '
    'first 8 bytes of SHA-256 of each row''s canonical text, computed by PostgreSQL in the export and from the '
    'object read back) or, for rows written before it, h64x2:<sum>:<sum> (archive.relation_checksum). A restore '
    'recomputes it with that algorithm on the restored partition.';
COMMENT ON COLUMN archive.snapshots.object_digest IS
    'Rows written before the sha64 checksum: SHA-256 of the object''s rows in file order as Arrow renders them '
    '(atlas.parquet_io.RowDigest), checked again before a restore loads it. NULL for sha64 rows.';
