"""Schema migrations: from empty, re-run, concurrent starts, new files, failures, and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assets.migrations import (
    MIGRATIONS_DIR_ENV,
    SOURCE_MIGRATIONS_ROOT,
    MigrationError,
    load_migrations,
    pending_migrations,
    sql_statements,
)
from assets.repository import Repository
from tests.assets.repository_backends import (
    Backend,
    backend_for,
    postgres_backend,
    postgres_execute,
    postgres_rows,
    scratch_postgres_database,
    sqlite_backend,
)

REPO = Path(__file__).resolve().parents[2]
CLI_TIMEOUT_SECONDS = 60
OLD_PLAN_STORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    id TEXT PRIMARY KEY,
    canonical_json TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)
"""
EXPECTED_TABLES = {"categories", "exercise_categories", "exercises", "plan_items", "plans", "schema_migrations"}


@pytest.fixture(scope="module")
def postgres_dsn() -> Iterator[str]:
    with scratch_postgres_database() as dsn:
        yield dsn


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return backend_for(request, tmp_path)


def migration_names(dialect: str) -> list[str]:
    return [migration.name for migration in load_migrations(dialect)]


def inspect(backend: Backend, sqlite_query: str, postgres_query: str) -> list[tuple[object, ...]]:
    """Rows of a query over a direct connection to the backend's database (not through the repository)."""
    if backend.name == "sqlite":
        with contextlib.closing(sqlite3.connect(backend.location)) as connection:
            return connection.execute(sqlite_query).fetchall()
    return postgres_rows(backend.location, postgres_query)


def history_of(backend: Backend) -> list[str]:
    query = "SELECT name FROM schema_migrations ORDER BY version"
    return [name for (name,) in inspect(backend, query, query)]


def tables_of(backend: Backend) -> set[str]:
    rows = inspect(
        backend,
        "SELECT name FROM sqlite_schema WHERE type = 'table'",
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    )
    return {str(name) for (name,) in rows}


