"""pipeline.keyed_hash: HMAC-SHA256 under a key generated in the database that only its owner reads;
pipeline.change_hash (V030): the SCD2 change hash, the keyed hash of the text form of a row of attributes."""

from __future__ import annotations

import hashlib
import hmac

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg import sql

from tests.fixtures.hostile import HOSTILE_TEXTS

pytestmark = pytest.mark.postgres

ATTRIBUTE = st.one_of(
    st.none(),
    st.sampled_from(HOSTILE_TEXTS),
    st.text(max_size=40).filter(lambda v: "\x00" not in v),
    st.lists(st.sampled_from([*HOSTILE_TEXTS, "a", "1"]), max_size=4).map("".join),
)
"""One attribute as text: NULL, a hostile value, any text, or hostile pieces run together."""


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
        "has_function_privilege(%s, 'pipeline.change_hash(anyelement)', 'EXECUTE'), "
        "has_function_privilege(%s, 'pipeline.rotate_hash_key()', 'EXECUTE')",
        (role, role, role),
    ).fetchone()
    assert execute == (may, may, False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ATTRIBUTE, min_size=1, max_size=9))
@example([None])
@example([""])
@example(list(HOSTILE_TEXTS))
def test_change_hash_equals_the_keyed_hash_of_the_row_of_attributes(
    conn: psycopg.Connection, attributes: list[str | None]
) -> None:
    """change_hash(a, b, ...) is keyed_hash(row((a)::text, (b)::text, ...)::text), the expression the
    dbt macro and erasure wrote out before V030: hashes stored before it stay valid (no new version)."""
    params = sql.SQL(", ").join(sql.SQL("(%s::text)") for _ in attributes)
    query = sql.SQL(
        "SELECT pipeline.change_hash(row({p})), pipeline.keyed_hash(row({p})::text), row({p})::text"
    ).format(p=params)
    new, before, shown = conn.execute(query, [*attributes] * 3).fetchone()
    assert new == before, shown


def test_change_hash_of_no_attributes_is_that_of_the_empty_row(conn: psycopg.Connection) -> None:
    """An entity with no attribute to hash (the macro writes row()) hashes row()'s text form, as before."""
    assert conn.execute(
        "SELECT pipeline.change_hash(row()) = pipeline.keyed_hash(row()::text)"
    ).fetchone() == (True,)
