-- Stream a batch's rejected records into explore.quarantine (COPY text format).
COPY explore.quarantine (
    source_name, entity_name, batch_id, interval_start,
    source_location, line_number, raw_record, reason, raw_bytes, byte_offset
) FROM STDIN
