"""Pipeline locks: a bounded wait, and an error that names whoever holds the lock."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from atlas.batches import Interval, batch_id
from atlas.connectors.base import Chunk
from atlas.exceptions import LockTimeoutError
from atlas.hooks.warehouse import WarehouseHook

JAN = Interval(dt.datetime(2025, 1, 1, tzinfo=dt.UTC), dt.datetime(2025, 1, 2, tzinfo=dt.UTC))


def test_a_held_batch_lock_fails_the_landing_after_lock_timeout_naming_the_holder(
    fresh_warehouse_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ATLAS_LOCK_TIMEOUT the landing fails with the holder's pid and application; nothing lands."""
    monkeypatch.setenv("ATLAS_LOCK_TIMEOUT", "1s")
    hook = WarehouseHook()
    hook.ensure_partitions("explore.raw_data", "month", JAN.start, JAN.start)
    lock_name = f"atlas.batch:{batch_id('crm', 'customers', JAN)}"
    with psycopg.connect(fresh_warehouse_dsn, application_name="holder-under-test") as holder:
        pid = holder.execute("SELECT pg_backend_pid()").fetchone()[0]
        holder.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (lock_name,))
        with pytest.raises(LockTimeoutError) as info:
            hook.land_batch(
                source="crm",
                entity="customers",
                interval=JAN,
                key_columns=["id"],
                chunks=[Chunk(records=[({"id": "1"}, "f.csv:2")])],
            )
        holder.rollback()
    message = str(info.value)
    assert f"lock {lock_name!r} was not granted within lock_timeout 1s" in message
    assert f"pid {pid} (user " in message
    assert "application holder-under-test" in message
    with psycopg.connect(fresh_warehouse_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM explore.raw_data").fetchone() == (0,)
    landed = hook.land_batch(  # once the holder is gone, the same landing goes through
        source="crm",
        entity="customers",
        interval=JAN,
        key_columns=["id"],
        chunks=[Chunk(records=[({"id": "1"}, "f.csv:2")])],
    )
    assert landed.rows_landed == 1
