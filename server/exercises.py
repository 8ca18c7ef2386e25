"""The exercise catalogue as the server runs it: records in the repository, clips in clip storage,
and a read-only snapshot (`assets.catalogue.Catalogue`) that rendering uses.

Rendering reads the snapshot without touching the database, so segments keep flowing while the
database is slow or restarting. The snapshot is rebuilt after every write through this node and
every `catalogue_refresh_seconds` to see writes made through other nodes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from assets.catalogue import Catalogue, Exercise, MusicTrack, file_version
from assets.clip_storage import ClipStorage, ClipStorageError
from assets.load_catalogue import records_from_catalogue
from assets.probe import ClipProbeError, check_clip
from assets.records import (
    CATEGORY_ID_PATTERN,
    DIFFICULTIES,
    EXERCISE_ID_PATTERN,
    ClipInfo,
    ExerciseInUse,
    ExercisePage,
    ExerciseQuery,
    ExerciseRecord,
)
from assets.repository import ConstraintViolation, Repository
from assets.uploads import ClipProbe

log = logging.getLogger(__name__)

UPLOADED_CLIP_PREFIX = "clips/"
"""Keys of uploaded clips; the sample library's own files are never deleted."""
SAMPLE_CLIP_PREFIX = "exercises/"
"""Keys of the sample library's clips: where they sit under the data directory."""
MAX_NAME = 80
MAX_DESCRIPTION = 500
MAX_CATEGORIES = 8


DESCRIPTION_WHITESPACE = "\n\r\t"
"""The only control characters a description may hold; a name holds none (it is drawn on the video)."""


def _control_characters(text: str, allowed: str = "") -> bool:
    """Whether `text` holds a control character: NUL ends a string in SQLite's length() and PostgreSQL
    refuses it in text, so it must be a 422 here, never a database error."""
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)


class ExerciseNotFound(LookupError):
    pass


class ExerciseExists(ValueError):
    pass


class InvalidExercise(ValueError):
    """Fields that break a catalogue rule: [{"loc": [...], "msg": ...}, ...]."""

    def __init__(self, fields: list[dict]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, f['loc']))}: {f['msg']}" for f in fields))
        self.fields = fields


WRITABLE_FIELDS = frozenset({"id", "name", "name_fr", "difficulty", "jump", "categories", "description"})


def _name_problems(field: str, name: object) -> list[dict]:
    """A name is drawn on the video: 1-80 characters once trimmed, no control characters."""
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_NAME:
        return [{"loc": [field], "msg": f"a name of 1-{MAX_NAME} characters", "type": "length"}]
    if _control_characters(name):
        return [{"loc": [field], "msg": "a name without control characters", "type": "control_characters"}]
    return []


def exercise_fields(document: object) -> dict:
    """Validate an exercise's writable fields (id, name, name_fr, difficulty, jump, categories, description)."""
    if not isinstance(document, dict):
        raise InvalidExercise([{"loc": ["body"], "msg": "the body must be a JSON object", "type": "object_type"}])
    problems: list[dict] = []
    unknown = sorted(set(document) - WRITABLE_FIELDS)
    problems += [{"loc": [name], "msg": "unknown field", "type": "extra_forbidden"} for name in unknown]
    exercise_id, name, name_fr = document.get("id"), document.get("name"), document.get("name_fr")
    if not isinstance(exercise_id, str) or not re.fullmatch(EXERCISE_ID_PATTERN, exercise_id):
        problems.append(
            {"loc": ["id"], "msg": "1-64 of a-z, 0-9 and _, starting with a letter or digit", "type": "pattern"}
        )
    problems += _name_problems("name", name)
    if name_fr is not None:  # optional: without it French screens draw the English name
        problems += _name_problems("name_fr", name_fr)
    if document.get("difficulty") not in DIFFICULTIES:
        problems.append({"loc": ["difficulty"], "msg": f"one of {', '.join(DIFFICULTIES)}", "type": "enum"})
    if not isinstance(document.get("jump"), bool):
        problems.append({"loc": ["jump"], "msg": "true or false", "type": "bool_type"})
    categories = document.get("categories")
    if (
        not isinstance(categories, list)
        or not 1 <= len(categories) <= MAX_CATEGORIES
        or len(set(map(str, categories))) != len(categories)
        or not all(isinstance(c, str) and re.fullmatch(CATEGORY_ID_PATTERN, c) for c in categories)
    ):
        problems.append(
            {"loc": ["categories"], "msg": f"1-{MAX_CATEGORIES} distinct ids of a-z, 0-9 and _", "type": "categories"}
        )
    description = document.get("description", "")
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        problems.append(
            {"loc": ["description"], "msg": f"text of at most {MAX_DESCRIPTION} characters", "type": "length"}
        )
    elif _control_characters(description, allowed=DESCRIPTION_WHITESPACE):
        problems.append(
            {"loc": ["description"], "msg": "text without control characters other than line breaks and tabs",
             "type": "control_characters"}
        )
    if problems:
        raise InvalidExercise(problems)
    return {
        "id": exercise_id,
        "name": name.strip(),
        "name_fr": None if name_fr is None else name_fr.strip(),
        "difficulty": document["difficulty"],
        "jump": document["jump"],
        "categories": tuple(sorted(categories)),
        "description": description,
    }


