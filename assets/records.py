"""Plain data shared by the repository, the clip storage, the generator and the HTTP API.

Kept free of any database or web framework import so every layer can use the same types without pulling
in drivers it does not need.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

DIFFICULTIES = ("beginner", "intermediate", "advanced")
EXERCISE_ID_PATTERN = r"^[a-z0-9][a-z0-9_]{0,63}$"
CATEGORY_ID_PATTERN = r"^[a-z0-9][a-z0-9_]{0,31}$"

# Categories of the generated sample library (assets/library.py); used when loading its catalogue.
SAMPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "squat": ("legs", "strength"),
    "jumping_jack": ("cardio", "full_body"),
    "push_up": ("strength", "upper_body"),
    "lunge": ("legs", "strength"),
    "plank": ("core",),
    "burpee": ("cardio", "full_body"),
    "mountain_climber": ("cardio", "core"),
    "high_knees": ("cardio", "legs"),
    "glute_bridge": ("core", "legs"),
    "crunch": ("core",),
    "calf_raise": ("legs",),
    "knee_push_up": ("strength", "upper_body"),
    "pike_push_up": ("strength", "upper_body"),
    "jump_squat": ("cardio", "legs"),
    "inchworm": ("full_body", "upper_body"),
    "seated_knee_tuck": ("core",),
}
# French names of the sample library: written into its catalogue.json, and used when loading a catalogue.json
# written before names had a French form (migration 0002 gives them to sample rows stored before then).
SAMPLE_FRENCH_NAMES: dict[str, str] = {
    "squat": "Squat",
    "jumping_jack": "Jumping jack",
    "push_up": "Pompe",
    "lunge": "Fente",
    "plank": "Gainage (planche)",
    "burpee": "Burpee",
    "mountain_climber": "Grimpeur",
    "high_knees": "Montées de genoux",
    "glute_bridge": "Pont fessier",
    "crunch": "Crunch",
    "calf_raise": "Montées sur pointes",
    "knee_push_up": "Pompe sur les genoux",
    "pike_push_up": "Pompe piquée",
    "jump_squat": "Squat sauté",
    "inchworm": "Chenille",
    "seated_knee_tuck": "Relevés de genoux assis",
}


@dataclass(frozen=True)
class ClipInfo:
    """Where an exercise's clip is stored and what it contains, so playback needs no re-probe."""

    key: str  # storage key, e.g. "clips/squat/<version>.mp4"
    version: str  # sha256 hex of the clip file's bytes
    fps: Fraction
    frames: int
    width: int
    height: int
    alpha: bool
    codec: str
    duration_seconds: float
    size_bytes: int


@dataclass(frozen=True)
class ExerciseRecord:
    """One exercise of the catalogue; the clip is optional because metadata can exist before the upload."""

    id: str
    name: str  # 1..80 chars
    difficulty: str  # one of DIFFICULTIES
    jump: bool  # True for jumping (high-impact) moves
    categories: tuple[str, ...]  # sorted, distinct category ids, 1..8 of them
    description: str = ""  # 0..500 chars
    clip: ClipInfo | None = None  # None until a clip is uploaded
    name_fr: str | None = None  # 1..80 chars: what French screens draw; None: they draw `name`


@dataclass(frozen=True)
class ExerciseQuery:
    """Filters and paging for catalogue listings."""

    category: str | None = None
    difficulty: str | None = None
    no_jump: bool = False
    text: str | None = None  # case-insensitive substring of name or description
    limit: int = 20  # 1..100
    offset: int = 0


@dataclass(frozen=True)
class ExercisePage:
    """One page of a listing plus the total, so clients can paginate without a second query."""

    items: tuple[ExerciseRecord, ...]  # ordered by name, then id
    total: int  # matches before limit/offset


class ExerciseInUse(Exception):
    """Deleting the exercise was refused because saved plans still refer to it (the API answers 409)."""

    def __init__(self, exercise_id: str, plans: int) -> None:
        super().__init__(f"exercise {exercise_id!r} is used by {plans} plan(s)")
        self.exercise_id = exercise_id
        self.plans = plans
