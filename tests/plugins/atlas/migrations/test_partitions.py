"""Range partitions: the first ones the migrations create, and pipeline.ensure_partition(s)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import psycopg
import pytest

from tests.plugins.atlas.migrations.catalog import column


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _add_months(moment: dt.datetime, months: int) -> tuple[int, int]:
    index = moment.year * 12 + moment.month - 1 + months
    return index // 12, index % 12 + 1


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("table", "key", "expected_names"),
    [
        pytest.param(
            "explore.raw_data",
            "interval_start",
            lambda now: [f"raw_data_p{y:04d}{m:02d}" for y, m in (_add_months(now, k) for k in range(4))],
            id="raw_data-monthly",
        ),
        pytest.param(
            "quality.check_results",
            "executed_at",
            lambda now: [f"check_results_p{now.year}", f"check_results_p{now.year + 1}"],
            id="check_results-yearly",
        ),
        pytest.param(
            "compliance.audit_log",
            "event_time",
            lambda now: [
                f"audit_log_p{y:04d}q{(m - 1) // 3 + 1}" for y, m in (_add_months(now, k) for k in (0, 3))
            ],
            id="audit_log-quarterly",
        ),
    ],
)
def test_partitioned_parent_has_its_first_partitions(
    conn: psycopg.Connection, table: str, key: str, expected_names
) -> None:
    """A partitioned parent is range-partitioned on its key, has no default and its first partitions."""
    strategy, key_column = conn.execute(
        "SELECT p.partstrat, a.attname FROM pg_partitioned_table p "
        "JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
        "WHERE p.partrelid = %s::regclass",
        (table,),
    ).fetchone()
    assert (strategy, key_column) == ("r", key)
    partitions = conn.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        (table,),
    ).fetchall()
    assert all(bound != "DEFAULT" for _, bound in partitions)
    assert set(expected_names(_utc_now())) <= {name for name, _ in partitions}


@pytest.mark.postgres
def test_no_other_table_is_partitioned_with_a_default(conn: psycopg.Connection) -> None:
    """No partitioned table anywhere has a default partition."""
    defaults = column(
        conn,
        "SELECT c.oid::regclass::text FROM pg_class c "
        "WHERE c.relispartition AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'",
    )
    assert defaults == []


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("parent", "grain", "at", "expected", "bounds"),
    [
        pytest.param(
            "explore.raw_data",
            "month",
            "2030-02-15T12:00:00Z",
            "explore.raw_data_p203002",
            "FOR VALUES FROM ('2030-02-01 00:00:00+00') TO ('2030-03-01 00:00:00+00')",
            id="month",
        ),
        pytest.param(
            "compliance.audit_log",
            "quarter",
            "2030-08-31T23:59:59Z",
            "compliance.audit_log_p2030q3",
            "FOR VALUES FROM ('2030-07-01 00:00:00+00') TO ('2030-10-01 00:00:00+00')",
            id="quarter",
        ),
        pytest.param(
            "quality.check_results",
            "year",
            "2031-01-01T00:00:00Z",
            "quality.check_results_p2031",
            "FOR VALUES FROM ('2031-01-01 00:00:00+00') TO ('2032-01-01 00:00:00+00')",
            id="year",
        ),
        pytest.param(
            "explore.raw_data",
            "month",
            "2030-06-01T02:00:00Z",
            "explore.raw_data_p203006",
            "FOR VALUES FROM ('2030-06-01 00:00:00+00') TO ('2030-07-01 00:00:00+00')",
            id="utc-not-session-time-zone",
        ),
    ],
)
def test_ensure_partition_creates_named_utc_partitions(
    conn: psycopg.Connection, parent: str, grain: str, at: str, expected: str, bounds: str
) -> None:
    """ensure_partition names and bounds partitions in UTC, whatever the session time zone."""
    conn.execute("SET TimeZone = 'America/New_York'")
    name = conn.execute(
        "SELECT pipeline.ensure_partition(%s::regclass, %s, %s)", (parent, grain, at)
    ).fetchone()[0]
    assert name == expected
    conn.execute("SET TimeZone = 'UTC'")
    bound, comment = conn.execute(
        "SELECT pg_get_expr(relpartbound, oid), obj_description(oid, 'pg_class') FROM pg_class "
        "WHERE oid = %s::regclass",
        (name,),
    ).fetchone()
    assert bound == bounds
    assert comment


@pytest.mark.postgres
def test_ensure_partition_is_idempotent(conn: psycopg.Connection) -> None:
    """Calling ensure_partition again returns the same partition and creates nothing."""
    call = "SELECT pipeline.ensure_partition('explore.raw_data', 'month', '2033-07-07T07:07:07Z')"
    first = conn.execute(call).fetchone()[0]
    count = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'explore.raw_data'::regclass"
    before = conn.execute(count).fetchone()[0]
    assert conn.execute(call).fetchone()[0] == first
    assert conn.execute(count).fetchone()[0] == before


@pytest.mark.postgres
def test_ensure_partitions_covers_both_ends_of_the_range(conn: psycopg.Connection) -> None:
    """ensure_partitions returns every partition holding an instant of [from_ts, to_ts], in order."""
    names = column(
        conn,
        "SELECT * FROM pipeline.ensure_partitions('explore.raw_data', 'month', "
        "'2034-01-15T00:00:00Z', '2034-04-01T00:00:00Z')",
    )
    assert names == [f"explore.raw_data_p2034{month:02d}" for month in (1, 2, 3, 4)]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(("explore.raw_data", "week"), psycopg.errors.InvalidParameterValue, id="unknown-grain"),
        pytest.param(
            ("explore.source_systems", "month"), psycopg.errors.WrongObjectType, id="not-partitioned"
        ),
        pytest.param(
            ("public.h1_foreign", "month"), psycopg.errors.InsufficientPrivilege, id="outside-atlas"
        ),
    ],
)
def test_ensure_partition_rejects_bad_arguments(
    conn: psycopg.Connection, args: tuple[str, str], error: type[Exception]
) -> None:
    """ensure_partition refuses an unknown grain, a plain table and a table outside Atlas."""
    conn.execute("CREATE TABLE IF NOT EXISTS public.h1_foreign (at timestamptz) PARTITION BY RANGE (at)")
    with pytest.raises(error):
        conn.execute("SELECT pipeline.ensure_partition(%s::regclass, %s, now())", args)


def _waiting_on_advisory_lock(dsn: str, pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as observer:
        while time.monotonic() < deadline:
            waiting = observer.execute(
                "SELECT EXISTS (SELECT FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND NOT granted)",
                (pid,),
            ).fetchone()[0]
            if waiting:
                return True
            time.sleep(0.05)
    return False


@pytest.mark.postgres
@pytest.mark.parametrize(
    "isolation",
    [
        pytest.param(psycopg.IsolationLevel.READ_COMMITTED, id="read-committed"),
        pytest.param(psycopg.IsolationLevel.REPEATABLE_READ, id="repeatable-read"),
    ],
)
def test_ensure_partition_is_safe_when_called_concurrently(
    dsn: str, isolation: psycopg.IsolationLevel
) -> None:
    """A second transaction waits for the first one's lock, then finds its partition instead of failing."""
    at = (
        "2035-05-05T00:00:00Z"
        if isolation is psycopg.IsolationLevel.READ_COMMITTED
        else "2035-06-06T00:00:00Z"
    )
    call = "SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)"
    outcome: dict[str, object] = {}
    with psycopg.connect(dsn) as first, psycopg.connect(dsn) as second:
        second.isolation_level = isolation
        second.execute("SELECT 1")  # the second transaction's snapshot predates the partition
        created = first.execute(call, (at,)).fetchone()[0]

        def run_second() -> None:
            try:
                outcome["name"] = second.execute(call, (at,)).fetchone()[0]
                second.commit()
            except Exception as error:  # reported by the assertion below
                outcome["error"] = error

        worker = threading.Thread(target=run_second)
        worker.start()
        assert _waiting_on_advisory_lock(dsn, second.info.backend_pid)
        first.commit()
        worker.join(timeout=30)
    assert outcome == {"name": created}
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT to_regclass(%s) IS NOT NULL", (created,)).fetchone() == (True,)


