"""The catalogue-and-plans repository: one interface, two databases.

PostgreSQL serves several server processes at once; SQLite keeps a single node free of external services.
Both implement `Repository` with the same meaning, which the contract tests check against each. What both
need (errors, record checks, row decoding, URL handling) lives here so the dialect modules hold only SQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from assets.records import ClipInfo, ExercisePage, ExerciseQuery, ExerciseRecord

POSTGRES_SCHEMES = ("postgres", "postgresql")
SQLITE_FILE_NAME = "plans.sqlite3"
DEFAULT_DATA_DIR = Path("data")
DATA_DIR_ENV = "HLS_DATA_DIR"
DATABASE_URL_ENV = "DATABASE_URL"
MIN_CATEGORIES = 1
MAX_CATEGORIES = 8
MIN_PAGE_LIMIT = 1
MAX_PAGE_LIMIT = 100
LIKE_ESCAPE = "\\"


class Row(Protocol):
    """A result row by column name: asyncpg's Record and sqlite3.Row both qualify."""

    def __getitem__(self, key: str) -> Any: ...


class RepositoryError(RuntimeError):
    """The repository could not do what was asked; the driver's exception is the cause."""


class ConstraintViolation(RepositoryError):
    """The data breaks a rule of the schema (the caller sent something invalid; an API answers 4xx)."""


class RepositoryUnavailable(RepositoryError):
    """The database cannot be reached or opened (an API answers 503 and a health check fails)."""


class Repository(Protocol):
    """Exercises with their categories and clip facts, and saved plans with the exercises they use."""

    async def migrate(self) -> list[str]:
        """Apply pending migrations (names applied now; [] when up to date). Safe when several server
        processes start at once (PostgreSQL: pg_advisory_xact_lock inside one transaction)."""
        ...

    async def put_exercise(self, record: ExerciseRecord) -> bool:
        """Create or replace an exercise (categories are created on demand); True if it was created."""
        ...

    async def put_exercises(self, records: Sequence[ExerciseRecord]) -> list[bool]:
        """`put_exercise` for several records in one transaction: other readers see none of them or all
        of them, and a refused record stores none (a node starting while another seeds the sample
        library must never see half a catalogue)."""
        ...

    async def get_exercise(self, exercise_id: str) -> ExerciseRecord | None: ...

    async def find_exercises(self, query: ExerciseQuery) -> ExercisePage:
        """Matches ordered by name (case-insensitive), then id; total counts matches before paging."""
        ...

    async def all_exercises(self) -> list[ExerciseRecord]:
        """Every exercise, ordered by id."""
        ...

    async def delete_exercise(self, exercise_id: str) -> bool:
        """False if absent; raises ExerciseInUse while saved plans use it."""
        ...

    async def categories(self) -> list[tuple[str, int]]:
        """(category id, exercise count) by id, including categories no exercise uses any more."""
        ...

    async def save_plan(self, plan_id: str, canonical_json: str, exercise_ids: list[str]) -> bool:
        """True if new. Concurrent saves of one id from many clients: one row, all get the same id,
        exactly one True. exercise_ids: one per plan item in order (stored as plan_items rows, which is
        what makes delete_exercise refuse)."""
        ...

    async def load_plan(self, plan_id: str) -> str | None:
        """The canonical JSON exactly as saved, or None."""
        ...

    async def plans_using(self, exercise_id: str) -> int:
        """How many saved plans name the exercise at least once."""
        ...

    async def ping(self) -> None:
        """Raises RepositoryUnavailable if the database is unreachable."""
        ...

    async def close(self) -> None: ...


def open_repository(database_url: str | None, sqlite_path: Path) -> Repository:
    """PostgreSQL when a database URL is configured, else the embedded SQLite file.

    Opening is cheap: PostgreSQL connects on first use, so a server can start before its database does.
    """
    if database_url:
        scheme = urlsplit(database_url).scheme
        if scheme not in POSTGRES_SCHEMES:
            raise RepositoryError(f"unsupported database URL scheme {scheme!r} (use postgresql://)")
        from assets.postgres_repository import PostgresRepository

        return PostgresRepository(database_url)
    from assets.sqlite_repository import SqliteRepository

    return SqliteRepository(sqlite_path)


