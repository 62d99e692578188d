"""The migration runner: yoyo applies sql/ once, the checksum ledger refuses edited or lost files."""

from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from atlas.constants import MIGRATIONS_DIR
from atlas.exceptions import MigrationChecksumError, MigrationError
from atlas.migrations import LEDGER_TABLE, MigrationState, file_checksum, migrate, status
from tests.plugins.atlas.migrations.catalog import SCHEMAS


@pytest.mark.postgres
def test_first_migrate_applies_every_file_in_order(warehouse: tuple[str, list[str]]) -> None:
    """The first migrate applies every sql/*.sql file, in file-name order."""
    _, applied = warehouse
    assert applied == sorted(path.stem for path in MIGRATIONS_DIR.glob("*.sql"))


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
