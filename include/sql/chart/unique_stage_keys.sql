-- Proves the batch holds one valid row per key, or fails with a unique violation (then, and
-- only then, dedupe_stage.sql runs). A unique index builds in parallel workers on the unlogged
-- staging table, faster than grouping the keys; it is dropped with the table.
CREATE UNIQUE INDEX ON {stage} ({stage_key}) WHERE _valid
