-- The audit log's partition of the current quarter exists (no default partition).
SELECT pipeline.ensure_partition('compliance.audit_log', 'quarter', now())
