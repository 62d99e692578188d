-- Safe casts for promotion explore -> chart: text in, typed value or NULL out, never an error.
--
-- PostgreSQL 15 has no pg_input_is_valid, and a PL/pgSQL EXCEPTION block costs a
-- subtransaction per call (far too slow for millions of values). These are plain SQL
-- functions, one CASE expression each, that check the shape of the text so the real cast
-- that follows can no longer fail. They are not STRICT and not SECURITY DEFINER, so the
-- planner inlines them into the promotion query (their argument is a plain column there).
--
-- Speed (measured on 1M rows, see bench/bench_promote.py): each function first tries a fast path
-- that accepts only the common, certainly valid shapes with the cheapest tests PostgreSQL has:
-- LIKE with '_' wildcards (byte comparisons, no allocation), hashed IN lists of two-digit
-- fields, and regular expressions whose DFA loops on one state ('^[0-9]+$'). The cost of a
-- PostgreSQL regular expression grows with the number of distinct DFA states a match walks
-- through (they are built per call): '^[0-9]+$' costs ~0.25 us, '^[0-9]{4}-[0-9]{2}-...' ~2 us.
-- Only what the fast path does not accept goes through the exact (slower) checks, so the
-- results are the same as the exact checks alone, just cheaper for typical data.

-- Inputs are expected trimmed (promotion applies btrim and turns '' into NULL first).
-- Date and timestamp casts are STABLE: text -> date/timestamptz depends on the session's
-- DateStyle / TimeZone (promotion sets TimeZone to UTC for its transaction; the accepted
-- shapes are ISO 8601 only, so DateStyle cannot change their meaning).

