-- Register a source system from its validated YAML; synced_at moves on every sync.
INSERT INTO explore.source_systems AS s
    (source_name, owner, connector_type, schedule, config, config_checksum, synced_at)
VALUES
    (%(source_name)s, %(owner)s, %(connector_type)s, %(schedule)s, %(config)s::jsonb,
     %(config_checksum)s, now())
ON CONFLICT (source_name) DO UPDATE
   SET owner = EXCLUDED.owner,
       connector_type = EXCLUDED.connector_type,
       schedule = EXCLUDED.schedule,
       config = EXCLUDED.config,
       config_checksum = EXCLUDED.config_checksum,
       synced_at = EXCLUDED.synced_at
RETURNING (xmax = 0) AS inserted
