-- Masking follows the classification and leaks nothing that singles a person out; the data
-- dictionary says, per navigate column, what the analyst sees instead of the value.
--
-- V002 masked by PII entity alone and kept parts of the value: initials (J***), the e-mail
-- domain, the last four phone digits, the year of birth. Combined, those were unique per
-- customer. From here compliance.mask(value, entity, classification) is the one place that masks:
--   * public, internal: the value itself (nothing to mask);
--   * confidential: generalised where a coarse form is still useful, else redacted to ***:
--       DATE_TIME    the decade           1984-07-21 -> 1980s
--       POSTAL_CODE  the first two characters (letters and digits)   10115 -> 10***
--       IP_ADDRESS   the /16 network      203.0.113.42 -> 203.0.0.0
--       anything else (PERSON, EMAIL_ADDRESS, PHONE_NUMBER, LOCATION, FREE_TEXT, no hint …): ***
--   * restricted, special_category (and any unknown level): withheld, NULL.
-- NULL stays NULL and '' stays '' (as NULL, an absent value says nothing about a person).
-- compliance.mask(value, entity) keeps working for its callers as the confidential form, and
-- V002's per-entity helpers now return what compliance.mask does, so no caller can still get the
-- old partial masks. compliance.masking(entity, classification) describes each rule in words
-- for the data dictionary, next to the rule itself.

