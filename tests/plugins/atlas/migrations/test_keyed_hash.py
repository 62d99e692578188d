"""pipeline.keyed_hash: HMAC-SHA256 under a key generated in the database that only its owner reads."""

from __future__ import annotations

import hashlib
import hmac

import psycopg
import pytest

pytestmark = pytest.mark.postgres


def test_keyed_hash_is_hmac_sha256_under_the_stored_key(conn: psycopg.Connection) -> None:
    """The function equals Python's hmac with the key the two stored pads are derived from."""
    inner, outer, digest = conn.execute(
        "SELECT inner_pad, outer_pad, pipeline.keyed_hash('Olivia|Weber|é') FROM pipeline.hash_key"
    ).fetchone()
    key = bytes(b ^ 0x36 for b in inner)
    assert bytes(b ^ 0x5C for b in key) == outer, "both pads come from one 64-byte key"
    assert len(key) == 64
    assert digest == hmac.new(key, "Olivia|Weber|é".encode(), hashlib.sha256).hexdigest()
    assert digest not in (hashlib.sha256(b"Olivia|Weber|\xc3\xa9").hexdigest(),)


def test_the_key_is_random_per_generation(conn: psycopg.Connection) -> None:
    """Rotation replaces the key: the same value hashes differently afterwards (rolled back here)."""
    with conn.transaction(force_rollback=True):
        before = conn.execute("SELECT pipeline.keyed_hash('x')").fetchone()[0]
        conn.execute("SELECT pipeline.rotate_hash_key()")
        after = conn.execute("SELECT pipeline.keyed_hash('x')").fetchone()[0]
    assert before != after
    assert conn.execute("SELECT pipeline.keyed_hash('x')").fetchone()[0] == before


@pytest.mark.parametrize("role", ["atlas_read", "atlas_write", "atlas_admin"])
def test_no_group_role_reads_the_key(conn: psycopg.Connection, role: str) -> None:
    """pipeline.hash_key is readable by its owner only: not even the pipeline or admin roles."""
    allowed = conn.execute(
        "SELECT has_table_privilege(%s, 'pipeline.hash_key', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES')",
        (role,),
    ).fetchone()[0]
    assert allowed is False


@pytest.mark.parametrize(
    ("role", "may"),
    [
        pytest.param("atlas_read", False, id="read"),
        pytest.param("atlas_write", True, id="write"),
        pytest.param("atlas_admin", True, id="admin"),
    ],
)
def test_only_the_pipeline_and_admin_may_hash(conn: psycopg.Connection, role: str, may: bool) -> None:
    """EXECUTE on keyed_hash is revoked from PUBLIC; rotate_hash_key is for its owner alone."""
    execute = conn.execute(
        "SELECT has_function_privilege(%s, 'pipeline.keyed_hash(text)', 'EXECUTE'), "
        "has_function_privilege(%s, 'pipeline.rotate_hash_key()', 'EXECUTE')",
        (role, role),
    ).fetchone()
    assert execute == (may, False)