def public_record(record: ExerciseRecord) -> dict:
    """The API view of an exercise: no storage keys."""
    clip = record.clip
    return {
        "id": record.id,
        "name": record.name,
        "name_fr": record.name_fr,
        "description": record.description,
        "difficulty": record.difficulty,
        "jump": record.jump,
        "categories": list(record.categories),
        "playable": clip is not None,
        "clip": None
        if clip is None
        else {
            "version": clip.version,
            "fps": str(clip.fps),
            "frames": clip.frames,
            "width": clip.width,
            "height": clip.height,
            "alpha": clip.alpha,
            "codec": clip.codec,
            "duration_seconds": round(clip.duration_seconds, 3),
            "size_bytes": clip.size_bytes,
        },
    }


def runtime_exercise(record: ExerciseRecord, clip: ClipInfo, clip_path: Path) -> Exercise:
    return Exercise(
        id=record.id,
        name=record.name,
        category=record.categories[0],
        difficulty=record.difficulty,
        jump=record.jump,
        clip_path=clip_path,
        loop_seconds=clip.duration_seconds,
        fps=clip.fps,
        frames=clip.frames,
        width=clip.width,
        height=clip.height,
        alpha=clip.alpha,
        codec=clip.codec,
        name_fr=record.name_fr,
    )


def clip_key(exercise_id: str, version: str, suffix: str) -> str:
    return f"{UPLOADED_CLIP_PREFIX}{exercise_id}/{version}{suffix}"


