"""The repository in one SQLite file: a single node needs no database server.

One connection guarded by a lock; every call runs in a worker thread so the event loop never waits on disk.
Writes take the file's write lock up front (BEGIN IMMEDIATE), which also serialises other processes that
open the same file, e.g. two servers migrating at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from assets.migrations import MigrationError, load_migrations, pending_migrations, sql_statements
from assets.records import ExerciseInUse, ExercisePage, ExerciseQuery, ExerciseRecord
from assets.repository import (
    EXERCISE_COLUMNS,
    ConstraintViolation,
    RepositoryError,
    RepositoryUnavailable,
    check_query,
    checked_categories,
    contains_pattern,
    exercise_values,
    record_from_row,
)

T = TypeVar("T")

BUSY_TIMEOUT_SECONDS = 30.0
CATEGORY_SEPARATOR = ","  # category ids cannot contain it (CATEGORY_ID_PATTERN)
SCHEMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT
"""
SELECT_EXERCISES = (
    "SELECT "
    + ", ".join(f"e.{column}" for column in EXERCISE_COLUMNS)
    + ", (SELECT group_concat(ec.category_id, ',') FROM exercise_categories ec WHERE ec.exercise_id = e.id)"
    + " AS categories FROM exercises e"
)
INSERT_EXERCISE = (
    f"INSERT INTO exercises ({', '.join(EXERCISE_COLUMNS)}) VALUES ({', '.join('?' for _ in EXERCISE_COLUMNS)})"
    " ON CONFLICT (id) DO NOTHING"
)
UPDATE_EXERCISE = (
    "UPDATE exercises SET "
    + ", ".join(f"{column} = ?" for column in EXERCISE_COLUMNS[1:])
    + ", updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?"
)
CASE_FOLD_FUNCTION = "unicode_lower"  # SQLite's lower() folds ASCII only


