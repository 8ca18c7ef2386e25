"""The repository in PostgreSQL (asyncpg): the store several server processes share.

The connection pool is made on first use, so opening a repository never blocks and a server can start before
its database accepts connections (its health check reports that through `ping`). Driver exceptions are turned
into `RepositoryError`s so callers never depend on asyncpg; a database that is down, restarting or silent is
`RepositoryUnavailable` within the connect or command timeout (the API answers 503). asyncpg's pool replaces a
connection the server closed when it is next acquired, so nothing needs restarting once the database is back.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg

from assets.migrations import MigrationError, load_migrations, pending_migrations
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

MIN_CONNECTIONS = 1
MAX_CONNECTIONS = 10
CONNECT_TIMEOUT_SECONDS = 5.0
COMMAND_TIMEOUT_SECONDS = 10.0
"""Bounds every statement, so a database that stops answering costs a request this long (then 503
database_unavailable), not a hang: the catalogue and plan statements take milliseconds."""
MIGRATION_TIMEOUT_SECONDS = 120.0
"""Migrations may wait for another node's migration lock and run DDL: they get longer."""
# One key for "the schema is being migrated", shared by every process that migrates this database.
MIGRATION_LOCK_KEY = zlib.crc32(b"workout-hls-server schema migrations")
# put_exercise retries its insert-or-update when a concurrent delete removes the row in between.
UPSERT_ATTEMPTS = 3
SCHEMA_MIGRATIONS_DDL = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
SELECT_EXERCISES = (
    "SELECT "
    + ", ".join(f"e.{column}" for column in EXERCISE_COLUMNS)
    + ", ARRAY(SELECT ec.category_id FROM exercise_categories ec WHERE ec.exercise_id = e.id) AS categories"
    + " FROM exercises e"
)
INSERT_EXERCISE = (
    f"INSERT INTO exercises ({', '.join(EXERCISE_COLUMNS)})"
    f" VALUES ({', '.join(f'${index}' for index in range(1, len(EXERCISE_COLUMNS) + 1))})"
    " ON CONFLICT (id) DO NOTHING RETURNING true"
)
UPDATE_EXERCISE = (
    "UPDATE exercises SET "
    + ", ".join(f"{column} = ${index}" for index, column in enumerate(EXERCISE_COLUMNS[1:], start=2))
    + ", updated_at = now() WHERE id = $1"
)
PLANS_USING = "SELECT count(DISTINCT plan_id) FROM plan_items WHERE exercise_id = $1"
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.OperatorInterventionError,  # shutting down, or not accepting connections yet
    asyncpg.InvalidCatalogNameError,  # the database does not exist
)


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """Raise asyncpg's and the network's exceptions as RepositoryErrors (the original as the cause)."""
    try:
        yield
    except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError) as error:
        raise ConstraintViolation(f"PostgreSQL refused {what}: {error}") from error
    except UNAVAILABLE_ERRORS as error:
        raise RepositoryUnavailable(f"PostgreSQL unavailable during {what}: {error}") from error
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        raise RepositoryError(f"PostgreSQL failed {what}: {error}") from error


def _record(row: asyncpg.Record) -> ExerciseRecord:
    return record_from_row(row, row["categories"])