def default_database_url() -> str | None:
    """DATABASE_URL as the server reads it; unset or empty means SQLite."""
    return os.environ.get(DATABASE_URL_ENV) or None


def default_data_dir() -> Path:
    """HLS_DATA_DIR as the server reads it, so the CLIs touch the same files as the server."""
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def sqlite_path_for(data_dir: Path) -> Path:
    return data_dir / SQLITE_FILE_NAME


def describe_target(database_url: str | None, sqlite_path: Path) -> str:
    """Where a repository points, for messages: the URL without its password."""
    if not database_url:
        return f"SQLite {sqlite_path}"
    parts = urlsplit(database_url)
    if parts.password is None:
        return f"PostgreSQL {database_url}"
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return f"PostgreSQL {urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))}"


def checked_categories(record: ExerciseRecord) -> tuple[str, ...]:
    """The record's categories, sorted; enforces what a CHECK constraint cannot (how many, no repeats)."""
    categories = tuple(sorted(record.categories))
    if len(set(categories)) != len(categories):
        raise ConstraintViolation(f"exercise {record.id!r} names a category twice: {record.categories!r}")
    if not MIN_CATEGORIES <= len(categories) <= MAX_CATEGORIES:
        raise ConstraintViolation(
            f"exercise {record.id!r} needs {MIN_CATEGORIES}..{MAX_CATEGORIES} categories, got {len(categories)}"
        )
    return categories


def check_query(query: ExerciseQuery) -> None:
    if not MIN_PAGE_LIMIT <= query.limit <= MAX_PAGE_LIMIT:
        raise ConstraintViolation(f"limit must be {MIN_PAGE_LIMIT}..{MAX_PAGE_LIMIT}, got {query.limit}")
    if query.offset < 0:
        raise ConstraintViolation(f"offset must be 0 or more, got {query.offset}")


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, with LIKE's wildcards in `text` taken literally."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
    return "%" + escaped.replace("_", LIKE_ESCAPE + "_") + "%"


def clip_values(clip: ClipInfo | None) -> tuple[Any, ...]:
    """The clip_* column values in EXERCISE_COLUMNS order (all None without a clip)."""
    if clip is None:
        return (None,) * 11
    return (
        clip.key,
        clip.version,
        clip.fps.numerator,
        clip.fps.denominator,
        clip.frames,
        clip.width,
        clip.height,
        clip.alpha,
        clip.codec,
        clip.duration_seconds,
        clip.size_bytes,
    )


CLIP_COLUMNS = (
    "clip_key",
    "clip_version",
    "clip_fps_num",
    "clip_fps_den",
    "clip_frames",
    "clip_width",
    "clip_height",
    "clip_alpha",
    "clip_codec",
    "clip_duration_seconds",
    "clip_size_bytes",
)
EXERCISE_COLUMNS = ("id", "name", "name_fr", "description", "difficulty", "jump", *CLIP_COLUMNS)


def exercise_values(record: ExerciseRecord) -> tuple[Any, ...]:
    """Column values in EXERCISE_COLUMNS order."""
    return (
        record.id,
        record.name,
        record.name_fr,
        record.description,
        record.difficulty,
        record.jump,
        *clip_values(record.clip),
    )


def record_from_row(row: Row, categories: Iterable[str]) -> ExerciseRecord:
    """Decode an exercises row (SQLite stores booleans as 0/1, so they are converted here)."""
    clip = None
    if row["clip_key"] is not None:
        clip = ClipInfo(
            key=row["clip_key"],
            version=row["clip_version"],
            fps=Fraction(row["clip_fps_num"], row["clip_fps_den"]),
            frames=row["clip_frames"],
            width=row["clip_width"],
            height=row["clip_height"],
            alpha=bool(row["clip_alpha"]),
            codec=row["clip_codec"],
            duration_seconds=float(row["clip_duration_seconds"]),
            size_bytes=row["clip_size_bytes"],
        )
    return ExerciseRecord(
        id=row["id"],
        name=row["name"],
        difficulty=row["difficulty"],
        jump=bool(row["jump"]),
        categories=tuple(sorted(categories)),
        description=row["description"],
        clip=clip,
        name_fr=row["name_fr"],
    )
