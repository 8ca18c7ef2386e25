"""`python -m assets.load_catalogue`: put the sample library's exercises into the configured repository.

The samples arrive as files (`<data>/exercises/catalogue.json` plus clips); the server reads exercises from
the repository. This bridges the two, and is safe to re-run: records that already match are left alone, so
their `updated_at` keeps meaning "last changed".
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from assets.catalogue import CatalogueError, Exercise, file_version, load_catalogue
from assets.records import SAMPLE_CATEGORIES, SAMPLE_FRENCH_NAMES, ClipInfo, ExerciseRecord
from assets.repository import (
    Repository,
    RepositoryError,
    default_data_dir,
    default_database_url,
    describe_target,
    open_repository,
    sqlite_path_for,
)

EXERCISES_DIR = "exercises"  # under the data dir, as the server's Settings.clips_dir


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged"


def record_from_exercise(exercise: Exercise, clips_dir: Path) -> ExerciseRecord:
    """The repository's view of a catalogue entry; the clip facts come from the entry, size and version
    from the file itself. Raises OSError when the clip file is missing."""
    clip = ClipInfo(
        key=exercise.clip_path.relative_to(clips_dir).as_posix(),
        version=file_version(exercise.clip_path),
        fps=exercise.fps,
        frames=exercise.frames,
        width=exercise.width,
        height=exercise.height,
        alpha=exercise.alpha,
        codec=exercise.codec,
        duration_seconds=float(Fraction(exercise.frames) / exercise.fps),
        size_bytes=exercise.clip_path.stat().st_size,
    )
    return ExerciseRecord(
        id=exercise.id,
        name=exercise.name,
        difficulty=exercise.difficulty,
        jump=exercise.jump,
        categories=tuple(sorted(SAMPLE_CATEGORIES.get(exercise.id, (exercise.category,)))),
        clip=clip,
        name_fr=exercise.name_fr or SAMPLE_FRENCH_NAMES.get(exercise.id),
    )


def records_from_catalogue(clips_dir: Path) -> list[ExerciseRecord]:
    """Every exercise of `<clips_dir>/catalogue.json`, by id. Raises CatalogueError or OSError."""
    catalogue = load_catalogue(clips_dir)
    return [record_from_exercise(catalogue.exercises[key], clips_dir) for key in sorted(catalogue.exercises)]


async def load_records(repository: Repository, records: list[ExerciseRecord]) -> LoadReport:
    """Store each record unless the repository already holds exactly that record."""
    report = LoadReport()
    for record in records:
        existing = await repository.get_exercise(record.id)
        if existing == record:
            report.unchanged.append(record.id)
        elif await repository.put_exercise(record):
            report.created.append(record.id)
        else:
            report.updated.append(record.id)
    return report


async def load_sample_catalogue(database_url: str | None, data_dir: Path) -> LoadReport:
    """Migrate the configured store, then load `<data_dir>/exercises/catalogue.json` into it."""
    records = records_from_catalogue(data_dir / EXERCISES_DIR)
    repository = open_repository(database_url, sqlite_path_for(data_dir))
    try:
        await repository.migrate()
        return await load_records(repository, records)
    finally:
        await repository.close()


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m assets.load_catalogue", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        metavar="URL",
        default=default_database_url(),
        help="PostgreSQL DSN (default: DATABASE_URL; unset: SQLite)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        default=default_data_dir(),
        help="server data dir: exercises/catalogue.json and, without a database URL, plans.sqlite3"
        " (default: HLS_DATA_DIR or ./data)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    target = describe_target(arguments.database_url, sqlite_path_for(arguments.data_dir))
    try:
        report = asyncio.run(load_sample_catalogue(arguments.database_url, arguments.data_dir))
    except (CatalogueError, OSError) as error:
        print(f"cannot read the sample catalogue in {arguments.data_dir / EXERCISES_DIR}: {error}", file=sys.stderr)
        return 1
    except RepositoryError as error:
        print(f"loading into {target} failed: {error}", file=sys.stderr)
        return 1
    for label, ids in (("created", report.created), ("updated", report.updated)):
        for exercise_id in ids:
            print(f"{label} {exercise_id}")
    print(f"{target}: {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
