"""Versioned schema migrations: SQL files applied in order and recorded in `schema_migrations`.

The files live in `infra/migrations/<dialect>/NNNN_name.sql` so operators can read and review the exact SQL a
release runs; `HLS_MIGRATIONS_DIR` points elsewhere when the code is installed without the source tree.
Each repository applies the pending files inside one transaction under a lock, so concurrent starts are safe
and a failing file leaves the database as it was.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from assets.repository import RepositoryError

MIGRATIONS_DIR_ENV = "HLS_MIGRATIONS_DIR"
SOURCE_MIGRATIONS_ROOT = Path(__file__).resolve().parent.parent / "infra" / "migrations"
FILE_NAME_PATTERN = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")
DIALECTS = ("postgres", "sqlite")


class MigrationError(RepositoryError):
    """The migration files or the recorded history are not usable (or a file failed to apply)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str  # the file name without ".sql", e.g. "0001_catalogue_and_plans"
    sql: str


def migrations_root() -> Path:
    return Path(os.environ[MIGRATIONS_DIR_ENV]) if os.environ.get(MIGRATIONS_DIR_ENV) else SOURCE_MIGRATIONS_ROOT


def load_migrations(dialect: str, root: Path | None = None) -> list[Migration]:
    """The dialect's migration files in version order; refuses stray .sql names and repeated versions."""
    if dialect not in DIALECTS:
        raise MigrationError(f"unknown SQL dialect {dialect!r}")
    directory = (root or migrations_root()) / dialect
    if not directory.is_dir():
        raise MigrationError(f"no migrations directory {directory} (set {MIGRATIONS_DIR_ENV})")
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = FILE_NAME_PATTERN.match(path.name)
        if match is None:
            raise MigrationError(f"migration file {path.name!r} is not named NNNN_lowercase_name.sql")
        version = int(match["version"])
        if version in migrations:
            raise MigrationError(f"two migrations with version {version:04d} in {directory}")
        migrations[version] = Migration(version, path.stem, path.read_text(encoding="utf-8"))
    if not migrations:
        raise MigrationError(f"no migration files in {directory}")
    return [migrations[version] for version in sorted(migrations)]


def pending_migrations(available: list[Migration], applied: dict[int, str]) -> list[Migration]:
    """What still has to run, after checking the recorded history matches these files.

    A version recorded under another name, or one the files do not know, means the database was migrated
    by different code (usually a newer release); applying anything on top could damage it.
    """
    known = {migration.version: migration.name for migration in available}
    for version, name in sorted(applied.items()):
        if version not in known:
            raise MigrationError(f"database has migration {name!r} that this code does not know (newer release?)")
        if known[version] != name:
            raise MigrationError(f"database recorded migration {version:04d} as {name!r}, files say {known[version]!r}")
    return [migration for migration in available if migration.version not in applied]


def sql_statements(script: str) -> list[str]:
    """Split a SQLite script into single statements, so they can run inside one open transaction.

    (`executescript` would commit first.) A semicolon ends a statement only where SQLite agrees the
    statement is complete, which keeps semicolons in strings, comments and trigger bodies intact.
    """
    statements = []
    buffer = ""
    for piece in script.split(";")[:-1]:
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if _has_code(buffer):
                statements.append(buffer.strip())
            buffer = ""
    rest = buffer + script.split(";")[-1]
    if _has_code(rest):
        raise MigrationError(f"unterminated SQL statement: {rest.strip()[:80]!r}")
    return statements


def _has_code(sql: str) -> bool:
    """False for text that is only whitespace and comments."""
    without_block_comments = re.sub(r"/\*.*?\*/", "", sql, flags=re.DOTALL)
    without_comments = re.sub(r"--[^\n]*", "", without_block_comments)
    return bool(without_comments.strip(" \t\r\n;"))
