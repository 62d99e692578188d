-- pipeline: one row per batch and the incremental-load checkpoints (docs/design.md).
--
-- Only what Airflow's metadata database does not already record: dag_id and run_id link a
-- batch to its DAG run there; task states, tries, durations and logs stay in Airflow.

CREATE TABLE pipeline.batches (
    batch_id uuid PRIMARY KEY,
    source_name text NOT NULL,
    entity_name text NOT NULL,
    dag_id text,
    run_id text,
    interval_start timestamptz NOT NULL,
    interval_end timestamptz NOT NULL,
    rows_read bigint CHECK (rows_read >= 0),
    rows_landed bigint CHECK (rows_landed >= 0),
    rows_quarantined bigint CHECK (rows_quarantined >= 0),
    rows_promoted bigint CHECK (rows_promoted >= 0),
    rows_rejected bigint CHECK (rows_rejected >= 0),
    checksum text,
    started_at timestamptz NOT NULL DEFAULT now(),
    landed_at timestamptz,
    promoted_at timestamptz,
    status text NOT NULL,
    UNIQUE (source_name, entity_name, interval_start, interval_end),
    CONSTRAINT batches_interval_order CHECK (interval_end >= interval_start),
    CONSTRAINT batches_landing_balance CHECK (rows_read = rows_landed + rows_quarantined),
    CONSTRAINT batches_promotion_balance CHECK (rows_landed = rows_promoted + rows_rejected)
);
COMMENT ON TABLE pipeline.batches IS
    'One row per batch = (source, entity, data interval); batch_id is uuid5 of '
    'source/entity/interval_start/interval_end, so a re-run or backfill updates the same row. '
    'Invariants (CHECK, hold once the counts are set): rows_read = rows_landed + rows_quarantined; '
    'rows_landed = rows_promoted + rows_rejected (re-landing a batch must reset rows_promoted and '
    'rows_rejected to NULL until it is promoted again).';
COMMENT ON COLUMN pipeline.batches.dag_id IS 'Airflow DAG id of the run that last wrote the batch.';
COMMENT ON COLUMN pipeline.batches.run_id IS 'Airflow run id of the run that last wrote the batch.';
COMMENT ON COLUMN pipeline.batches.rows_read IS 'Records read from the source for the interval.';
COMMENT ON COLUMN pipeline.batches.rows_landed IS 'Rows written to explore.raw_data.';
COMMENT ON COLUMN pipeline.batches.rows_quarantined IS 'Records written to explore.quarantine instead.';
COMMENT ON COLUMN pipeline.batches.rows_promoted IS 'Rows promoted to the typed chart table.';
COMMENT ON COLUMN pipeline.batches.rows_rejected IS 'Rows that failed validation: chart.quarantine.';
COMMENT ON COLUMN pipeline.batches.checksum IS 'Checksum over the batch''s payload checksums.';
COMMENT ON COLUMN pipeline.batches.status IS 'Where the batch is in its life cycle, set by the pipeline.';

CREATE INDEX batches_dag_run_idx ON pipeline.batches (dag_id, run_id);

CREATE TABLE pipeline.watermarks (
    source_name text NOT NULL,
    entity_name text NOT NULL,
    watermark_column text NOT NULL,
    watermark_value text,
    batch_id uuid,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_name, entity_name)
);
COMMENT ON TABLE pipeline.watermarks IS
    'Incremental-load checkpoint per (source, entity): the highest watermark_column value landed, '
    'as text, and the batch that landed it.';
