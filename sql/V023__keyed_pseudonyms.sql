-- Identifiers become keyed pseudonyms in navigate; the masking policy is one function.
--
-- Until V018 every confidential identifier (an IBAN, a card or passport number, a customer
-- number) was redacted to ***, so navigate could not join or count by it. From here a
-- confidential identifier is shown as its keyed pseudonym: HMAC-SHA256 (RFC 2104, built from core
-- sha256() as pipeline.keyed_hash is, V017) under a key that comes from outside the database, the
-- password of the Airflow connection `atlas_pseudonym_key` (an environment variable
-- AIRFLOW_CONN_ATLAS_PSEUDONYM_KEY or any secrets backend). Equal values get equal pseudonyms (in
-- every table, so joins work); without the key nobody can compute one to confirm a guess, however
-- small the space of values (a card number, a date); a different key gives different pseudonyms.
--
-- The key travels only as a bound parameter: before each navigate build the pipeline's task
-- install_pseudonym_key (atlas.pseudonyms) reads the connection and calls
-- compliance.install_pseudonym_key(key), which stores HMAC's two padded forms in
-- compliance.pseudonym_key, readable by its owner (the migrating role) only. dbt's SQL calls
-- compliance.pseudonym(value) and never holds the key; neither do its logs or the task logs.
--
-- The policy, by PII entity, is compliance.pii_treatment(entity); compliance.mask (the one
-- masking rule, now STABLE since a pseudonym reads the key) and compliance.masking (its words for
-- the data dictionary) both follow it:
--   identifier  pseudonym    IDENTIFIER, IBAN_CODE, CREDIT_CARD, US_SSN, US_ITIN, US_PASSPORT,
--                            US_DRIVER_LICENSE, US_BANK_NUMBER, UK_NHS, UK_NINO, CRYPTO, MEDICAL_LICENSE
--   date        the decade   DATE_TIME, DATE_OF_BIRTH
--   postal      the area     POSTAL_CODE
--   network     the /16      IP_ADDRESS
--   redact      ***          everything else: contact data (EMAIL_ADDRESS, PHONE_NUMBER), names
--                            (PERSON), places (LOCATION, STREET_ADDRESS), FREE_TEXT, no hint
-- The classification decides first, as before: public/internal as is, restricted and
-- special_category withheld (NULL); the treatment applies to confidential values.

CREATE TABLE compliance.pseudonym_key (
    key_id smallint PRIMARY KEY DEFAULT 1 CHECK (key_id = 1),
    inner_pad bytea NOT NULL CHECK (length(inner_pad) = 64),
    outer_pad bytea NOT NULL CHECK (length(outer_pad) = 64),
    installed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE compliance.pseudonym_key IS
    'The key of compliance.pseudonym as HMAC''s inner and outer pads; one row, readable by its owner only. '
    'Installed from the Airflow connection atlas_pseudonym_key by compliance.install_pseudonym_key().';
REVOKE ALL ON compliance.pseudonym_key FROM PUBLIC, atlas_read, atlas_write, atlas_admin;

CREATE FUNCTION compliance.install_pseudonym_key(key text)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k bytea := convert_to(key, 'UTF8');
    ipad bytea;
    opad bytea;
BEGIN
    -- never name the key in a message: errors reach logs
    IF length(k) < 16 THEN
        RAISE EXCEPTION 'the pseudonym key is too short: % bytes, at least 16 are needed', length(k)
            USING HINT = 'Set a long random password on the Airflow connection atlas_pseudonym_key.';
    END IF;
    IF length(k) > 64 THEN
        k := sha256(k);  -- RFC 2104: a key longer than the block is hashed first
    END IF;
    k := k || decode(repeat('00', 64 - length(k)), 'hex');
    ipad := k;
    opad := k;
    FOR i IN 0 .. 63 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);  -- 0x36
        opad := set_byte(opad, i, get_byte(k, i) # 92);  -- 0x5c
    END LOOP;
    IF EXISTS (SELECT 1 FROM compliance.pseudonym_key WHERE inner_pad = ipad AND outer_pad = opad) THEN
        RETURN false;
    END IF;
    INSERT INTO compliance.pseudonym_key AS p (key_id, inner_pad, outer_pad)
    VALUES (1, ipad, opad)
    ON CONFLICT (key_id) DO UPDATE
        SET inner_pad = excluded.inner_pad, outer_pad = excluded.outer_pad, installed_at = now();
    RETURN true;
END
$$;
COMMENT ON FUNCTION compliance.install_pseudonym_key(text) IS
    'Installs the key of compliance.pseudonym (the password of the Airflow connection atlas_pseudonym_key); '
    'true when it differs from the installed one (a first install or a rotation: every pseudonym changes).';
REVOKE EXECUTE ON FUNCTION compliance.install_pseudonym_key(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.install_pseudonym_key(text) TO atlas_write, atlas_admin;

CREATE FUNCTION compliance.pseudonym(value text)
RETURNS text
LANGUAGE plpgsql
STABLE STRICT PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    digest text;
BEGIN
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(value, 'UTF8'))), 'hex')
      INTO digest
      FROM compliance.pseudonym_key AS k
     WHERE k.key_id = 1;
    IF digest IS NULL THEN
        RAISE EXCEPTION 'no pseudonym key is installed in this warehouse'
            USING HINT = 'The source DAG''s task install_pseudonym_key installs it from the Airflow connection '
                         'atlas_pseudonym_key before navigate is built: the key is its password, e.g. '
                         'AIRFLOW_CONN_ATLAS_PSEUDONYM_KEY=generic://:<a long random key>@';
    END IF;
    RETURN digest;