def _case_fold(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _record(row: sqlite3.Row) -> ExerciseRecord:
    categories = row["categories"].split(CATEGORY_SEPARATOR) if row["categories"] else []
    return record_from_row(row, categories)


class SqliteRepository:
    """`Repository` on a SQLite file (created with its directory if missing)."""

    def __init__(self, path: Path, *, migrations_root: Path | None = None) -> None:
        self.path = path
        self._migrations_root = migrations_root
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS
            )
        except (OSError, sqlite3.Error) as error:
            raise RepositoryUnavailable(f"cannot open SQLite database {path}: {error}") from error
        try:
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.create_function(CASE_FOLD_FUNCTION, 1, _case_fold, deterministic=True)
        except sqlite3.Error as error:
            connection.close()
            raise RepositoryUnavailable(f"cannot use SQLite database {path}: {error}") from error
        self._connection = connection

    async def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._locked, work)

    def _locked(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            try:
                return work(self._connection)
            except sqlite3.IntegrityError as error:
                raise ConstraintViolation(f"SQLite refused the change: {error}") from error
            except sqlite3.Error as error:
                raise RepositoryError(f"SQLite {self.path}: {error}") from error

    @staticmethod
    @contextmanager
    def _transaction(connection: sqlite3.Connection, *, write: bool) -> Iterator[sqlite3.Connection]:
        """A transaction; writers take the write lock at BEGIN so read-then-write decisions stay true."""
        connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    async def migrate(self) -> list[str]:
        migrations = load_migrations("sqlite", self._migrations_root)

        def work(connection: sqlite3.Connection) -> list[str]:
            with self._transaction(connection, write=True):
                connection.execute(SCHEMA_MIGRATIONS_DDL)
                applied = {row[0]: row[1] for row in connection.execute("SELECT version, name FROM schema_migrations")}
                names = []
                for migration in pending_migrations(migrations, applied):
                    try:
                        for statement in sql_statements(migration.sql):
                            connection.execute(statement)
                    except sqlite3.Error as error:
                        raise MigrationError(f"migration {migration.name} failed: {error}") from error
                    connection.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                        (migration.version, migration.name),
                    )
                    names.append(migration.name)
                return names

        return await self._call(work)

    async def put_exercise(self, record: ExerciseRecord) -> bool:
        return (await self.put_exercises([record]))[0]

    async def put_exercises(self, records: Sequence[ExerciseRecord]) -> list[bool]:
        checked = [(record, checked_categories(record), exercise_values(record)) for record in records]

        def work(connection: sqlite3.Connection) -> list[bool]:
            created = []
            with self._transaction(connection, write=True):
                for record, categories, values in checked:
                    inserted = connection.execute(INSERT_EXERCISE, values).rowcount == 1
                    if not inserted:
                        connection.execute(UPDATE_EXERCISE, (*values[1:], record.id))
                    connection.executemany(
                        "INSERT INTO categories (id) VALUES (?) ON CONFLICT (id) DO NOTHING",
                        [(category,) for category in categories],
                    )
                    connection.execute("DELETE FROM exercise_categories WHERE exercise_id = ?", (record.id,))
                    connection.executemany(
                        "INSERT INTO exercise_categories (exercise_id, category_id) VALUES (?, ?)",
                        [(record.id, category) for category in categories],
                    )
                    created.append(inserted)
            return created

        return await self._call(work)

    async def get_exercise(self, exercise_id: str) -> ExerciseRecord | None:
        def work(connection: sqlite3.Connection) -> ExerciseRecord | None:
            row = connection.execute(f"{SELECT_EXERCISES} WHERE e.id = ?", (exercise_id,)).fetchone()
            return None if row is None else _record(row)

        return await self._call(work)

    async def find_exercises(self, query: ExerciseQuery) -> ExercisePage:
        check_query(query)
        conditions: list[str] = []
        arguments: list[object] = []
        if query.category is not None:
            conditions.append(
                "EXISTS (SELECT 1 FROM exercise_categories ec WHERE ec.exercise_id = e.id AND ec.category_id = ?)"
            )
            arguments.append(query.category)
        if query.difficulty is not None:
            conditions.append("e.difficulty = ?")
            arguments.append(query.difficulty)
        if query.no_jump:
            conditions.append("e.jump = 0")
        if query.text:
            fold = CASE_FOLD_FUNCTION
            # The French name too: a person searching the catalogue in French finds "Pompe".
            conditions.append(
                f"({fold}(e.name) LIKE {fold}(?) ESCAPE '\\' OR {fold}(e.name_fr) LIKE {fold}(?) ESCAPE '\\'"
                f" OR {fold}(e.description) LIKE {fold}(?) ESCAPE '\\')"
            )
            arguments += [contains_pattern(query.text)] * 3
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""

        def work(connection: sqlite3.Connection) -> ExercisePage:
            with self._transaction(connection, write=False):
                total = connection.execute(f"SELECT count(*) FROM exercises e{where}", arguments).fetchone()[0]
                rows = connection.execute(
                    f"{SELECT_EXERCISES}{where} ORDER BY lower(e.name), e.name, e.id LIMIT ? OFFSET ?",
                    [*arguments, query.limit, query.offset],
                ).fetchall()
            return ExercisePage(tuple(_record(row) for row in rows), total)

        return await self._call(work)

    async def all_exercises(self) -> list[ExerciseRecord]:
        def work(connection: sqlite3.Connection) -> list[ExerciseRecord]:
            return [_record(row) for row in connection.execute(f"{SELECT_EXERCISES} ORDER BY e.id")]

        return await self._call(work)

    async def delete_exercise(self, exercise_id: str) -> bool:
        def work(connection: sqlite3.Connection) -> bool:
            with self._transaction(connection, write=True):
                plans = _plans_using(connection, exercise_id)
                if plans:
                    raise ExerciseInUse(exercise_id, plans)
                return connection.execute("DELETE FROM exercises WHERE id = ?", (exercise_id,)).rowcount == 1

        return await self._call(work)

    async def categories(self) -> list[tuple[str, int]]:
        def work(connection: sqlite3.Connection) -> list[tuple[str, int]]:
            rows = connection.execute(
                "SELECT c.id, count(ec.exercise_id) FROM categories c"
                " LEFT JOIN exercise_categories ec ON ec.category_id = c.id GROUP BY c.id ORDER BY c.id"
            )
            return [(row[0], row[1]) for row in rows]

        return await self._call(work)

    async def save_plan(self, plan_id: str, canonical_json: str, exercise_ids: list[str]) -> bool:
        def work(connection: sqlite3.Connection) -> bool:
            with self._transaction(connection, write=True):
                inserted = connection.execute(
                    "INSERT INTO plans (id, canonical_json) VALUES (?, ?) ON CONFLICT (id) DO NOTHING",
                    (plan_id, canonical_json),
                )
                if inserted.rowcount != 1:
                    return False
                connection.executemany(
                    "INSERT INTO plan_items (plan_id, position, exercise_id) VALUES (?, ?, ?)",
                    [(plan_id, position, exercise_id) for position, exercise_id in enumerate(exercise_ids)],
                )
                return True

        return await self._call(work)

    async def load_plan(self, plan_id: str) -> str | None:
        def work(connection: sqlite3.Connection) -> str | None:
            row = connection.execute("SELECT canonical_json FROM plans WHERE id = ?", (plan_id,)).fetchone()
            return None if row is None else row[0]

        return await self._call(work)

    async def plans_using(self, exercise_id: str) -> int:
        return await self._call(lambda connection: _plans_using(connection, exercise_id))

    async def ping(self) -> None:
        def work(connection: sqlite3.Connection) -> None:
            connection.execute("SELECT count(*) FROM sqlite_schema").fetchone()

        try:
            await self._call(work)
        except RepositoryError as error:
            raise RepositoryUnavailable(str(error)) from error.__cause__

    async def close(self) -> None:
        await asyncio.to_thread(self._close)

    def _close(self) -> None:
        with self._lock:
            self._connection.close()


def _plans_using(connection: sqlite3.Connection, exercise_id: str) -> int:
    row = connection.execute(
        "SELECT count(DISTINCT plan_id) FROM plan_items WHERE exercise_id = ?", (exercise_id,)
    ).fetchone()
    return int(row[0])
