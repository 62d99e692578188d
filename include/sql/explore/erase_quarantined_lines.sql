-- Erasure at landing of a batch's quarantined lines (atlas.dsr.landing.LandingErasure): a line
-- that did not parse has no fields to compare, so it is split into tokens on what cannot be part
-- of an e-mail-like identifier (white space, quotes, separators, brackets) and lower-cased; a line
-- one of whose tokens hashes to an erased subject's identifier (compliance.subject_key_hash, the
-- tombstones' lower-cased form) is kept as erasure leaves it: its text '[erased]', its bytes gone.
UPDATE explore.quarantine AS q
   SET raw_record = %(erased)s, raw_bytes = NULL
 WHERE q.batch_id = %(batch_id)s
   AND q.interval_start = %(interval_start)s
   AND q.raw_record IS DISTINCT FROM %(erased)s
   AND EXISTS (
        SELECT 1
          FROM regexp_split_to_table(lower(q.raw_record), '[][[:space:],;|"''`<>(){}:=/\\]+') AS t(token)
         WHERE t.token <> '' AND compliance.subject_key_hash(t.token) = ANY(%(hashes)s::text[])
   )