CREATE OR REPLACE FUNCTION pipeline.is_common_date(value text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT value LIKE '____-__-__%'
       AND left(value, 2) IN ('19', '20')
       AND substr(value, 3, 2) IN ('00', '01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '30', '31', '32', '33', '34', '35', '36', '37', '38', '39', '40', '41', '42', '43', '44', '45', '46', '47', '48', '49', '50', '51', '52', '53', '54', '55', '56', '57', '58', '59', '60', '61', '62', '63', '64', '65', '66', '67', '68', '69', '70', '71', '72', '73', '74', '75', '76', '77', '78', '79', '80', '81', '82', '83', '84', '85', '86', '87', '88', '89', '90', '91', '92', '93', '94', '95', '96', '97', '98', '99')
       AND substr(value, 6, 2) IN ('01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12')
       AND substr(value, 9, 2) IN ('01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23', '24', '25', '26', '27', '28')
$$;
COMMENT ON FUNCTION pipeline.is_common_date(text) IS
    'Fast path of the date checks: true when the text starts with YYYY-MM-DD of years 1900-2099 and '
    'days 01-28 (always a real day); false says nothing (pipeline.is_iso_date decides then).';

CREATE OR REPLACE FUNCTION pipeline.is_iso_date(value text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN length(value) >= 10
         AND substr(value, 5, 1) = '-'
         AND substr(value, 8, 1) = '-'
         AND ltrim(substr(value, 1, 4) || substr(value, 6, 2) || substr(value, 9, 2), '0123456789') = ''
         AND substr(value, 1, 4) <> '0000'
            THEN CASE
                WHEN substr(value, 6, 2) IN ('04', '06', '09', '11')
                    THEN substr(value, 9, 2) COLLATE "C" BETWEEN '01' AND '30'
                WHEN substr(value, 6, 2) = '02'
                    THEN substr(value, 9, 2) COLLATE "C" BETWEEN '01' AND '28'
                      OR (substr(value, 9, 2) = '29'
                          AND substr(value, 1, 4)::integer % 4 = 0
                          AND (substr(value, 1, 4)::integer % 100 <> 0 OR substr(value, 1, 4)::integer % 400 = 0))
                WHEN substr(value, 6, 2) COLLATE "C" BETWEEN '01' AND '12'
                    THEN substr(value, 9, 2) COLLATE "C" BETWEEN '01' AND '31'
                ELSE false
            END
        ELSE false
    END
$$;
COMMENT ON FUNCTION pipeline.is_iso_date(text) IS
    'True when the text starts with YYYY-MM-DD naming a real calendar day (leap years included, year >= 1).';

CREATE OR REPLACE FUNCTION pipeline.try_numeric(value text)
RETURNS numeric
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value ~ '^-?[0-9]+(\.[0-9]+)?$' THEN value::numeric
        WHEN value ~ '^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]{1,3})?$' THEN value::numeric
    END
$$;
COMMENT ON FUNCTION pipeline.try_numeric(text) IS
    'text -> numeric, or NULL when the text is not a finite decimal number (NaN/Infinity are rejected).';

CREATE OR REPLACE FUNCTION pipeline.try_bigint(value text)
RETURNS bigint
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN length(value) <= 18 AND value ~ '^[+-]?[0-9]+$' THEN value::bigint
        WHEN value ~ '^[+-]?[0-9]+(\.0*)?$'
         AND value::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
            THEN value::numeric::bigint
    END
$$;
COMMENT ON FUNCTION pipeline.try_bigint(text) IS
    'text -> bigint, or NULL when not an integer in int8 range; "42.0" is accepted as 42.';

CREATE OR REPLACE FUNCTION pipeline.try_integer(value text)
RETURNS integer
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN length(value) <= 9 AND value ~ '^[+-]?[0-9]+$' THEN value::integer
        WHEN value ~ '^[+-]?[0-9]+(\.0*)?$'
         AND value::numeric BETWEEN -2147483648 AND 2147483647
            THEN value::numeric::integer
    END
$$;
COMMENT ON FUNCTION pipeline.try_integer(text) IS
    'text -> integer, or NULL when not an integer in int4 range; "42.0" is accepted as 42.';

CREATE OR REPLACE FUNCTION pipeline.try_boolean(value text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value = 'true' THEN true
        WHEN value = 'false' THEN false
        WHEN lower(value) IN ('t', 'true', 'y', 'yes', 'on', '1') THEN true
        WHEN lower(value) IN ('f', 'false', 'n', 'no', 'off', '0') THEN false
    END
$$;
COMMENT ON FUNCTION pipeline.try_boolean(text) IS
    'text -> boolean (true/false, t/f, yes/no, y/n, on/off, 1/0, any case), or NULL otherwise.';

CREATE OR REPLACE FUNCTION pipeline.try_date(value text)
RETURNS date
LANGUAGE sql
STABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN value LIKE '____-__-__' AND pipeline.is_common_date(value) THEN value::date
        WHEN length(value) = 10 AND pipeline.is_iso_date(value) THEN value::date
    END
$$;
COMMENT ON FUNCTION pipeline.try_date(text) IS
    'ISO date text (YYYY-MM-DD) -> date, or NULL when it is not one or names no real day.';

CREATE OR REPLACE FUNCTION pipeline.try_timestamptz(value text)
RETURNS timestamptz
LANGUAGE sql
STABLE PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN (value LIKE '____-__-__T__:__:__Z' OR value LIKE '____-__-__T__:__:__'
              OR value LIKE '____-__-__ __:__:__' OR value LIKE '____-__-__ __:__:__Z')
         AND pipeline.is_common_date(value)
         AND substr(value, 12, 2) IN ('00', '01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20', '21', '22', '23')
         AND substr(value, 14, 6) ~ '^:[0-5][0-9]:[0-5][0-9]'
            THEN value::timestamptz
        WHEN length(value) = 10 THEN CASE WHEN pipeline.is_iso_date(value) THEN value::timestamptz END
        WHEN length(value) >= 19
         AND substr(value, 11, 1) IN ('T', ' ')
         AND translate(substr(value, 12, 8), '0123456789', '9999999999') = '99:99:99'
         AND translate(substr(value, 20), '0123456789-z', '9999999999+Z') IN (
             '', 'Z', '+99', '+99:99', '+9999', '.9', '.9Z', '.9+99', '.9+99:99', '.9+9999',
             '.99', '.99Z', '.99+99', '.99+99:99', '.99+9999', '.999', '.999Z', '.999+99', '.999+99:99',
             '.999+9999', '.9999', '.9999Z', '.9999+99', '.9999+99:99', '.9999+9999', '.99999',
             '.99999Z', '.99999+99', '.99999+99:99', '.99999+9999', '.999999', '.999999Z',
             '.999999+99', '.999999+99:99', '.999999+9999')
            THEN CASE
                WHEN pipeline.is_iso_date(value)
                 AND substr(value, 12, 2) COLLATE "C" < '24'
                 AND substr(value, 15, 2) COLLATE "C" < '60'
                 AND substr(value, 18, 2) COLLATE "C" < '60'
                 AND left(split_part(translate(substr(value, 20), '-', '+'), '+', 2), 2) COLLATE "C" <= '15'
                 AND right(split_part(translate(substr(value, 20), '-', '+'), '+', 2), 2) COLLATE "C" < '60'
                    THEN value::timestamptz
            END
        WHEN value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}([Zz]|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?$'
         AND pipeline.is_iso_date(value)
         AND substr(value, 12, 2) COLLATE "C" < '24'
         AND substr(value, 15, 2) COLLATE "C" < '60'
            THEN value::timestamptz
    END
$$;
COMMENT ON FUNCTION pipeline.try_timestamptz(text) IS
    'ISO 8601 text (YYYY-MM-DD, optionally [T ]HH:MM[:SS[.ffffff]] and Z or +HH[[:]MM]) -> timestamptz, '
    'or NULL otherwise. Without an offset the session TimeZone applies (promotion uses UTC).';
