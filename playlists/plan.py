"""The workout plan as posted by the coach app, its canonical form and its id.

The JSON field names are the public API. Validation rejects unknown fields and
impossible values so that every accepted plan compiles to a playable timeline.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from playlists.media import DEFAULT_SEGMENT_SECONDS, MAX_SEGMENT_SECONDS, MIN_SEGMENT_SECONDS

Intensity = Literal["low", "medium", "high"]
Language = Literal["en", "fr"]
"""The language of every burned-in text (captions, counters, exercise names)."""
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "en"

INTENSITY_SPEED: dict[str, Fraction] = {
    "low": Fraction(4, 5),
    "medium": Fraction(1),
    "high": Fraction(5, 4),
}
"""Playback speed of the exercise clips for each intensity (the interval keeps its length)."""

DEFAULT_INTENSITY: Intensity = "medium"
MIN_SPEED = 0.5
MAX_SPEED = 2.0
INTRO_SECONDS = 3
"""The "Get ready" 3-2-1 before the first exercise."""
OUTRO_SECONDS = 4
"""The "Workout complete" card after the last one."""
MAX_INTERVAL_SECONDS = 3600
MAX_ITEMS = 200
MAX_ROUNDS = 20
MAX_PLAN_SECONDS = 4 * 3600
EXERCISE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
MAX_ID_CHARS = 64
"""The pattern's own bound, stated again so the JSON schema (OpenAPI) shows it as maxLength."""
PLAN_ID_HEX_DIGITS = 20


class PlanItem(BaseModel):
    """One exercise: its work interval and the rest that follows it."""

    model_config = ConfigDict(extra="forbid")

    exercise_id: str = Field(max_length=MAX_ID_CHARS, pattern=EXERCISE_ID_PATTERN)
    work_seconds: int = Field(ge=1, le=MAX_INTERVAL_SECONDS)
    rest_seconds: int = Field(default=0, ge=0, le=MAX_INTERVAL_SECONDS)
    speed: float | None = Field(default=None, ge=MIN_SPEED, le=MAX_SPEED)
    """Overrides the plan's speed for this exercise."""


class Plan(BaseModel):
    """A workout: items repeated for `rounds`, at one intensity or explicit speed."""

    model_config = ConfigDict(extra="forbid")

    items: list[PlanItem] = Field(min_length=1, max_length=MAX_ITEMS)
    rounds: int = Field(default=1, ge=1, le=MAX_ROUNDS)
    rest_between_rounds_seconds: int | None = Field(default=None, ge=0, le=MAX_INTERVAL_SECONDS)
    intensity: Intensity | None = None
    speed: float | None = Field(default=None, ge=MIN_SPEED, le=MAX_SPEED)
    music: str | None = Field(default=None, max_length=MAX_ID_CHARS, pattern=EXERCISE_ID_PATTERN)
    """Id of a background music track from the assets, looped under the cues; none by default."""
    segment_seconds: float = Field(default=DEFAULT_SEGMENT_SECONDS, ge=MIN_SEGMENT_SECONDS, le=MAX_SEGMENT_SECONDS)
    language: Language = Field(
        default=DEFAULT_LANGUAGE, description="Language of the burned-in text: English (default) or French."
    )

    @model_serializer(mode="wrap")
    def _default_language_unwritten(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Plans posted before plans had a language are stored, and their segments cached, under an id
        # hashed from a canonical form without this field: English stays unwritten so those ids (and the
        # plan documents) stay what they were, and "en" spelled out gets the same id as left out.
        document = handler(self)
        if document.get("language") == DEFAULT_LANGUAGE:
            del document["language"]
        return document

    @model_validator(mode="after")
    def _one_speed_source(self) -> Plan:
        if self.intensity is not None and self.speed is not None:
            raise ValueError("give either 'intensity' or 'speed', not both")
        if self.intensity is None and self.speed is None:
            self.intensity = DEFAULT_INTENSITY
        return self

    @model_validator(mode="after")
    def _explicit_round_rest(self) -> Plan:
        # Unset means "the last exercise's own rest", resolved here so the
        # canonical form (and so the plan id) spells out what will be played.
        if self.rest_between_rounds_seconds is None:
            self.rest_between_rounds_seconds = self.items[-1].rest_seconds
        return self

    @model_validator(mode="after")
    def _bounded_length(self) -> Plan:
        if self.total_seconds() > MAX_PLAN_SECONDS:
            raise ValueError(f"the plan lasts {self.total_seconds()} s; at most {MAX_PLAN_SECONDS} s is allowed")
        return self

    def playback_speed(self, item: PlanItem | None = None) -> Fraction:
        """Exact clip speed of `item` (or of the plan): explicit speeds are taken as the decimal written."""
        if item is not None and item.speed is not None:
            return Fraction(repr(item.speed))
        if self.speed is not None:
            return Fraction(repr(self.speed))
        return INTENSITY_SPEED[self.intensity or DEFAULT_INTENSITY]

    def total_seconds(self) -> int:
        """Length of the whole workout: the same arithmetic as `playlists.timeline.compile_plan`.

        A "Get ready" intro, then the rounds: within a round every exercise but
        the last is followed by its own rest, rounds are separated by the
        between-rounds rest; then the "Workout complete" card.
        """
        work = sum(item.work_seconds for item in self.items)
        inner_rest = sum(item.rest_seconds for item in self.items[:-1])
        between = self.rest_between_rounds_seconds or 0  # resolved by the validator
        rounds = self.rounds * (work + inner_rest) + (self.rounds - 1) * between
        return INTRO_SECONDS + rounds + OUTRO_SECONDS

    def exercise_ids(self) -> list[str]:
        return [item.exercise_id for item in self.items]


def canonical_json(plan: Plan) -> str:
    """One spelling per plan: defaults filled in (except the default language), keys sorted, no whitespace."""
    return json.dumps(plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


def plan_id(plan: Plan) -> str:
    """Content hash of the canonical form: the same plan always gets the same id."""
    digest = hashlib.sha256(canonical_json(plan).encode("utf-8")).hexdigest()
    return digest[:PLAN_ID_HEX_DIGITS]
