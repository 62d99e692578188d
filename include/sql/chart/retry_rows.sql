-- The quarantined rows a retry re-validates (retry_candidates.sql).
{candidates} AS r
