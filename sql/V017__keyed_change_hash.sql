-- The change hash of the SCD2 snapshots is keyed: HMAC-SHA256 under a key that never leaves
-- the database.
--
-- An unkeyed digest of a customer's attributes (md5 of row(first_name, last_name, email, …), as
-- before) lets anyone who reads navigate confirm a guessed identity: compute the digest of the
-- guess and compare. pipeline.keyed_hash(text) is HMAC-SHA256 (RFC 2104) built from core
-- sha256() (pgcrypto is not on every server Atlas runs on: the embedded one has no contrib):
--     keyed_hash(m) = hex(sha256((K xor opad) || sha256((K xor ipad) || utf8(m))))
-- with K a 64-byte (one SHA-256 block) random key.
--
-- The key is generated here, inside the database, from gen_random_uuid() (PostgreSQL's strong
-- random source; 4 x 122 random bits), and stored only as its two padded forms in
-- pipeline.hash_key, which no role but its owner (the migrating role) can read: not atlas_read,
-- not atlas_write, not atlas_admin. Nothing ever selects it out of the database; the pipeline
-- only calls keyed_hash(), a SECURITY DEFINER function that atlas_write and atlas_admin may
-- execute and PUBLIC (so atlas_read) may not. A database cloned from another (a test template)
-- shares its key.
--
-- Rotation: as the owner, SELECT pipeline.rotate_hash_key(); every change hash computed after it
-- differs from the stored ones, so each row gets one new SCD2 version (same attributes, new
-- change_hash) the next time a snapshot run reads it; a run without interval vars reads every
-- row at once. The same happens once to existing md5 hashes when this migration is applied.

CREATE TABLE pipeline.hash_key (
    key_id smallint PRIMARY KEY DEFAULT 1 CHECK (key_id = 1),
    inner_pad bytea NOT NULL CHECK (length(inner_pad) = 64),
    outer_pad bytea NOT NULL CHECK (length(outer_pad) = 64),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pipeline.hash_key IS
    'The key of pipeline.keyed_hash as HMAC''s inner (K xor 0x36..) and outer (K xor 0x5c..) pads; one row. '
    'Readable by its owner only; generated in the database, never exported. Rotate with pipeline.rotate_hash_key().';

-- Default privileges (V012) gave the pipeline and admin roles rights on every new table here.
REVOKE ALL ON pipeline.hash_key FROM PUBLIC, atlas_read, atlas_write, atlas_admin;

CREATE FUNCTION pipeline.rotate_hash_key()
RETURNS timestamptz
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k bytea := decode(
        replace(gen_random_uuid()::text || gen_random_uuid()::text
                || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),
        'hex');
    ipad bytea := k;
    opad bytea := k;
    created timestamptz;
BEGIN
    FOR i IN 0 .. length(k) - 1 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);  -- 0x36
        opad := set_byte(opad, i, get_byte(k, i) # 92);  -- 0x5c
    END LOOP;
    INSERT INTO pipeline.hash_key AS h (key_id, inner_pad, outer_pad)
    VALUES (1, ipad, opad)
    ON CONFLICT (key_id) DO UPDATE
        SET inner_pad = excluded.inner_pad, outer_pad = excluded.outer_pad, created_at = now()
    RETURNING h.created_at INTO created;
    RETURN created;
END
$$;
COMMENT ON FUNCTION pipeline.rotate_hash_key() IS
    'Replaces the key of pipeline.keyed_hash with a new random one (owner only). Every SCD2 row then gets '
    'one new version the next time a snapshot reads it: its change_hash changes, its attributes do not.';
REVOKE EXECUTE ON FUNCTION pipeline.rotate_hash_key() FROM PUBLIC;

SELECT pipeline.rotate_hash_key();

CREATE FUNCTION pipeline.keyed_hash(value text)
RETURNS text
LANGUAGE sql
STABLE STRICT PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(value, 'UTF8'))), 'hex')
      FROM pipeline.hash_key AS k
     WHERE k.key_id = 1
$$;
COMMENT ON FUNCTION pipeline.keyed_hash(text) IS
    'HMAC-SHA256 hex of a text under the database''s secret key (pipeline.hash_key): the change hash of the '
    'SCD2 snapshots. Unlike md5 or sha256 of the value, nobody without the key can compute it to confirm a guess.';
REVOKE EXECUTE ON FUNCTION pipeline.keyed_hash(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pipeline.keyed_hash(text) TO atlas_write, atlas_admin;
