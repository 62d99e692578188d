"""Warehouse migrations: what sql/ builds, proven from the catalog, and the checksum ledger.

The module migrates a database of its own (``h1_<random>`` on the session's ``pg_server``) rather
than using the shared ``warehouse_dsn``: that one is a clone of an already-migrated template,
and these tests must watch the first migrate happen.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from atlas.constants import MIGRATIONS_DIR
from atlas.exceptions import MigrationChecksumError, MigrationError
from atlas.migrations import (
    LEDGER_TABLE,
    MigrationState,
    file_checksum,
    migrate,
    status,
    warehouse_dsn,
    yoyo_url,
)
from tests.fixtures.postgres import PgServer

SCHEMAS = {"explore", "chart", "navigate", "pipeline", "quality", "compliance", "archive"}
TABLES = {
    "explore": {"source_systems", "raw_data", "quarantine"},
    "pipeline": {"batches", "watermarks"},
    "chart": {"quarantine"},
    "navigate": set(),
    "quality": {"dimensions", "check_definitions", "check_results", "scorecards", "anomalies"},
    "compliance": {
        "classification_levels",
        "data_assets",
        "pii_patterns",
        "pii_detections",
        "audit_log",
        "data_subject_requests",
    },
    "archive": {"snapshots"},
}


@contextmanager
def _scratch_database(pg_server: PgServer) -> Iterator[str]:
    name = f"h1_{uuid.uuid4().hex[:12]}"
    dsn = pg_server.create_database(name)
    try:
        yield dsn
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="module")
def warehouse(pg_server: PgServer) -> Iterator[tuple[str, list[str]]]:
    """A fresh database of this module with every migration of sql/ applied, and the versions applied."""
    with _scratch_database(pg_server) as dsn:
        yield dsn, migrate(dsn)


@pytest.fixture(scope="module")
def dsn(warehouse: tuple[str, list[str]]) -> str:
    return warehouse[0]


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        yield connection


@pytest.fixture
def scratch_dsn(pg_server: PgServer) -> Iterator[str]:
    """An empty database of its own, for tests that migrate a copy of sql/."""
    with _scratch_database(pg_server) as dsn:
        yield dsn


@pytest.fixture
def sql_copy(tmp_path: Path) -> Path:
    """A copy of sql/ that a test may edit."""
    return Path(shutil.copytree(MIGRATIONS_DIR, tmp_path / "sql"))


def _column(conn: psycopg.Connection, query: str, *params: object) -> list:
    return [row[0] for row in conn.execute(query, params or None).fetchall()]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _add_months(moment: dt.datetime, months: int) -> tuple[int, int]:
    index = moment.year * 12 + moment.month - 1 + months
    return index // 12, index % 12 + 1


# --- what the migrations build --------------------------------------------------------------


@pytest.mark.postgres
def test_first_migrate_applies_every_file_in_order(warehouse: tuple[str, list[str]]) -> None:
    """The first migrate applies every sql/*.sql file, in file-name order."""
    _, applied = warehouse
    assert applied == sorted(path.stem for path in MIGRATIONS_DIR.glob("*.sql"))


@pytest.mark.postgres
def test_exactly_the_seven_schemas_exist(conn: psycopg.Connection) -> None:
    """Besides public, the database holds exactly the seven Atlas schemas."""
    schemas = _column(
        conn,
        "SELECT nspname FROM pg_namespace "
        "WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
    )
    assert set(schemas) == SCHEMAS | {"public"}


@pytest.mark.postgres
@pytest.mark.parametrize("schema", [pytest.param(name, id=name) for name in sorted(TABLES)])
def test_schema_holds_its_tables(conn: psycopg.Connection, schema: str) -> None:
    """Each schema holds its tables (partitions aside), every one with a comment."""
    rows = conn.execute(
        "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
        (schema,),
    ).fetchall()
    tables = {name for name, _ in rows}
    assert TABLES[schema] <= tables
    assert [name for name, comment in rows if not comment] == []


@pytest.mark.postgres
def test_raw_data_has_the_designed_columns(conn: psycopg.Connection) -> None:
    """explore.raw_data has exactly the columns of docs/design.md, keyed by (raw_id, interval_start)."""
    columns = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'explore.raw_data'::regclass AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum"
    ).fetchall()
    assert columns == [
        ("raw_id", "bigint"),
        ("source_name", "text"),
        ("entity_name", "text"),
        ("batch_id", "uuid"),
        ("interval_start", "timestamp with time zone"),
        ("record_key", "text"),
        ("payload", "jsonb"),
        ("payload_checksum", "text"),
        ("source_location", "text"),
        ("ingested_at", "timestamp with time zone"),
    ]
    primary_key = conn.execute(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'explore.raw_data'::regclass AND contype = 'p'"
    ).fetchone()[0]
    assert primary_key == "PRIMARY KEY (raw_id, interval_start)"


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
    defaults = _column(
        conn,
        "SELECT c.oid::regclass::text FROM pg_class c "
        "WHERE c.relispartition AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'",
    )
    assert defaults == []


@pytest.mark.postgres
def test_quality_dimensions_are_seeded_with_weights_summing_to_one(conn: psycopg.Connection) -> None:
    """The six quality dimensions are seeded and their weights sum to exactly 1."""
    rows = dict(conn.execute("SELECT dimension_name, weight FROM quality.dimensions").fetchall())
    assert set(rows) == {"completeness", "uniqueness", "timeliness", "validity", "accuracy", "consistency"}
    assert sum(rows.values()) == 1


@pytest.mark.postgres
def test_dimension_weights_that_do_not_sum_to_one_are_refused(dsn: str) -> None:
    """Changing one weight alone fails at commit: the weights must keep summing to 1."""
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE quality.dimensions SET weight = weight + 0.01 WHERE dimension_name = 'accuracy'")
        with pytest.raises(psycopg.errors.CheckViolation, match=r"sum to 1\.010"):
            conn.commit()


@pytest.mark.postgres
def test_classification_levels_are_seeded_in_rank_order(conn: psycopg.Connection) -> None:
    """The five classification levels are seeded with ranks 1..5, masked from confidential up."""
    rows = conn.execute(
        "SELECT level_name, sensitivity_rank, requires_masking FROM compliance.classification_levels "
        "ORDER BY sensitivity_rank"
    ).fetchall()
    assert rows == [
        ("public", 1, False),
        ("internal", 2, False),
        ("confidential", 3, True),
        ("restricted", 4, True),
        ("special_category", 5, True),
    ]


@pytest.mark.postgres
def test_pii_patterns_are_seeded_and_match_their_examples(conn: psycopg.Connection) -> None:
    """Ten PII patterns are seeded; each Python regex matches its whole example value."""
    rows = conn.execute(
        "SELECT pattern_name, presidio_entity, regex, example FROM compliance.pii_patterns"
    ).fetchall()
    assert len(rows) == 10
    assert len({entity for _, entity, _, _ in rows}) == 10
    for name, _, regex, example in rows:
        match = re.search(regex, example)
        assert (match.group(0) if match else None) == example, name


@pytest.mark.postgres
@pytest.mark.slow
def test_pii_pattern_entities_are_presidio_entities(conn: psycopg.Connection) -> None:
    """Every seeded PII pattern names an entity type Presidio's predefined recognizers know."""
    from presidio_analyzer import RecognizerRegistry

    registry = RecognizerRegistry()
    registry.load_predefined_recognizers()
    known = {entity for recognizer in registry.recognizers for entity in recognizer.supported_entities}
    entities = set(_column(conn, "SELECT presidio_entity FROM compliance.pii_patterns"))
    assert entities <= known


@pytest.mark.postgres
def test_roles_exist_without_login(conn: psycopg.Connection) -> None:
    """atlas_read, atlas_write and atlas_admin exist as NOLOGIN group roles."""
    rows = conn.execute(
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('atlas_read', 'atlas_write', 'atlas_admin')"
    ).fetchall()
    assert sorted(rows) == [("atlas_admin", False), ("atlas_read", False), ("atlas_write", False)]


@contextmanager
def _as_role(dsn: str, role: str) -> Iterator[psycopg.Connection]:
    """A connection inside a transaction running as ``role``, rolled back at the end."""
    with psycopg.connect(dsn) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        try:
            yield conn
        finally:
            conn.rollback()


@pytest.mark.postgres
def test_atlas_read_can_select_navigate(dsn: str) -> None:
    """atlas_read reads navigate, including tables created after the migrations (default privileges)."""
    with psycopg.connect(dsn, autocommit=True) as owner:
        owner.execute("CREATE TABLE navigate.h1_probe_fact (id int)")
        owner.execute("INSERT INTO navigate.h1_probe_fact VALUES (1)")
    try:
        with _as_role(dsn, "atlas_read") as conn:
            assert conn.execute("SELECT count(*) FROM navigate.data_dictionary").fetchone() == (0,)
            assert conn.execute("SELECT id FROM navigate.h1_probe_fact").fetchall() == [(1,)]
    finally:
        with psycopg.connect(dsn, autocommit=True) as owner:
            owner.execute("DROP TABLE navigate.h1_probe_fact")


@pytest.mark.postgres
@pytest.mark.parametrize(
    "table",
    [
        pytest.param("explore.raw_data", id="explore"),
        pytest.param("chart.quarantine", id="chart"),
        pytest.param("pipeline.batches", id="pipeline"),
        pytest.param("quality.scorecards", id="quality"),
        pytest.param("compliance.data_assets", id="compliance"),
        pytest.param("archive.snapshots", id="archive"),
    ],
)
def test_atlas_read_is_denied_outside_navigate(dsn: str, table: str) -> None:
    """atlas_read gets permission denied on every table outside navigate."""
    with _as_role(dsn, "atlas_read") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f"SELECT 1 FROM {table} LIMIT 1")


@pytest.mark.postgres
def test_atlas_write_can_only_append_to_the_audit_log(dsn: str) -> None:
    """atlas_write inserts audit events but cannot update them, through the parent or a partition."""
    with _as_role(dsn, "atlas_write") as conn:
        conn.execute("INSERT INTO compliance.audit_log (action) VALUES ('test.append')")
        partition = conn.execute(
            "SELECT tableoid::regclass::text FROM compliance.audit_log WHERE action = 'test.append'"
        ).fetchone()[0]
        for target in ("compliance.audit_log", partition):
            conn.execute("SAVEPOINT attempt")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"UPDATE {target} SET action = 'test.tampered'")
            conn.execute("ROLLBACK TO SAVEPOINT attempt")


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("table", "row"),
    [
        pytest.param(
            "explore.source_systems",
            "(source_name, owner, connector_type, config, config_checksum) "
            "VALUES ('h1', 'team', 'files', '{}', 'x')",
            id="explore",
        ),
        pytest.param(
            "pipeline.batches",
            "(batch_id, source_name, entity_name, interval_start, interval_end, status) "
            "VALUES (gen_random_uuid(), 'h1', 'e', now(), now(), 'landed')",
            id="pipeline",
        ),
        pytest.param(
            "quality.scorecards",
            "(scorecard_date, table_name, score, grade) VALUES (current_date, 'h1', 95, 'A')",
            id="quality",
        ),
        pytest.param(
            "archive.snapshots",
            "(bucket, object_key, source_table, partition_name, row_count, checksum, retain_until) "
            "VALUES ('b', 'k', 'explore.raw_data', 'explore.raw_data_p200001', 0, 'c', "
            "now() + interval '1 day')",
            id="archive",
        ),
    ],
)
def test_atlas_write_writes_the_pipeline_schemas(dsn: str, table: str, row: str) -> None:
    """atlas_write inserts, reads and deletes rows of the pipeline-managed schemas."""
    with _as_role(dsn, "atlas_write") as conn:
        conn.execute(f"INSERT INTO {table} {row}")
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] >= 1
        conn.execute(f"DELETE FROM {table}")


@pytest.mark.postgres
def test_atlas_write_can_maintain_partitions(dsn: str) -> None:
    """atlas_write may call ensure_partition although it does not own the parent table."""
    with _as_role(dsn, "atlas_write") as conn:
        name = conn.execute(
            "SELECT pipeline.ensure_partition('explore.raw_data', 'month', '2039-03-03T00:00:00Z')"
        ).fetchone()[0]
        assert name == "explore.raw_data_p203903"


# --- ensure_partition -----------------------------------------------------------------------


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
    names = _column(
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


# --- helper functions -----------------------------------------------------------------------


@pytest.mark.postgres
def test_row_checksum_is_md5_of_the_jsonb_text(conn: psycopg.Connection) -> None:
    """pipeline.row_checksum is the md5 hex of the payload's JSONB text, key order aside."""
    text, checksum, reordered = conn.execute(
        'SELECT p::text, pipeline.row_checksum(p), pipeline.row_checksum(\'{"b": [1, 2], "a": "x"}\') '
        'FROM (SELECT \'{"a": "x", "b": [1, 2]}\'::jsonb AS p) AS t'
    ).fetchone()
    assert checksum == hashlib.md5(text.encode()).hexdigest()
    assert reordered == checksum


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("value", "entity", "expected"),
    [
        pytest.param("jane.doe@example.com", "EMAIL_ADDRESS", "j***@example.com", id="email"),
        pytest.param("+44 20 7946 0958", "PHONE_NUMBER", "***0958", id="phone"),
        pytest.param("4111 1111 1111 1234", "CREDIT_CARD", "**** **** **** 1234", id="credit-card"),
        pytest.param("GB82 WEST 1234 5698 7654 32", "IBAN_CODE", "GB***5432", id="iban"),
        pytest.param("203.0.113.42", "IP_ADDRESS", "203.0.0.0", id="ip"),
        pytest.param("1984-07-21", "DATE_TIME", "1984-**-**", id="date"),
        pytest.param("Jane", "PERSON", "J***", id="person"),
        pytest.param("536-90-4399", "US_SSN", "***-**-4399", id="ssn"),
        pytest.param("cancer", "MEDICAL_CONDITION", "***", id="unknown-entity-fully-redacted"),
        pytest.param("anything", None, "***", id="no-entity-fully-redacted"),
        pytest.param(None, "EMAIL_ADDRESS", None, id="null"),
    ],
)
def test_mask_hides_a_value_by_its_entity(
    conn: psycopg.Connection, value: str | None, entity: str | None, expected: str | None
) -> None:
    """compliance.mask masks a value according to its Presidio entity type."""
    assert conn.execute("SELECT compliance.mask(%s, %s)", (value, entity)).fetchone()[0] == expected


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        pytest.param("pipeline.row_checksum", "jsonb", id="row_checksum"),
        pytest.param("compliance.mask", "text, text", id="mask"),
        pytest.param("compliance.mask_email", "text", id="mask_email"),
        pytest.param("compliance.mask_phone", "text", id="mask_phone"),
        pytest.param("compliance.mask_text", "text, integer", id="mask_text"),
        pytest.param("quality.score_grade", "numeric", id="score_grade"),
    ],
)
def test_pure_helpers_are_immutable(conn: psycopg.Connection, function: str, arguments: str) -> None:
    """The checksum, masking and grading helpers are declared IMMUTABLE."""
    volatility = conn.execute(
        "SELECT provolatile FROM pg_proc WHERE oid = %s::regprocedure", (f"{function}({arguments})",)
    ).fetchone()[0]
    assert volatility == "i"


# --- the runner and its ledger --------------------------------------------------------------


def _catalog_snapshot(conn: psycopg.Connection) -> dict[str, list]:
    """Everything a migration could change, read from the catalog."""
    schemas = sorted(SCHEMAS | {"public"})
    queries = {
        "relations": "SELECT c.oid::regclass::text, c.relkind, c.relacl::text, obj_description(c.oid, 'pg_class') "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY(%(s)s)",
        "columns": "SELECT a.attrelid::regclass::text, a.attname, format_type(a.atttypid, a.atttypmod), "
        "a.attnotnull, pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE n.nspname = ANY(%(s)s) AND a.attnum > 0 AND NOT a.attisdropped",
        "constraints": "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE connamespace = ANY(SELECT oid FROM pg_namespace WHERE nspname = ANY(%(s)s))",
        "functions": "SELECT p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid)), p.proacl::text "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ANY(%(s)s)",
        "schemas": "SELECT nspname, nspacl::text FROM pg_namespace WHERE nspname = ANY(%(s)s)",
        "default_acls": "SELECT defaclrole::regrole::text, defaclnamespace::regnamespace::text, defaclobjtype, "
        "defaclacl::text FROM pg_default_acl",
        "triggers": "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal",
        "ledger": f"SELECT version, checksum, applied_at FROM {LEDGER_TABLE}",
        "yoyo": "SELECT migration_id, applied_at_utc FROM _yoyo_migration",
    }
    return {
        name: sorted(conn.execute(query, {"s": schemas}).fetchall(), key=repr)
        for name, query in queries.items()
    }


@pytest.mark.postgres
def test_second_migrate_does_nothing(dsn: str, conn: psycopg.Connection) -> None:
    """Migrating an up-to-date database applies nothing and leaves the catalog as it was."""
    before = _catalog_snapshot(conn)
    assert migrate(dsn) == []
    assert _catalog_snapshot(conn) == before


@pytest.mark.postgres
def test_migrations_reapply_into_a_second_database(
    warehouse: tuple[str, list[str]], scratch_dsn: str
) -> None:
    """A second database on the same cluster migrates cleanly although the roles already exist."""
    assert migrate(scratch_dsn) == warehouse[1]


@pytest.mark.postgres
def test_concurrent_migrates_apply_each_file_once(scratch_dsn: str) -> None:
    """Two migrate calls at once: yoyo's lock makes one apply everything and the other nothing."""
    results: list[object] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            results.append(migrate(scratch_dsn))
        except Exception as error:  # collected and asserted below
            results.append(error)

    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert all(isinstance(result, list) for result in results), results
    everything = sorted(path.stem for path in MIGRATIONS_DIR.glob("*.sql"))
    assert sorted(results, key=len) == [[], everything]


@pytest.mark.postgres
def test_ledger_records_the_checksum_of_every_applied_file(conn: psycopg.Connection) -> None:
    """The ledger holds the sha256 of every applied file's bytes."""
    ledger = dict(conn.execute(f"SELECT version, checksum FROM {LEDGER_TABLE}").fetchall())
    assert ledger == {path.stem: file_checksum(path) for path in MIGRATIONS_DIR.glob("*.sql")}


@pytest.mark.postgres
def test_a_tampered_applied_migration_is_refused(scratch_dsn: str, sql_copy: Path) -> None:
    """Editing an applied file makes migrate raise, naming the file and both checksums, and apply nothing."""
    migrate(scratch_dsn, sql_copy)
    tampered = sql_copy / "V005__pipeline.sql"
    recorded = file_checksum(tampered)
    tampered.write_text(tampered.read_text() + "\n-- an innocent-looking edit\n")
    (sql_copy / "V999__later.sql").write_text("CREATE TABLE pipeline.h1_later (id int);\n")
    with pytest.raises(MigrationChecksumError) as raised:
        migrate(scratch_dsn, sql_copy)
    message = str(raised.value)
    assert str(tampered) in message
    assert recorded in message
    assert file_checksum(tampered) in message
    assert "new migration" in message
    with psycopg.connect(scratch_dsn) as conn:
        assert conn.execute("SELECT to_regclass('pipeline.h1_later')").fetchone() == (None,)


@pytest.mark.postgres
def test_a_deleted_applied_migration_is_refused(scratch_dsn: str, sql_copy: Path) -> None:
    """Removing an applied file makes migrate raise, naming the missing version."""
    migrate(scratch_dsn, sql_copy)
    (sql_copy / "V009__archive.sql").unlink()
    with pytest.raises(MigrationError, match="V009__archive"):
        migrate(scratch_dsn, sql_copy)


@pytest.mark.postgres
def test_a_failing_migration_leaves_no_trace(scratch_dsn: str, sql_copy: Path) -> None:
    """A migration that fails half way rolls back whole: no DDL, no yoyo mark, no ledger row."""
    migrate(scratch_dsn, sql_copy)
    (sql_copy / "V998__broken.sql").write_text(
        "CREATE TABLE pipeline.h1_half (id int);\nSELECT * FROM pipeline.does_not_exist;\n"
    )
    with pytest.raises(MigrationError, match="V998__broken failed and was rolled back") as raised:
        migrate(scratch_dsn, sql_copy)
    assert isinstance(raised.value.__cause__, psycopg.errors.UndefinedTable)
    with psycopg.connect(scratch_dsn) as conn:
        assert conn.execute("SELECT to_regclass('pipeline.h1_half')").fetchone() == (None,)
        assert conn.execute(
            f"SELECT count(*) FROM {LEDGER_TABLE} WHERE version = 'V998__broken'"
        ).fetchone() == (0,)
    assert [s.state for s in status(scratch_dsn, sql_copy) if s.version == "V998__broken"] == [
        MigrationState.PENDING
    ]


@pytest.mark.postgres
def test_a_non_transactional_migration_is_recorded(scratch_dsn: str, sql_copy: Path) -> None:
    """A '-- transactional: false' file (CREATE INDEX CONCURRENTLY) applies and gets its ledger row."""
    migrate(scratch_dsn, sql_copy)
    (sql_copy / "V997__concurrently.sql").write_text(
        "-- transactional: false\n"
        "CREATE INDEX CONCURRENTLY h1_batches_status_idx ON pipeline.batches (status);\n"
    )
    assert migrate(scratch_dsn, sql_copy) == ["V997__concurrently"]
    with psycopg.connect(scratch_dsn) as conn:
        assert conn.execute(
            "SELECT to_regclass('pipeline.h1_batches_status_idx') IS NOT NULL"
        ).fetchone() == (True,)
    states = {s.version: s.state for s in status(scratch_dsn, sql_copy)}
    assert states["V997__concurrently"] is MigrationState.APPLIED


@pytest.mark.postgres
def test_a_held_migration_lock_times_out_with_advice(scratch_dsn: str, sql_copy: Path) -> None:
    """When another migrator holds the lock too long, migrate says so and how to clear a stale lock."""
    migrate(scratch_dsn, sql_copy)
    with psycopg.connect(scratch_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO public.yoyo_lock (locked, ctime, pid) VALUES (1, now(), 4242)")
    with pytest.raises(MigrationError, match="yoyo_lock"):
        migrate(scratch_dsn, sql_copy, lock_timeout=1)


@pytest.mark.postgres
def test_status_reports_pending_applied_changed_and_missing(scratch_dsn: str, sql_copy: Path) -> None:
    """status lists every migration with its state and checksums."""
    assert {s.state for s in status(scratch_dsn, sql_copy)} == {MigrationState.PENDING}
    migrate(scratch_dsn, sql_copy)
    report = status(scratch_dsn, sql_copy)
    assert {s.state for s in report} == {MigrationState.APPLIED}
    assert all(s.checksum == s.recorded_checksum and s.applied_at for s in report)
    (sql_copy / "V006__chart.sql").write_text("-- changed\n")
    (sql_copy / "V009__archive.sql").unlink()
    states = {s.version: s.state for s in status(scratch_dsn, sql_copy)}
    assert states["V006__chart"] is MigrationState.CHANGED
    assert states["V009__archive"] is MigrationState.MISSING


@pytest.mark.postgres
def test_files_applied_without_the_ledger_are_recorded(scratch_dsn: str, sql_copy: Path) -> None:
    """Migrations yoyo applied without a ledger row get their current checksum recorded."""
    migrate(scratch_dsn, sql_copy)
    with psycopg.connect(scratch_dsn, autocommit=True) as conn:
        conn.execute(f"DELETE FROM {LEDGER_TABLE} WHERE version = 'V001__schemas_and_roles'")
    assert {s.state for s in status(scratch_dsn, sql_copy)} == {
        MigrationState.APPLIED,
        MigrationState.UNRECORDED,
    }
    assert migrate(scratch_dsn, sql_copy) == []
    assert {s.state for s in status(scratch_dsn, sql_copy)} == {MigrationState.APPLIED}


def test_missing_migrations_folder_is_an_error(tmp_path: Path) -> None:
    """migrate names a migrations folder that does not exist."""
    with pytest.raises(MigrationError, match="does not exist"):
        migrate("postgresql://nobody@127.0.0.1:1/none", tmp_path / "nope")


# --- connection strings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        pytest.param(
            "postgresql://postgres@127.0.0.1:5432/atlas",
            "postgresql+psycopg://postgres@127.0.0.1:5432/atlas",
            id="url",
        ),
        pytest.param(
            "postgres://u:p%40ss@db.example:6543/atlas?sslmode=require",
            "postgresql+psycopg://u:p%40ss@db.example:6543/atlas?sslmode=require",
            id="postgres-scheme-and-quoted-password",
        ),
        pytest.param(
            "host=/tmp/pgserver user=pgserver dbname=atlas",
            "postgresql+psycopg://pgserver@/atlas?host=%2Ftmp%2Fpgserver",
            id="unix-socket-keyword-dsn",
        ),
    ],
)
def test_yoyo_url_converts_libpq_dsns(dsn: str, expected: str) -> None:
    """yoyo_url turns a libpq URL or key=value DSN into yoyo's postgresql+psycopg URL."""
    assert yoyo_url(dsn) == expected


@pytest.mark.slow
def test_warehouse_dsn_reads_the_airflow_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """warehouse_dsn reads AIRFLOW_CONN_ATLAS_WAREHOUSE, as postgresql:// and with libpq options only."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_ATLAS_WAREHOUSE",
        "postgres://atlas:s%40cret@db.example:5433/warehouse?sslmode=disable&cursor=dictcursor",
    )
    assert warehouse_dsn() == "postgresql://atlas:s%40cret@db.example:5433/warehouse?sslmode=disable"
