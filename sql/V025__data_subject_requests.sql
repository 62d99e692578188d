-- Data-subject requests (atlas.dsr): find a subject's raw records by their record key.
--
-- A request finds the raw rows of an entity whose subject key is its record key (crm.customers:
-- customer_id) by (source_name, entity_name, record_key): without this index every request reads
-- every raw row of the entity (a 1M-customer warehouse: a second or more per request).
CREATE INDEX IF NOT EXISTS raw_data_record_key_idx ON explore.raw_data (source_name, entity_name, record_key);

COMMENT ON COLUMN compliance.data_subject_requests.external_reference IS
    'The caller''s request_id from the DAG conf; request_id is uuid5 of it, so a re-trigger finds the same row.';
COMMENT ON COLUMN compliance.data_subject_requests.result_location IS
    'The access export: s3://<bucket>/dsr/<request_id>/access.json (atlas_s3 connection).';
