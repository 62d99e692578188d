-- Remove a batch's quarantined records before it is landed again.
DELETE FROM explore.quarantine
 WHERE batch_id = %(batch_id)s