class ExerciseCatalogue:
    def __init__(self, repository: Repository, storage: ClipStorage, music: dict[str, MusicTrack]) -> None:
        self.repository = repository
        self.storage = storage
        self.music = music
        self.snapshot = Catalogue({}, music)
        self.broken_clips: dict[str, str] = {}
        """Exercises left out of the snapshot because their clip failed `check_clip`: id -> why."""
        self._clip_checks: dict[str, tuple[tuple[int, int], str | None]] = {}
        """path -> ((size, mtime), problem or None) as last checked."""
        self._lock = asyncio.Lock()

    async def seed(self, clips_dir: Path) -> int:
        """On a repository without exercises, load the sample library (and put its clips in storage)."""
        if await self.repository.all_exercises():
            return 0
        records = []
        for record in await asyncio.to_thread(records_from_catalogue, clips_dir):
            assert record.clip is not None  # every sample has its clip
            key = SAMPLE_CLIP_PREFIX + record.clip.key
            if not await asyncio.to_thread(self.storage.exists, key):
                await asyncio.to_thread(self.storage.put, key, clips_dir / record.clip.key)
            records.append(replace(record, clip=replace(record.clip, key=key)))
        # One transaction: a node starting meanwhile sees no exercise (and seeds too, harmlessly: the same
        # records) or all of them, never part of the library it would then serve 422s for.
        created = sum(await self.repository.put_exercises(records))
        log.info("loaded the sample catalogue: %d exercises created, %d already there", created, len(records) - created)
        return created

    async def refresh(self) -> Catalogue:
        """Rebuild the snapshot rendering uses from the repository (clips fetched to local files)."""
        async with self._lock:
            records = await self.repository.all_exercises()
            exercises, broken = {}, {}
            for record in records:
                if record.clip is None:
                    continue
                try:
                    path = await asyncio.to_thread(self.storage.local_path, record.clip.key)
                except (ClipStorageError, LookupError) as error:
                    log.error("clip of %s is unavailable: %s", record.id, error)
                    continue
                problem = await asyncio.to_thread(self._clip_problem, path)
                if problem is not None:
                    broken[record.id] = problem
                    continue
                exercises[record.id] = runtime_exercise(record, record.clip, path)
            for exercise_id in broken.keys() - self.broken_clips.keys():
                log.error("clip of %s is broken, the exercise is not playable: %s", exercise_id, broken[exercise_id])
            self.broken_clips = broken
            self.snapshot = Catalogue(exercises, self.music)
            return self.snapshot

    def _clip_problem(self, path: Path) -> str | None:
        """Why the clip file cannot be played (None if it can), checked again only when the file changes."""
        try:
            stat = path.stat()
        except OSError as error:
            return f"{path}: {error.strerror}"
        identity = (stat.st_size, stat.st_mtime_ns)
        checked = self._clip_checks.get(str(path))
        if checked is None or checked[0] != identity:
            try:
                check_clip(path)
                checked = (identity, None)
            except ClipProbeError as error:
                checked = (identity, str(error))
            self._clip_checks[str(path)] = checked
        return checked[1]

    async def find(self, query: ExerciseQuery) -> ExercisePage:
        try:
            return await self.repository.find_exercises(query)
        except ConstraintViolation as error:
            raise InvalidExercise([{"loc": ["query"], "msg": str(error), "type": "constraint"}]) from None

    async def get(self, exercise_id: str) -> ExerciseRecord:
        record = await self.repository.get_exercise(exercise_id)
        if record is None:
            raise ExerciseNotFound(f"no exercise {exercise_id!r}")
        return record

    async def create(self, document: object) -> ExerciseRecord:
        fields = exercise_fields(document)
        if await self.repository.get_exercise(fields["id"]) is not None:
            raise ExerciseExists(f"exercise {fields['id']!r} exists already (PUT /api/exercises/{fields['id']})")
        record = ExerciseRecord(**fields)
        await self.repository.put_exercise(record)
        await self.refresh()
        return record

    async def replace(self, exercise_id: str, document: object) -> tuple[ExerciseRecord, bool]:
        """Replace the exercise's fields, keeping its clip; (record, True if it was created)."""
        if isinstance(document, dict):
            document = {"id": exercise_id, **document}
        fields = exercise_fields(document)
        if fields["id"] != exercise_id:
            raise InvalidExercise(
                [{"loc": ["id"], "msg": "the id in the body differs from the one in the URL", "type": "id_mismatch"}]
            )
        existing = await self.repository.get_exercise(exercise_id)
        record = ExerciseRecord(**fields, clip=existing.clip if existing else None)
        created = await self.repository.put_exercise(record)
        await self.refresh()
        return record, created

    async def delete(self, exercise_id: str) -> None:
        """Raises ExerciseInUse (plans name it) or ExerciseNotFound."""
        existing = await self.repository.get_exercise(exercise_id)
        if existing is None or not await self.repository.delete_exercise(exercise_id):
            raise ExerciseNotFound(f"no exercise {exercise_id!r}")
        await self.refresh()
        if existing.clip is not None and existing.clip.key.startswith(UPLOADED_CLIP_PREFIX):
            await asyncio.to_thread(self.storage.delete, existing.clip.key)

    async def attach_clip(self, exercise_id: str, upload: Path, probe: ClipProbe, suffix: str) -> ExerciseRecord:
        """Store a validated upload under a key carrying its content hash (`file_version`, the same hash
        segment keys use) and point the exercise at it.

        The new key means the clip version changes, so every segment key that used the old clip
        changes too and no stale cached segment can be served.
        """
        existing = await self.get(exercise_id)
        version = await asyncio.to_thread(file_version, upload)
        key = clip_key(exercise_id, version, suffix)
        await asyncio.to_thread(self.storage.put, key, upload)
        clip = ClipInfo(
            key=key,
            version=version,
            fps=Fraction(probe.fps),
            frames=probe.frames,
            width=probe.width,
            height=probe.height,
            alpha=probe.alpha,
            codec=probe.codec,
            duration_seconds=probe.duration_seconds,
            size_bytes=probe.size_bytes,
        )
        record = replace(existing, clip=clip)
        await self.repository.put_exercise(record)
        await self.refresh()
        old = existing.clip
        if old is not None and old.key != key and old.key.startswith(UPLOADED_CLIP_PREFIX):
            await asyncio.to_thread(self.storage.delete, old.key)
        return record


__all__ = ["ExerciseCatalogue", "ExerciseExists", "ExerciseInUse", "ExerciseNotFound", "InvalidExercise"]
