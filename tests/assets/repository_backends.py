"""Test helpers: run the same scenario against the SQLite and the PostgreSQL repository.

PostgreSQL tests use a scratch database per test module, created through the `postgres` database and dropped
afterwards, so concurrent runs never meet; each test then starts from an empty schema.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from assets.postgres_repository import PostgresRepository
from assets.repository import Repository
from assets.sqlite_repository import SqliteRepository

T = TypeVar("T")

ADMIN_URL_ENV = "HLS_TEST_POSTGRES_URL"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCRATCH_PREFIX = "hls_test_"


def admin_url() -> str:
    return os.environ.get(ADMIN_URL_ENV) or DEFAULT_ADMIN_URL


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


async def _execute(dsn: str, *statements: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def scratch_postgres_database() -> Iterator[str]:
    """The DSN of a new database, dropped on exit; skips the tests when no PostgreSQL server answers."""
    name = f"{SCRATCH_PREFIX}{secrets.token_hex(6)}"
    try:
        asyncio.run(_execute(admin_url(), f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"PostgreSQL at {admin_url()} is not usable ({error}); set {ADMIN_URL_ENV}")
    try:
        yield with_database(admin_url(), name)
    finally:
        asyncio.run(_execute(admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def postgres_rows(dsn: str, query: str) -> list[tuple[object, ...]]:
    """A query's rows over a direct connection, to inspect what a repository wrote."""

    async def fetch() -> list[tuple[object, ...]]:
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            return [tuple(row) for row in await connection.fetch(query)]
        finally:
            await connection.close()

    return asyncio.run(fetch())


def postgres_execute(dsn: str, *statements: str) -> None:
    asyncio.run(_execute(dsn, *statements))


def empty_postgres_schema(dsn: str) -> None:
    """Back to an empty database: tables, indexes, the pg_trgm extension and the migration history go."""
    postgres_execute(dsn, "DROP SCHEMA public CASCADE", "CREATE SCHEMA public")


@dataclass(frozen=True)
class Backend:
    """One repository flavour over one database; `open` makes a new repository on that same database."""

    name: str  # "sqlite" or "postgres", which is also the migrations dialect
    location: str  # the SQLite file or the PostgreSQL DSN, for direct inspection
    open: Callable[..., Repository]

    def run(self, body: Callable[[Repository], Awaitable[T]], *, migrate: bool = True) -> T:
        """Open a repository inside a fresh event loop (asyncpg pools belong to one loop), run `body`, close."""

        async def scenario() -> T:
            repository = self.open()
            try:
                if migrate:
                    await repository.migrate()
                return await body(repository)
            finally:
                await repository.close()

        return asyncio.run(scenario())


def sqlite_backend(path: Path) -> Backend:
    return Backend("sqlite", str(path), lambda **options: SqliteRepository(path, **options))


def postgres_backend(dsn: str) -> Backend:
    empty_postgres_schema(dsn)
    return Backend("postgres", dsn, lambda **options: PostgresRepository(dsn, **options))


def backend_for(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """For a fixture parametrised with "sqlite"/"postgres"; the module must define a `postgres_dsn` fixture."""
    if request.param == "sqlite":
        return sqlite_backend(tmp_path / "repository.sqlite3")
    return postgres_backend(request.getfixturevalue("postgres_dsn"))