CREATE FUNCTION compliance.generalise_date(value text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN value ~ '^\d{4}' THEN left(value, 3) || '0s' ELSE '***' END
$$;
COMMENT ON FUNCTION compliance.generalise_date(text) IS
    'A date or timestamp generalised to its decade: 1984-07-21 -> 1980s; anything else -> ***.';

CREATE FUNCTION compliance.generalise_postal_code(value text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN length(compact) > 2 THEN left(compact, 2) || '***' ELSE '***' END
      FROM (SELECT upper(regexp_replace(value, '[^[:alnum:]]', '', 'g')) AS compact) AS c
$$;
COMMENT ON FUNCTION compliance.generalise_postal_code(text) IS
    'A postal code generalised to its first two letters or digits (the postal area): 10115 -> 10***, '
    'EC1A 1BB -> EC***; two characters or fewer -> ***.';

CREATE FUNCTION compliance.mask(value text, entity text, classification text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value IS NULL THEN NULL
        WHEN lower(classification) IN ('public', 'internal') THEN value
        WHEN lower(classification) IS DISTINCT FROM 'confidential' THEN NULL
        WHEN value = '' THEN ''
        ELSE CASE upper(coalesce(entity, ''))
            WHEN 'DATE_TIME' THEN compliance.generalise_date(value)
            WHEN 'POSTAL_CODE' THEN compliance.generalise_postal_code(value)
            WHEN 'IP_ADDRESS' THEN compliance.mask_ip(value)
            ELSE '***'
        END
    END
$$;
COMMENT ON FUNCTION compliance.mask(text, text, text) IS
    'The one masking rule of Atlas: a value as navigate shows it, by PII entity and classification. '
    'public/internal: unchanged; confidential: generalised (DATE_TIME: decade, POSTAL_CODE: first two '
    'characters, IP_ADDRESS: /16) or ***; restricted, special_category or unknown: NULL (withheld).';

CREATE FUNCTION compliance.masking(entity text, classification text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN lower(classification) IN ('public', 'internal') THEN 'none: shown as it is'
        WHEN lower(classification) IS DISTINCT FROM 'confidential'
            THEN 'withheld: always NULL (' || coalesce(lower(classification), 'no classification') || ')'
        ELSE CASE upper(coalesce(entity, ''))
            WHEN 'DATE_TIME' THEN 'generalised to the decade: 1984-07-21 -> 1980s'
            WHEN 'POSTAL_CODE' THEN 'generalised to the first two characters: 10115 -> 10***'
            WHEN 'IP_ADDRESS' THEN 'generalised to the /16 network: 203.0.113.42 -> 203.0.0.0'
            WHEN 'FREE_TEXT' THEN 'redacted: *** (free text, until the PII stage can anonymise it)'
            ELSE 'redacted: ***'
        END
    END
$$;
COMMENT ON FUNCTION compliance.masking(text, text) IS
    'What compliance.mask(value, entity, classification) shows instead of a value, in words (the data '
    'dictionary''s masking column); examples read "value -> masked".';

CREATE OR REPLACE FUNCTION compliance.mask(value text, entity text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT compliance.mask(value, entity, 'confidential')
$$;
COMMENT ON FUNCTION compliance.mask(text, text) IS
    'compliance.mask(value, entity, ''confidential''): a value masked by its PII entity as a confidential column.';

-- V002's helpers, for any caller left: the same result as compliance.mask, nothing partial.
CREATE OR REPLACE FUNCTION compliance.mask_text(value text, keep integer DEFAULT 1)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT compliance.mask(value, NULL)
$$;
COMMENT ON FUNCTION compliance.mask_text(text, integer) IS
    'Redacts a value to *** ('''' stays ''''); `keep` is ignored since V018: leading characters single people out.';

DO $$
DECLARE
    helper record;
BEGIN
    FOR helper IN
        SELECT * FROM (VALUES
            ('mask_email', 'EMAIL_ADDRESS', '***'),
            ('mask_phone', 'PHONE_NUMBER', '***'),
            ('mask_credit_card', 'CREDIT_CARD', '***'),
            ('mask_iban', 'IBAN_CODE', '***'),
            ('mask_date', 'DATE_TIME', 'the decade, 1984-07-21 -> 1980s')
        ) AS h(function_name, entity, shows)
    LOOP
        EXECUTE format(
            'CREATE OR REPLACE FUNCTION compliance.%I(value text) RETURNS text '
            'LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS %L',
            helper.function_name, format('SELECT compliance.mask(value, %L)', helper.entity));
        EXECUTE format(
            'COMMENT ON FUNCTION compliance.%I(text) IS %L',
            helper.function_name, format('compliance.mask(value, %L): %s.', helper.entity, helper.shows));
    END LOOP;
END
$$;

-- The data dictionary: the inventory rows of navigate's columns, written by the dbt models that
-- create those columns (macro register_columns, from the source YAML), limited to the columns
-- that exist now.
ALTER TABLE compliance.data_assets ADD COLUMN masking text;
COMMENT ON COLUMN compliance.data_assets.masking IS
    'For a navigate column: what the analyst sees instead of the value (compliance.masking).';

DROP VIEW navigate.data_dictionary;
CREATE VIEW navigate.data_dictionary WITH (security_barrier) AS
SELECT
    a.source_name,
    a.entity_name,
    a.table_name,
    a.column_name,
    format_type(att.atttypid, att.atttypmod) AS data_type,
    a.classification,
    l.sensitivity_rank,
    l.requires_masking AS masked,
    a.pii_entity,
    a.masking,
    a.description,
    a.owner,
    a.last_scanned_at,
    a.updated_at
FROM compliance.data_assets AS a
JOIN compliance.classification_levels AS l ON l.level_name = a.classification
JOIN pg_catalog.pg_attribute AS att
  ON att.attrelid = to_regclass(format('%I.%I', a.schema_name, a.table_name))
 AND att.attname = a.column_name
 AND att.attnum > 0
 AND NOT att.attisdropped
WHERE a.schema_name = 'navigate';
COMMENT ON VIEW navigate.data_dictionary IS
    'Every column of navigate''s generated tables (from the source YAML, registered by the dbt run that built '
    'them): source, entity, classification, PII hint, and masking = what is shown instead of the value.';
GRANT SELECT ON navigate.data_dictionary TO atlas_read, atlas_write;
GRANT ALL ON navigate.data_dictionary TO atlas_admin;
