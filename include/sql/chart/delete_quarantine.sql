-- A re-run replaces the batch's quarantine rows.
DELETE FROM chart.quarantine WHERE batch_id = %(batch_id)s