def schema_of(backend: Backend) -> list[list[tuple[object, ...]]]:
    """Everything that defines the schema, in a comparable form."""
    if backend.name == "sqlite":
        return [inspect(backend, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name", "")]
    return [
        postgres_rows(backend.location, query)
        for query in (
            (
                "SELECT table_name, column_name, data_type, is_nullable, column_default, generation_expression"
                " FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 2"
            ),
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
            (
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
            ),
            "SELECT extname FROM pg_extension ORDER BY 1",
        )
    ]


async def migrate(repository: Repository) -> list[str]:
    return await repository.migrate()


def next_migration(name: str, dialect: str) -> str:
    """The name of a migration numbered just after the real ones, e.g. "0003_exercise_notes"."""
    return f"{load_migrations(dialect)[-1].version + 1:04d}_{name}"


def migrations_with_extra(tmp_path: Path, backend: Backend, file_name: str, sql: str) -> Path:
    """A copy of the real migrations for the backend's dialect plus one more file."""
    root = tmp_path / "migrations"
    shutil.copytree(SOURCE_MIGRATIONS_ROOT / backend.name, root / backend.name)
    (root / backend.name / file_name).write_text(sql)
    return root


def test_migrate_applies_every_file_in_order_and_records_it(backend: Backend) -> None:
    applied = backend.run(migrate, migrate=False)
    assert applied == migration_names(backend.name)
    assert applied == sorted(applied)
    assert tables_of(backend) >= EXPECTED_TABLES
    assert history_of(backend) == applied


def test_rerunning_migrate_is_a_no_op(backend: Backend) -> None:
    backend.run(migrate, migrate=False)
    before, history = schema_of(backend), history_of(backend)
    assert backend.run(migrate, migrate=False) == []
    assert schema_of(backend) == before
    assert history_of(backend) == history


def test_concurrent_migrations_apply_each_file_once(backend: Backend) -> None:
    async def migrate_from_four_connections(_: Repository) -> list[list[str]]:
        repositories = [backend.open() for _ in range(4)]
        try:
            return list(await asyncio.gather(*(repository.migrate() for repository in repositories)))
        finally:
            for repository in repositories:
                await repository.close()

    results = backend.run(migrate_from_four_connections, migrate=False)
    assert sorted(results, key=len) == [[], [], [], migration_names(backend.name)]
    assert history_of(backend) == migration_names(backend.name)


def test_a_new_migration_file_is_applied_alone(backend: Backend, tmp_path: Path) -> None:
    name = next_migration("exercise_notes", backend.name)
    root = migrations_with_extra(tmp_path, backend, f"{name}.sql", "CREATE TABLE exercise_notes (id TEXT);")

    backend.run(migrate, migrate=False)
    extended = Backend(backend.name, backend.location, lambda: backend.open(migrations_root=root))
    assert extended.run(migrate, migrate=False) == [name]
    assert "exercise_notes" in tables_of(backend)


def test_a_failing_migration_leaves_the_database_as_it_was(backend: Backend, tmp_path: Path) -> None:
    broken = "CREATE TABLE half_done (id TEXT);\nINSERT INTO missing_table VALUES (1);\n"
    name = next_migration("broken", backend.name)
    root = migrations_with_extra(tmp_path, backend, f"{name}.sql", broken)
    failing = Backend(backend.name, backend.location, lambda: backend.open(migrations_root=root))

    with pytest.raises(MigrationError, match=name):
        failing.run(migrate, migrate=False)
    # Everything pending ran in one transaction: not even 0001 or the history table remain.
    assert tables_of(backend).isdisjoint(EXPECTED_TABLES | {"half_done"})
    assert backend.run(migrate, migrate=False) == migration_names(backend.name)


def test_french_names_reach_the_sample_exercises_stored_before_they_existed(backend: Backend, tmp_path: Path) -> None:
    """0002 adds exercises.name_fr, filled in for sample exercises that still have their sample names."""
    first = load_migrations(backend.name)[0]
    (tmp_path / "first" / backend.name).mkdir(parents=True)
    (tmp_path / "first" / backend.name / f"{first.name}.sql").write_text(first.sql)
    before = Backend(backend.name, backend.location, lambda: backend.open(migrations_root=tmp_path / "first"))
    assert before.run(migrate, migrate=False) == [first.name]
    stored = (
        "INSERT INTO exercises (id, name, difficulty, jump) VALUES ('push_up', 'Push-up', 'beginner', false),"
        " ('plank', 'Side plank', 'beginner', false), ('high_knees', 'High knees', 'beginner', true)"
    )
    if backend.name == "sqlite":
        with contextlib.closing(sqlite3.connect(backend.location)) as connection, connection:
            connection.execute(stored)
    else:
        postgres_execute(backend.location, stored)

    assert backend.run(migrate, migrate=False) == migration_names(backend.name)[1:]
    query = "SELECT id, name_fr FROM exercises ORDER BY id"
    # A renamed sample (plank) and an exercise of the admin's own keep no French name: English is drawn.
    assert inspect(backend, query, query) == [("high_knees", None), ("plank", None), ("push_up", "Pompe")]


def test_a_database_migrated_by_newer_code_is_refused(backend: Backend) -> None:
    backend.run(migrate, migrate=False)
    statement = "INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_from_the_future')"
    if backend.name == "sqlite":
        with contextlib.closing(sqlite3.connect(backend.location)) as connection, connection:
            connection.execute(statement)
    else:
        postgres_execute(backend.location, statement)
    with pytest.raises(MigrationError, match="9999_from_the_future"):
        backend.run(migrate, migrate=False)


def test_pending_migrations_refuse_a_history_that_names_a_version_differently() -> None:
    available = load_migrations("sqlite")
    with pytest.raises(MigrationError, match="0001"):
        pending_migrations(available, {1: "0001_something_else"})
    assert pending_migrations(available, {}) == available


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"0001_a.sql": "", "0001_b.sql": ""}, "two migrations with version 0001"),
        ({"1_short.sql": ""}, "NNNN_lowercase_name"),
        ({"0001_Upper.sql": ""}, "NNNN_lowercase_name"),
        ({}, "no migration files"),
    ],
)
def test_load_migrations_refuses_ambiguous_files(tmp_path: Path, files: dict[str, str], message: str) -> None:
    (tmp_path / "sqlite").mkdir()
    for name, text in files.items():
        (tmp_path / "sqlite" / name).write_text(text)
    with pytest.raises(MigrationError, match=message):
        load_migrations("sqlite", tmp_path)


def test_load_migrations_orders_files_by_version(tmp_path: Path) -> None:
    (tmp_path / "sqlite").mkdir()
    for name in ("0010_later.sql", "0002_second.sql", "0001_first.sql"):
        (tmp_path / "sqlite" / name).write_text(f"-- {name}")
    assert [m.version for m in load_migrations("sqlite", tmp_path)] == [1, 2, 10]
    assert load_migrations("sqlite", tmp_path)[0].name == "0001_first"