class PostgresRepository:
    """`Repository` on a PostgreSQL database given by its DSN (postgresql://user@host:port/db)."""

    def __init__(
        self,
        dsn: str,
        *,
        min_connections: int = MIN_CONNECTIONS,
        max_connections: int = MAX_CONNECTIONS,
        migrations_root: Path | None = None,
    ) -> None:
        self._dsn = dsn
        self._min_connections = min_connections
        self._max_connections = max_connections
        self._migrations_root = migrations_root
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()

    async def _get_pool(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                with _translated("connecting"):
                    self._pool = await asyncpg.create_pool(
                        self._dsn,
                        min_size=self._min_connections,
                        max_size=self._max_connections,
                        timeout=CONNECT_TIMEOUT_SECONDS,
                        command_timeout=COMMAND_TIMEOUT_SECONDS,
                    )
            return self._pool

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        pool = await self._get_pool()
        with _translated("acquiring a connection"):
            connection = await pool.acquire(timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            yield connection
        finally:
            await pool.release(connection)

    async def migrate(self) -> list[str]:
        migrations = load_migrations("postgres", self._migrations_root)
        async with self._connection() as connection:
            with _translated("migrating"):
                async with connection.transaction():
                    await connection.execute(
                        "SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY, timeout=MIGRATION_TIMEOUT_SECONDS
                    )
                    await connection.execute(SCHEMA_MIGRATIONS_DDL)
                    rows = await connection.fetch("SELECT version, name FROM schema_migrations")
                    names = []
                    for migration in pending_migrations(migrations, {row["version"]: row["name"] for row in rows}):
                        try:
                            await connection.execute(migration.sql, timeout=MIGRATION_TIMEOUT_SECONDS)
                        except asyncpg.PostgresError as error:
                            raise MigrationError(f"migration {migration.name} failed: {error}") from error
                        await connection.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                            migration.version,
                            migration.name,
                        )
                        names.append(migration.name)
        return names

    async def put_exercise(self, record: ExerciseRecord) -> bool:
        return (await self.put_exercises([record]))[0]

    async def put_exercises(self, records: Sequence[ExerciseRecord]) -> list[bool]:
        checked = [(record, list(checked_categories(record)), exercise_values(record)) for record in records]
        created = []
        async with self._connection() as connection:
            with _translated(f"storing exercises {[record.id for record in records]!r}"):
                async with connection.transaction():
                    for record, categories, values in checked:
                        created.append(await self._upsert_exercise(connection, values))
                        await connection.execute(
                            "INSERT INTO categories (id) SELECT unnest($1::text[]) ON CONFLICT (id) DO NOTHING",
                            categories,
                        )
                        await connection.execute("DELETE FROM exercise_categories WHERE exercise_id = $1", record.id)
                        await connection.execute(
                            "INSERT INTO exercise_categories (exercise_id, category_id) SELECT $1, unnest($2::text[])",
                            record.id,
                            categories,
                        )
        return created

    @staticmethod
    async def _upsert_exercise(connection: asyncpg.Connection, values: tuple[object, ...]) -> bool:
        """Insert, or update the existing row; True if inserted. Tells the two apart without relying on
        system columns, and stays correct when another transaction creates or deletes the row meanwhile."""
        for _ in range(UPSERT_ATTEMPTS):
            if await connection.fetchval(INSERT_EXERCISE, *values):
                return True
            if await connection.execute(UPDATE_EXERCISE, *values) != "UPDATE 0":
                return False
        raise RepositoryError(f"exercise {values[0]!r} kept being created and deleted while storing it")

    async def get_exercise(self, exercise_id: str) -> ExerciseRecord | None:
        async with self._connection() as connection:
            with _translated(f"reading exercise {exercise_id!r}"):
                row = await connection.fetchrow(f"{SELECT_EXERCISES} WHERE e.id = $1", exercise_id)
        return None if row is None else _record(row)

    async def find_exercises(self, query: ExerciseQuery) -> ExercisePage:
        check_query(query)
        conditions: list[str] = []
        arguments: list[object] = []

        def parameter(value: object) -> str:
            arguments.append(value)
            return f"${len(arguments)}"

        if query.category is not None:
            conditions.append(
                "EXISTS (SELECT 1 FROM exercise_categories ec"
                f" WHERE ec.exercise_id = e.id AND ec.category_id = {parameter(query.category)})"
            )
        if query.difficulty is not None:
            conditions.append(f"e.difficulty = {parameter(query.difficulty)}")
        if query.no_jump:
            conditions.append("NOT e.jump")
        if query.text:
            pattern = parameter(contains_pattern(query.text))
            # The French name too: a person searching the catalogue in French finds "Pompe".
            conditions.append(
                f"(lower(e.name) LIKE lower({pattern}) ESCAPE '\\'"
                f" OR lower(e.name_fr) LIKE lower({pattern}) ESCAPE '\\'"
                f" OR lower(e.description) LIKE lower({pattern}) ESCAPE '\\')"
            )
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        count_arguments = list(arguments)
        page = f"LIMIT {parameter(query.limit)} OFFSET {parameter(query.offset)}"
        order = 'ORDER BY lower(e.name) COLLATE "C", e.name COLLATE "C", e.id COLLATE "C"'
        async with self._connection() as connection:
            with _translated("listing exercises"):
                async with connection.transaction(isolation="repeatable_read", readonly=True):
                    total = await connection.fetchval(f"SELECT count(*) FROM exercises e{where}", *count_arguments)
                    rows = await connection.fetch(f"{SELECT_EXERCISES}{where} {order} {page}", *arguments)
        return ExercisePage(tuple(_record(row) for row in rows), total)

    async def all_exercises(self) -> list[ExerciseRecord]:
        async with self._connection() as connection:
            with _translated("listing exercises"):
                rows = await connection.fetch(f'{SELECT_EXERCISES} ORDER BY e.id COLLATE "C"')
        return [_record(row) for row in rows]

    async def delete_exercise(self, exercise_id: str) -> bool:
        async with self._connection() as connection:
            with _translated(f"deleting exercise {exercise_id!r}"):
                async with connection.transaction():
                    # FOR UPDATE conflicts with the key-share lock a plan_items insert takes on the row, so no
                    # plan can start using the exercise between the count and the delete.
                    found = await connection.fetchval(
                        "SELECT true FROM exercises WHERE id = $1 FOR UPDATE", exercise_id
                    )
                    if not found:
                        return False
                    plans = await connection.fetchval(PLANS_USING, exercise_id)
                    if plans:
                        raise ExerciseInUse(exercise_id, plans)
                    await connection.execute("DELETE FROM exercises WHERE id = $1", exercise_id)
        return True

    async def categories(self) -> list[tuple[str, int]]:
        async with self._connection() as connection:
            with _translated("listing categories"):
                rows = await connection.fetch(
                    "SELECT c.id, count(ec.exercise_id) AS exercises FROM categories c"
                    ' LEFT JOIN exercise_categories ec ON ec.category_id = c.id GROUP BY c.id ORDER BY c.id COLLATE "C"'
                )
        return [(row["id"], row["exercises"]) for row in rows]

    async def save_plan(self, plan_id: str, canonical_json: str, exercise_ids: list[str]) -> bool:
        async with self._connection() as connection:
            with _translated(f"saving plan {plan_id!r}"):
                async with connection.transaction():
                    # A concurrent insert of the same id makes this wait for it, then do nothing.
                    created = await connection.fetchval(
                        "INSERT INTO plans (id, canonical_json) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING true",
                        plan_id,
                        canonical_json,
                    )
                    if not created:
                        return False
                    await connection.execute(
                        "INSERT INTO plan_items (plan_id, position, exercise_id)"
                        " SELECT $1, item.ordinality - 1, item.exercise_id"
                        " FROM unnest($2::text[]) WITH ORDINALITY AS item (exercise_id, ordinality)",
                        plan_id,
                        exercise_ids,
                    )
        return True

    async def load_plan(self, plan_id: str) -> str | None:
        async with self._connection() as connection:
            with _translated(f"loading plan {plan_id!r}"):
                return await connection.fetchval("SELECT canonical_json FROM plans WHERE id = $1", plan_id)

    async def plans_using(self, exercise_id: str) -> int:
        async with self._connection() as connection:
            with _translated(f"counting plans using {exercise_id!r}"):
                return await connection.fetchval(PLANS_USING, exercise_id)

    async def ping(self) -> None:
        try:
            async with self._connection() as connection:
                with _translated("ping"):
                    await connection.fetchval("SELECT 1")
        except RepositoryUnavailable:
            raise
        except RepositoryError as error:
            raise RepositoryUnavailable(str(error)) from error.__cause__

    async def close(self) -> None:
        async with self._pool_lock:
            if self._pool is not None:
                pool, self._pool = self._pool, None
                await pool.close()
