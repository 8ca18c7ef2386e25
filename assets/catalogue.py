"""The exercise catalogue: what each exercise is called and which clip shows it.

Stored as `catalogue.json` next to the clips (written by `assets.samples`);
the PostgreSQL catalogue of a later issue implements the same lookups.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

CATALOGUE_FILE = "catalogue.json"


DIGEST_CHUNK = 1 << 20


@functools.lru_cache(maxsize=1024)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(DIGEST_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()[:20]


def file_version(path: Path) -> str:
    """Content hash of a media file: the same on every node that holds the same bytes, so
    segment cache keys agree across nodes; re-hashed only when size or mtime change.
    Raises OSError when the file is gone."""
    stat = path.stat()
    return _digest(str(path), stat.st_size, stat.st_mtime_ns)


class UnknownExercise(LookupError):
    """No exercise with that id in the catalogue."""


class CatalogueError(ValueError):
    """The catalogue file is missing or malformed."""


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    category: str
    difficulty: str
    jump: bool
    clip_path: Path
    loop_seconds: float
    fps: Fraction
    frames: int
    width: int
    height: int
    alpha: bool
    codec: str
    name_fr: str | None = None
    """The French name French screens draw; None: they draw `name`."""

    def public(self) -> dict[str, object]:
        """The API view: no server paths."""
        return {
            "id": self.id,
            "name": self.name,
            "name_fr": self.name_fr,
            "category": self.category,
            "difficulty": self.difficulty,
            "jump": self.jump,
            "loop_seconds": self.loop_seconds,
            "clip": {
                "fps": str(self.fps),
                "frames": self.frames,
                "width": self.width,
                "height": self.height,
                "alpha": self.alpha,
                "codec": self.codec,
            },
        }

    def clip_version(self) -> str:
        return file_version(self.clip_path)


@dataclass(frozen=True)
class MusicTrack:
    """A background music loop that plans may name (`"music": "<id>"`)."""

    id: str
    name: str
    path: Path
    loop_seconds: float

    def public(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "loop_seconds": self.loop_seconds}

    def version(self) -> str:
        return file_version(self.path)


@dataclass(frozen=True)
class Catalogue:
    exercises: dict[str, Exercise]
    music: dict[str, MusicTrack] = field(default_factory=dict)

    def get(self, exercise_id: str) -> Exercise:
        try:
            return self.exercises[exercise_id]
        except KeyError:
            raise UnknownExercise(exercise_id) from None

    def __contains__(self, exercise_id: object) -> bool:
        return exercise_id in self.exercises

    def list(self) -> list[Exercise]:
        return sorted(self.exercises.values(), key=lambda e: e.name)


def exercise_from_entry(entry: dict, clips_dir: Path) -> Exercise:
    try:
        name_fr = entry.get("name_fr")  # absent from catalogues written before names had a French form
        return Exercise(
            id=str(entry["id"]),
            name=str(entry["name"]),
            category=str(entry["category"]),
            difficulty=str(entry["difficulty"]),
            jump=bool(entry["jump"]),
            clip_path=clips_dir / entry["clip"],
            loop_seconds=float(entry["loop_seconds"]),
            fps=Fraction(entry["fps"]),
            frames=int(entry["frames"]),
            width=int(entry["width"]),
            height=int(entry["height"]),
            alpha=bool(entry["alpha"]),
            codec=str(entry["codec"]),
            name_fr=None if name_fr is None else str(name_fr),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise CatalogueError(f"bad catalogue entry {entry!r}: {error}") from error


def load_catalogue(clips_dir: Path) -> Catalogue:
    path = clips_dir / CATALOGUE_FILE
    try:
        document = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CatalogueError(f"cannot read {path}: {error}") from error
    exercises = [exercise_from_entry(entry, clips_dir) for entry in document.get("exercises", [])]
    try:
        music = [
            MusicTrack(str(e["id"]), str(e["name"]), clips_dir / e["file"], float(e["loop_seconds"]))
            for e in document.get("music", [])
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise CatalogueError(f"bad music entry in {path}: {error}") from error
    return Catalogue({e.id: e for e in exercises}, {track.id: track for track in music})


def write_catalogue(clips_dir: Path, entries: list[dict], music: list[dict] | None = None) -> Path:
    """Write `catalogue.json` (``{"exercises": [...], "music": [...]}``) next to the clips, atomically."""
    path = clips_dir / CATALOGUE_FILE
    partial = path.with_name(f".{CATALOGUE_FILE}.{os.getpid()}.partial")
    partial.write_text(json.dumps({"exercises": entries, "music": music or []}, indent=2) + "\n")
    os.replace(partial, path)
    return path
