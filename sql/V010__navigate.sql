-- navigate: the business layer. Its dimensions and facts are dbt models (include/atlas_dbt);
-- the migrations create only the schema (V001) and this shared reference for analysts.
--
-- data_dictionary exposes the classification of navigate's own columns from the compliance
-- inventory, so an analyst (atlas_read, who cannot see compliance) knows which columns are
-- masked. The view runs with its owner's privileges; security_barrier keeps the schema
-- filter ahead of any function in the caller's WHERE clause.

CREATE VIEW navigate.data_dictionary WITH (security_barrier) AS
SELECT
    a.table_name,
    a.column_name,
    a.classification,
    l.sensitivity_rank,
    l.requires_masking AS masked,
    a.pii_entity,
    a.description,
    a.owner,
    a.last_scanned_at
FROM compliance.data_assets AS a
JOIN compliance.classification_levels AS l ON l.level_name = a.classification
WHERE a.schema_name = 'navigate';
COMMENT ON VIEW navigate.data_dictionary IS
    'Classification of every navigate table and column (from compliance.data_assets): masked = true means '
    'the values are masked per their PII entity.';
