-- Stream a batch's records into explore.raw_data (COPY text format, rendered by WarehouseHook).
COPY explore.raw_data (
    source_name, entity_name, batch_id, interval_start,
    record_key, payload, payload_checksum, source_location
) FROM STDIN