END
$$;
COMMENT ON FUNCTION compliance.pseudonym(text) IS
    'Keyed pseudonym of a value: HMAC-SHA256 hex under the key of the Airflow connection atlas_pseudonym_key. '
    'Equal values, equal pseudonyms (joins work); nobody without the key can compute one.';
REVOKE EXECUTE ON FUNCTION compliance.pseudonym(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.pseudonym(text) TO atlas_write, atlas_admin;

CREATE FUNCTION compliance.pii_treatment(entity text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN upper(coalesce(entity, '')) IN (
            'IDENTIFIER', 'IBAN_CODE', 'CREDIT_CARD', 'US_SSN', 'US_ITIN', 'US_PASSPORT',
            'US_DRIVER_LICENSE', 'US_BANK_NUMBER', 'UK_NHS', 'UK_NINO', 'CRYPTO', 'MEDICAL_LICENSE')
            THEN 'pseudonym'
        WHEN upper(entity) IN ('DATE_TIME', 'DATE_OF_BIRTH') THEN 'decade'
        WHEN upper(entity) = 'POSTAL_CODE' THEN 'postal_area'
        WHEN upper(entity) = 'IP_ADDRESS' THEN 'network'
        ELSE 'redact'
    END
$$;
COMMENT ON FUNCTION compliance.pii_treatment(text) IS
    'The masking policy by PII entity for a confidential value: pseudonym (identifiers), decade (dates), '
    'postal_area, network (IP addresses) or redact (contact data, names, places, free text, anything else).';

CREATE OR REPLACE FUNCTION compliance.mask(value text, entity text, classification text)
RETURNS text
LANGUAGE sql
STABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value IS NULL THEN NULL
        WHEN lower(classification) IN ('public', 'internal') THEN value
        WHEN lower(classification) IS DISTINCT FROM 'confidential' THEN NULL
        WHEN value = '' THEN ''
        ELSE CASE compliance.pii_treatment(entity)
            WHEN 'pseudonym' THEN compliance.pseudonym(value)
            WHEN 'decade' THEN compliance.generalise_date(value)
            WHEN 'postal_area' THEN compliance.generalise_postal_code(value)
            WHEN 'network' THEN compliance.mask_ip(value)
            ELSE '***'
        END
    END
$$;
COMMENT ON FUNCTION compliance.mask(text, text, text) IS
    'The one masking rule of Atlas: a value as navigate shows it, by PII entity and classification. '
    'public/internal: unchanged; confidential: by compliance.pii_treatment(entity), a keyed pseudonym '
    '(identifiers), generalised (dates: decade, POSTAL_CODE: first two characters, IP_ADDRESS: /16) or ***; '
    'restricted, special_category or unknown: NULL (withheld).';

CREATE OR REPLACE FUNCTION compliance.mask(value text, entity text)
RETURNS text
LANGUAGE sql
STABLE PARALLEL SAFE
AS $$
    SELECT compliance.mask(value, entity, 'confidential')
$$;

-- V002's helpers of identifiers now return pseudonyms too, so they read the key as well.
ALTER FUNCTION compliance.mask_credit_card(text) STABLE;
ALTER FUNCTION compliance.mask_iban(text) STABLE;
COMMENT ON FUNCTION compliance.mask_credit_card(text) IS 'compliance.mask(value, ''CREDIT_CARD''): its keyed pseudonym.';
COMMENT ON FUNCTION compliance.mask_iban(text) IS 'compliance.mask(value, ''IBAN_CODE''): its keyed pseudonym.';

CREATE OR REPLACE FUNCTION compliance.masking(entity text, classification text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN lower(classification) IN ('public', 'internal') THEN 'none: shown as it is'
        WHEN lower(classification) IS DISTINCT FROM 'confidential'
            THEN 'withheld: always NULL (' || coalesce(lower(classification), 'no classification') || ')'
        ELSE CASE compliance.pii_treatment(entity)
            WHEN 'pseudonym' THEN 'pseudonymised: HMAC-SHA256 under the key of the connection atlas_pseudonym_key '
                                  '(equal values, equal pseudonyms; not reversible without the key)'
            WHEN 'decade' THEN 'generalised to the decade: 1984-07-21 -> 1980s'
            WHEN 'postal_area' THEN 'generalised to the first two characters: 10115 -> 10***'
            WHEN 'network' THEN 'generalised to the /16 network: 203.0.113.42 -> 203.0.0.0'
            ELSE CASE WHEN upper(entity) = 'FREE_TEXT'
                      THEN 'anonymised: the personal data the PII stage finds replaced with <ENTITY> '
                           '(chart.anonymised_text, V024); *** before it has run'
                      ELSE 'redacted: ***' END
        END
    END
$$;
