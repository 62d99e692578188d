-- compliance.line_names(line, identifier): whether a quarantined line (text that never parsed
-- into fields) names an identifier value, compared without case and as a whole value: the
-- characters on each side of an occurrence must not be ones an e-mail-like identifier is made of
-- (letters, digits, . _ % + -), except a '.' that ends a sentence (no letter or digit after it).
--
-- Data-subject requests (plugins/atlas/dsr/find.py) looked for the value as a substring, so the
-- line of a stranger whose e-mail merely ends with the subject's (joanna@x.org for anna@x.org, or
-- anna@x.org.au) was exported to the subject by an access request and blanked by an erasure.
-- Erasure at landing (include/sql/explore/erase_quarantined_lines.sql) compares whole tokens too.
-- Hand-written: PostgreSQL has no word-boundary match of a literal (a regex would need the value
-- escaped); strpos finds each occurrence, the checks around it are two one-character regexes.
CREATE FUNCTION compliance.line_names(line text, identifier text)
RETURNS boolean
LANGUAGE plpgsql
IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    hay text := lower(line);
    needle text := lower(identifier);
    width int := length(identifier);
    start int := 1;
    found int;
BEGIN
    IF width = 0 THEN
        RETURN false;
    END IF;
    LOOP
        found := strpos(substr(hay, start), needle);
        EXIT WHEN found = 0;
        found := start + found - 1;
        IF substr(hay, found - 1, 1) !~ '[[:alnum:]._%+-]'
           AND (substr(hay, found + width, 1) !~ '[[:alnum:]._%+-]'
                OR (substr(hay, found + width, 1) = '.' AND substr(hay, found + width + 1, 1) !~ '[[:alnum:]]'))
        THEN
            RETURN true;
        END IF;
        start := found + 1;
    END LOOP;
    RETURN false;
END
$$;
COMMENT ON FUNCTION compliance.line_names(text, text) IS
    'Whether a quarantined line names an identifier value as a whole value, without case: no e-mail-like '
    'character (letter, digit, . _ % + -) right before or after it (a sentence''s closing dot allowed).';
REVOKE EXECUTE ON FUNCTION compliance.line_names(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION compliance.line_names(text, text) TO atlas_write, atlas_admin;
