-- quality.batch_metrics: the metrics of each table's batches (row count, quarantine share, null
-- and distinct ratios of key and required columns), one row per table, metric and batch, the
-- history that anomaly detection (atlas.quality.anomalies) compares each new batch with. A
-- re-run of an interval replaces its batch's rows.

CREATE TABLE quality.batch_metrics (
    table_name text NOT NULL,
    metric_name text NOT NULL,
    batch_id uuid NOT NULL,
    interval_start timestamptz NOT NULL,
    value numeric NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, metric_name, batch_id)
);
COMMENT ON TABLE quality.batch_metrics IS
    'One value per table, metric and batch (row_count, quarantine_share, null_rate.<column>, '
    'distinct_ratio.<column>): the history anomaly detection compares a new batch with.';
CREATE INDEX batch_metrics_history_idx ON quality.batch_metrics (table_name, metric_name, interval_start);

GRANT SELECT, INSERT, UPDATE, DELETE ON quality.batch_metrics TO atlas_write;
GRANT ALL ON quality.batch_metrics TO atlas_admin;
