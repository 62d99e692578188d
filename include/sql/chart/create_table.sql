-- The typed table of one entity, built from its YAML: declared columns, then the metadata
-- columns every chart table has. The primary key is the entity's key.
CREATE TABLE IF NOT EXISTS {table} (
    {columns},
    _record_key text NOT NULL,
    _raw_id bigint NOT NULL,
    _batch_id uuid NOT NULL,
    _interval_start timestamptz NOT NULL,
    _payload_checksum text,
    _promoted_at timestamptz NOT NULL,
    PRIMARY KEY ({key})
)
