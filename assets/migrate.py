"""`python -m assets.migrate`: bring the configured database's schema up to date, and say what changed.

Servers also migrate when they start; this command lets an operator do it ahead of a rollout (or check that
nothing is pending) against the same store the server would use: DATABASE_URL, else the SQLite file in
HLS_DATA_DIR.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from assets.repository import (
    RepositoryError,
    default_data_dir,
    default_database_url,
    describe_target,
    open_repository,
    sqlite_path_for,
)


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m assets.migrate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        metavar="URL",
        default=default_database_url(),
        help="PostgreSQL DSN (default: DATABASE_URL; unset: SQLite)",
    )
    parser.add_argument(
        "--sqlite",
        metavar="PATH",
        type=Path,
        default=sqlite_path_for(default_data_dir()),
        help="SQLite file used when no database URL is given (default: $HLS_DATA_DIR/plans.sqlite3)",
    )
    return parser.parse_args(argv)


async def migrate(database_url: str | None, sqlite_path: Path) -> list[str]:
    repository = open_repository(database_url, sqlite_path)
    try:
        return await repository.migrate()
    finally:
        await repository.close()


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    target = describe_target(arguments.database_url, arguments.sqlite)
    try:
        applied = asyncio.run(migrate(arguments.database_url, arguments.sqlite))
    except RepositoryError as error:
        print(f"migrating {target} failed: {error}", file=sys.stderr)
        return 1
    for name in applied:
        print(f"applied {name}")
    summary = f"applied {len(applied)} migration(s)" if applied else "already up to date"
    print(f"{target}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
