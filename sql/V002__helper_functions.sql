-- Shared helper functions: the row checksum and the masking functions.
--
-- All are pure functions of their arguments (IMMUTABLE, PARALLEL SAFE) written in SQL so the
-- planner can inline them; NULL in gives NULL out (STRICT) except where documented.

CREATE OR REPLACE FUNCTION pipeline.row_checksum(payload jsonb)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT md5(payload::text)
$$;
COMMENT ON FUNCTION pipeline.row_checksum(jsonb) IS
    'md5 hex of a JSONB value''s text output. jsonb normalises key order and whitespace, so two '
    'payloads with the same keys and values always get the same checksum, whatever their source text.';

CREATE OR REPLACE FUNCTION compliance.mask_text(value text, keep integer DEFAULT 1)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE WHEN value = '' THEN '' ELSE left(value, greatest(keep, 0)) || '***' END
$$;
COMMENT ON FUNCTION compliance.mask_text(text, integer) IS
    'Generic mask: the first `keep` characters followed by ***; keep => 0 hides everything. '
    'The length of the value is not revealed.';

CREATE OR REPLACE FUNCTION compliance.mask_email(value text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value ~ '^[^@]+@[^@]+$' THEN regexp_replace(value, '^(.)[^@]*(@.*)$', '\1***\2')
        ELSE compliance.mask_text(value, 0)
    END
$$;
COMMENT ON FUNCTION compliance.mask_email(text) IS
    'Masks an e-mail address to its first character and domain: jane.doe@example.com -> j***@example.com.';

CREATE OR REPLACE FUNCTION compliance.mask_phone(value text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN length(digits) > 4 THEN '***' || right(digits, 4)
        ELSE '***'
    END
    FROM (SELECT regexp_replace(value, '[^0-9]', '', 'g') AS digits) AS d
$$;
COMMENT ON FUNCTION compliance.mask_phone(text) IS
    'Masks a phone number to its last four digits: +44 20 7946 0958 -> ***0958.';

CREATE OR REPLACE FUNCTION compliance.mask_credit_card(value text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT '**** **** **** ' || right(regexp_replace(value, '[^0-9]', '', 'g'), 4)
$$;
COMMENT ON FUNCTION compliance.mask_credit_card(text) IS
    'Masks a card number to its last four digits (PCI DSS display rule): **** **** **** 1111.';

CREATE OR REPLACE FUNCTION compliance.mask_iban(value text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN length(compact) > 6 THEN left(compact, 2) || '***' || right(compact, 4)
        ELSE '***'
    END
    FROM (SELECT upper(regexp_replace(value, '\s', '', 'g')) AS compact) AS c
$$;
COMMENT ON FUNCTION compliance.mask_iban(text) IS
    'Masks an IBAN to its country code and last four characters: GB82 WEST 1234 5698 7654 32 -> GB***5432.';

CREATE OR REPLACE FUNCTION compliance.mask_ip(value text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value ~ '^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$'
            THEN regexp_replace(value, '^(\d{1,3}\.\d{1,3})\.\d{1,3}\.\d{1,3}$', '\1.0.0')
        ELSE compliance.mask_text(value, 0)
    END
$$;
COMMENT ON FUNCTION compliance.mask_ip(text) IS
    'Masks an IPv4 address to its /16 network: 203.0.113.42 -> 203.0.0.0; anything else -> ***.';

CREATE OR REPLACE FUNCTION compliance.mask_date(value text)
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value ~ '^\d{4}-' THEN left(value, 4) || '-**-**'
        ELSE compliance.mask_text(value, 0)
    END
$$;
COMMENT ON FUNCTION compliance.mask_date(text) IS
    'Masks an ISO date (e.g. a date of birth) to its year: 1984-07-21 -> 1984-**-**.';

CREATE OR REPLACE FUNCTION compliance.pseudonymize(value text, salt text DEFAULT '')
RETURNS text
LANGUAGE sql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT encode(sha256(convert_to(salt || value, 'UTF8')), 'hex')
$$;
COMMENT ON FUNCTION compliance.pseudonymize(text, text) IS
    'Deterministic pseudonym (sha256 hex of salt || value): equal values stay joinable without being readable.';

CREATE OR REPLACE FUNCTION compliance.mask(value text, entity text)
RETURNS text
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value IS NULL THEN NULL
        ELSE CASE upper(coalesce(entity, ''))
            WHEN 'EMAIL_ADDRESS' THEN compliance.mask_email(value)
            WHEN 'PHONE_NUMBER' THEN compliance.mask_phone(value)
            WHEN 'CREDIT_CARD' THEN compliance.mask_credit_card(value)
            WHEN 'IBAN_CODE' THEN compliance.mask_iban(value)
            WHEN 'IP_ADDRESS' THEN compliance.mask_ip(value)
            WHEN 'DATE_TIME' THEN compliance.mask_date(value)
            WHEN 'PERSON' THEN compliance.mask_text(value, 1)
            WHEN 'US_SSN' THEN '***-**-' || right(regexp_replace(value, '[^0-9]', '', 'g'), 4)
            ELSE compliance.mask_text(value, 0)
        END
    END
$$;
COMMENT ON FUNCTION compliance.mask(text, text) IS
    'Masks a value by its Presidio entity type (EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, '
    'IP_ADDRESS, DATE_TIME, PERSON, US_SSN); any other or NULL entity is fully redacted to ***.';