@pytest.mark.postgres
def test_many_concurrent_callers_create_each_partition_once(dsn: str) -> None:
    """Eight connections ensuring the same range at once all succeed and agree on the partitions."""
    call = (
        "SELECT array_agg(p) FROM pipeline.ensure_partitions("
        "'explore.raw_data', 'month', '2036-01-01T00:00:00Z', '2036-12-31T00:00:00Z') AS p"
    )
    results: list[object] = []
    start = threading.Barrier(8)

    def run() -> None:
        try:
            with psycopg.connect(dsn) as conn:
                start.wait()
                results.append(tuple(conn.execute(call).fetchone()[0]))
        except Exception as error:  # collected and asserted below
            results.append(error)

    workers = [threading.Thread(target=run) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert len(set(results)) == 1
    assert results[0] == tuple(f"explore.raw_data_p2036{month:02d}" for month in range(1, 13))


@pytest.mark.postgres
def test_a_row_without_its_partition_fails(conn: psycopg.Connection) -> None:
    """A raw row for a month without a partition fails: there is no default partition."""
    with pytest.raises(psycopg.errors.CheckViolation, match="no partition"):
        conn.execute(
            "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, payload, "
            "payload_checksum) VALUES ('crm', 'customers', gen_random_uuid(), '2045-06-01T00:00:00Z', "
            "'{}'::jsonb, md5('{}'))"
        )


@pytest.mark.postgres
def test_a_row_lands_once_its_partition_exists(conn: psycopg.Connection) -> None:
    """After ensure_partition, a raw row for that month lands in the named partition."""
    at = "2044-02-02T00:00:00Z"
    name = conn.execute(
        "SELECT pipeline.ensure_partition('explore.raw_data', 'month', %s)", (at,)
    ).fetchone()[0]
    with conn.transaction(force_rollback=True):
        landed_in = conn.execute(
            "INSERT INTO explore.raw_data (source_name, entity_name, batch_id, interval_start, payload, "
            "payload_checksum) VALUES ('crm', 'customers', gen_random_uuid(), %s, %s, "
            "pipeline.row_checksum(%s)) RETURNING tableoid::regclass::text",
            (at, json.dumps({"id": 1}), json.dumps({"id": 1})),
        ).fetchone()[0]
    assert landed_in == name
