-- A rejected record is kept exactly as read: raw_record is text (undecodable bytes replaced, NUL
-- impossible), so the bytes themselves are kept beside it with where they start in the file.
ALTER TABLE explore.quarantine ADD COLUMN raw_bytes bytea, ADD COLUMN byte_offset bigint;
COMMENT ON COLUMN explore.quarantine.raw_record IS
    'The record as read, as text: bytes that do not decode are replaced by U+FFFD, NUL by U+FFFD '
    '(text cannot hold it); raw_bytes has the exact bytes.';
COMMENT ON COLUMN explore.quarantine.raw_bytes IS
    'The exact bytes of the record as read, when the connector read bytes (files); for a record '
    'over the source''s max_record_bytes, its first max_record_bytes bytes.';
COMMENT ON COLUMN explore.quarantine.byte_offset IS 'Byte offset of raw_bytes in the file.';

-- What a batch's extract noticed without failing: an interval without a file, a header that
-- differs from the declared columns (the source's on_missing / on_unknown_columns: warn).
ALTER TABLE pipeline.batches ADD COLUMN notes text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN pipeline.batches.notes IS
    'Warnings of the batch''s extract (missing or empty files, unknown or missing fields), as logged.';
