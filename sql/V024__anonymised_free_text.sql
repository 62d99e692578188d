-- Free text reaches navigate anonymised, no longer as ***.
--
-- The pii stage (atlas.pii.anonymize) runs Presidio's analyzer over every value of a batch's
-- free_text columns (a ticket's subject and body) and presidio-anonymizer replaces each finding
-- with <ENTITY_TYPE>: "Call Anna Weber on +49 30 1234567" -> "Call <PERSON> on <PHONE_NUMBER>".
-- The results go here, one row per explore.raw_data row and column, replaced per batch (a re-run
-- of the interval leaves the same rows). The generated staging model shows a confidential
-- free-text column as its anonymised text (macro mask_pii, joined on the chart row's _raw_id), and
-- as *** where none exists yet (a row promoted before this stage ran); restricted and
-- special-category free text stays withheld. In chart, beside the rows it is derived from: the
-- pipeline writes it, the analyst never reads chart.

CREATE TABLE chart.anonymised_text (
    raw_id bigint NOT NULL,
    column_name text NOT NULL,
    source_name text NOT NULL,
    entity_name text NOT NULL,
    batch_id uuid NOT NULL,
    interval_start timestamptz NOT NULL,
    anonymised text NOT NULL,
    anonymised_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (raw_id, column_name)
);
CREATE INDEX anonymised_text_batch_idx ON chart.anonymised_text (batch_id);
COMMENT ON TABLE chart.anonymised_text IS
    'Free-text values with the personal data Presidio finds replaced with <ENTITY_TYPE>, per explore.raw_data '
    'row and column; written by the pii stage per batch, read by the staging models of free-text columns.';
GRANT SELECT, INSERT, UPDATE, DELETE ON chart.anonymised_text TO atlas_write;
GRANT ALL ON chart.anonymised_text TO atlas_admin;