def test_sql_statements_split_only_where_statements_end() -> None:
    script = """
        -- a comment; with a semicolon
        CREATE TABLE t (v TEXT DEFAULT 'a;b');
        /* block; comment */
        CREATE TRIGGER t_touch AFTER INSERT ON t BEGIN
            UPDATE t SET v = 'x;y' WHERE rowid = new.rowid;
        END;
        INSERT INTO t (v) VALUES ('c');
    """
    statements = sql_statements(script)
    assert len(statements) == 3
    assert statements[0].endswith("CREATE TABLE t (v TEXT DEFAULT 'a;b');")
    assert statements[1].endswith("END;")
    with sqlite3.connect(":memory:") as connection:
        for statement in statements:
            connection.execute(statement)
        assert connection.execute("SELECT v FROM t").fetchall() == [("x;y",)]


def test_sql_statements_refuse_an_unterminated_statement() -> None:
    with pytest.raises(MigrationError, match="unterminated"):
        sql_statements("CREATE TABLE a (id TEXT); CREATE TABLE b (id TEXT)")


def test_a_sqlite_file_from_the_old_plan_store_keeps_its_plans(tmp_path: Path) -> None:
    path = tmp_path / "repository.sqlite3"
    document = '{"items":[],"rounds":1}'

    # the file as the first release's plan store (assets/store.py, since removed) wrote it
    with sqlite3.connect(path) as old:
        old.execute(OLD_PLAN_STORE_SCHEMA)
        old.execute("INSERT INTO plans (id, canonical_json) VALUES (?, ?)", ("0123456789abcdef0123", document))
    old.close()
    backend = sqlite_backend(path)

    async def migrate_and_load(repository: Repository) -> tuple[list[str], str | None]:
        return await repository.migrate(), await repository.load_plan("0123456789abcdef0123")

    applied, loaded = backend.run(migrate_and_load, migrate=False)
    assert applied == migration_names("sqlite")
    assert loaded == document
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    sqlite_backend(fresh / "repository.sqlite3").run(migrate_and_load, migrate=False)
    assert schema_of(backend) == schema_of(sqlite_backend(fresh / "repository.sqlite3"))


def test_both_dialects_define_the_same_tables_and_columns(tmp_path: Path, postgres_dsn: str) -> None:
    sqlite = sqlite_backend(tmp_path / "repository.sqlite3")
    postgres = postgres_backend(postgres_dsn)
    sqlite.run(migrate, migrate=False)
    postgres.run(migrate, migrate=False)
    sqlite_columns = set(
        inspect(
            sqlite,
            "SELECT t.name, c.name FROM sqlite_schema t, pragma_table_info(t.name) c WHERE t.type = 'table'",
            "",
        )
    )
    postgres_columns = set(
        postgres_rows(
            postgres_dsn,
            "SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = 'public'",
        )
    )
    # PostgreSQL adds the jsonb view of each plan; everything else matches name for name.
    assert postgres_columns - sqlite_columns == {("plans", "document")}
    assert sqlite_columns - postgres_columns == set()
    assert {table for table, _ in sqlite_columns} == EXPECTED_TABLES


def run_cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "HLS_DATA_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "assets.migrate", *arguments],
        check=False,
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
    )


def test_migrate_cli_applies_then_reports_up_to_date(backend: Backend, tmp_path: Path) -> None:
    if backend.name == "sqlite":
        target = ["--sqlite", backend.location]
    else:
        target = ["--database-url", backend.location]
    first = run_cli(*target)
    assert first.returncode == 0, first.stderr
    names = migration_names(backend.name)
    assert [f"applied {name}" for name in names] == first.stdout.splitlines()[: len(names)]
    assert f"applied {len(names)} migration(s)" in first.stdout
    second = run_cli(*target)
    assert second.returncode == 0, second.stderr
    assert "applied" not in second.stdout
    assert "already up to date" in second.stdout


def test_migrate_cli_reports_an_unreachable_database_without_a_traceback() -> None:
    result = run_cli("--database-url", "postgresql://app:s3cret@127.0.0.1:1/hls")
    assert result.returncode == 1
    assert "migrating PostgreSQL postgresql://app:***@127.0.0.1:1/hls failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr + result.stdout


def test_migrations_are_read_from_the_directory_the_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "sqlite" / "0001_only.sql").write_text("CREATE TABLE only_one (id TEXT);")
    monkeypatch.setenv(MIGRATIONS_DIR_ENV, str(tmp_path))
    assert [migration.name for migration in load_migrations("sqlite")] == ["0001_only"]
    with pytest.raises(MigrationError, match=MIGRATIONS_DIR_ENV):
        load_migrations("postgres")
