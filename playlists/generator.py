"""Generate a workout plan from a short wish: how long, how hard, which body parts, what to avoid.

Pure: it gets the exercise records and returns a plan document plus the reasons for it, so the
same request and library always give the same workout (the seed is the only source of variety)
and the HTTP layer only has to fetch the records and store the result.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from assets.records import CATEGORY_ID_PATTERN, DIFFICULTIES, ExerciseRecord
from playlists.plan import (
    DEFAULT_INTENSITY,
    INTRO_SECONDS,
    MAX_ITEMS,
    MAX_PLAN_SECONDS,
    MAX_ROUNDS,
    OUTRO_SECONDS,
    Intensity,
    Plan,
)
from playlists.request_text import parse_request_text

Difficulty = Literal["beginner", "intermediate", "advanced"]
"""The levels of `assets.records.DIFFICULTIES`, easiest first."""

MIN_DURATION_MINUTES = 5
MAX_DURATION_MINUTES = 240
MAX_FOCUS_CATEGORIES = 8
MAX_TEXT_CHARS = 300
MAX_SEED = 2**31 - 1

MIN_TOLERANCE_SECONDS = 30
TOLERANCE_FRACTION = 0.05
"""A generated workout lasts within max(30 s, 5 %) of the length asked for, intro and outro included."""

MIN_ROUND_REST_SECONDS = 30
MAX_ROUND_REST_SECONDS = 120
ROUND_REST_STEP_SECONDS = 5
"""The rest between rounds is the knob that fine-tunes the length; kept to whole 5 s so the timer reads naturally."""

REPEAT_COST = 0.5
ROUND_REST_SECONDS_PER_COST_UNIT = 60
ERROR_SECONDS_PER_COST_UNIT = 30
"""Choosing the shape: each exercise more or fewer than the format's round size costs 1; so does each
minute the between-round rests add up to beyond (or short of) the format's, since that changes how much
of the workout is work, and each 30 s away from the asked length. A repeat within a round costs 0.5:
distinct exercises are nicer, but alternating two moves is still a proper workout (classic Tabata does it)."""


@dataclass(frozen=True)
class IntervalFormat:
    """Work/rest timing for one intensity, and the round shape it is built around."""

    name: str
    work_seconds: int
    rest_seconds: int
    round_rest_seconds: int
    items_per_round: int
    reason: str


FORMATS: dict[Intensity, IntervalFormat] = {
    "low": IntervalFormat(
        name="steady intervals",
        work_seconds=30,
        rest_seconds=30,
        round_rest_seconds=90,
        items_per_round=6,
        reason="equal work and rest keeps the heart rate moderate and leaves time to reset good form",
    ),
    "medium": IntervalFormat(
        name="circuit",
        work_seconds=40,
        rest_seconds=20,
        round_rest_seconds=60,
        items_per_round=8,
        reason="two parts work to one part rest is the classic circuit pace: demanding but sustainable",
    ),
    "high": IntervalFormat(
        name="Tabata",
        work_seconds=20,
        rest_seconds=10,
        round_rest_seconds=60,
        items_per_round=8,
        reason="Tabata timing (blocks of eight 20 s all-out efforts with 10 s recoveries) keeps the effort near maximum",
    ),
}
"""Timing per intensity. The plan's intensity also sets the clip speed (see `playlists.plan.INTENSITY_SPEED`)."""

CategoryId = Annotated[str, StringConstraints(pattern=CATEGORY_ID_PATTERN)]


class GenerateRequest(BaseModel):
    """The body of POST /api/generate-training. Explicit fields win over what `text` says."""

    model_config = ConfigDict(extra="forbid", strict=True)

    duration_minutes: int | None = Field(default=None, ge=MIN_DURATION_MINUTES, le=MAX_DURATION_MINUTES)
    intensity: Intensity | None = None
    focus: list[CategoryId] = Field(default_factory=list, max_length=MAX_FOCUS_CATEGORIES)
    """Categories to draw from (any of them); an empty list leaves the choice to the text, else all."""
    no_jump: bool | None = None
    no_repeat: bool | None = None
    difficulty: Difficulty | None = None
    """Hardest level allowed; easier exercises are allowed too."""
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    """Free text such as "20 min low-impact legs, beginner" (see `playlists.request_text`)."""

    @model_validator(mode="after")
    def _length_stated_somewhere(self) -> GenerateRequest:
        if self.duration_minutes is None and not self.text:
            raise ValueError("give duration_minutes, or a text that says how long (e.g. '20 min')")
        return self


class CannotGenerate(ValueError):
    """The request is well formed but no workout satisfies it (the API answers 422 with this reason)."""


@dataclass(frozen=True)
class Generated:
    """A generated workout with its reasons, so the coach app can show why it looks the way it does."""

    plan: dict
    """A valid `Plan` document: items (exercise id, work, rest), rounds, between-round rest, intensity."""
    explanation: list[str]
    """Short sentences: what the text was read as, the format and why, the filters, the exercises."""
    duration_seconds: int
    """What the plan lasts, intro and outro included (equal to `compile_plan(plan).duration`)."""


@dataclass(frozen=True)
class Wish:
    """The request with its text folded in: what the workout must be."""

    duration_minutes: int
    intensity: Intensity
    intensity_source: str  # "request", "text" or "default"
    focus: tuple[str, ...]
    no_jump: bool
    no_repeat: bool
    difficulty: Difficulty | None
    seed: int
    from_text: dict | None
    """`parse_request_text` output; None when the request had no text."""
    overridden: tuple[tuple[str, object, object], ...]
    """(field, request value, text value) where the explicit field disagreed with the text and won."""


@dataclass(frozen=True)
class RoundShape:
    """How the workout is laid out in time, before any exercise is chosen."""

    rounds: int
    items_per_round: int
    round_rest_seconds: int
    total_seconds: int


def resolve_request(request: GenerateRequest, known_categories: set[str]) -> Wish:
    """Fold the text into the explicit fields (which win); raise CannotGenerate when no length is known."""
    from_text = parse_request_text(request.text, known_categories) if request.text else None
    said = from_text or {}
    explicit: dict[str, object] = {
        "duration_minutes": request.duration_minutes,
        "intensity": request.intensity,
        "focus": list(request.focus) or None,
        "no_jump": request.no_jump,
        "no_repeat": request.no_repeat,
        "difficulty": request.difficulty,
    }
    chosen = {field: said.get(field) if value is None else value for field, value in explicit.items()}
    overridden = tuple(
        (field, explicit[field], said[field])
        for field in explicit
        if field in said and explicit[field] is not None and explicit[field] != said[field]
    )
    minutes = chosen["duration_minutes"]
    if minutes is None:
        raise CannotGenerate("the text does not say how long the workout should be; give duration_minutes")
    if not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        raise CannotGenerate(
            f"the text asks for {minutes} min; between {MIN_DURATION_MINUTES} and {MAX_DURATION_MINUTES} are possible"
        )
    if request.intensity is not None:
        intensity, source = request.intensity, "request"
    elif "intensity" in said:
        intensity, source = said["intensity"], "text"
    else:
        intensity, source = DEFAULT_INTENSITY, "default"
    return Wish(
        duration_minutes=minutes,
        intensity=intensity,
        intensity_source=source,
        focus=tuple(dict.fromkeys(chosen["focus"] or ())),
        no_jump=bool(chosen["no_jump"]),
        no_repeat=bool(chosen["no_repeat"]),
        difficulty=chosen["difficulty"],
        seed=request.seed,
        from_text=from_text,
        overridden=overridden,
    )


def matching_exercises(wish: Wish, exercises: list[ExerciseRecord]) -> list[ExerciseRecord]:
    """Exercises with a clip that pass the focus, no-jump and difficulty filters, ordered by id."""
    hardest = DIFFICULTIES.index(wish.difficulty) if wish.difficulty else len(DIFFICULTIES) - 1
    return sorted(
        (
            exercise
            for exercise in exercises
            if exercise.clip is not None
            and (not wish.focus or any(category in exercise.categories for category in wish.focus))
            and not (wish.no_jump and exercise.jump)
            and exercise.difficulty in DIFFICULTIES[: hardest + 1]
        ),
        key=lambda exercise: exercise.id,
    )


def tolerance_seconds(target_seconds: int) -> float:
    return max(MIN_TOLERANCE_SECONDS, TOLERANCE_FRACTION * target_seconds)


def workout_seconds(fmt: IntervalFormat, rounds: int, items_per_round: int, round_rest_seconds: int) -> int:
    """Length of a plan of this shape: the arithmetic of `Plan.total_seconds` for uniform items."""
    one_round = items_per_round * fmt.work_seconds + (items_per_round - 1) * fmt.rest_seconds
    return INTRO_SECONDS + rounds * one_round + (rounds - 1) * round_rest_seconds + OUTRO_SECONDS


def fit_rounds(fmt: IntervalFormat, target_seconds: int, max_items_per_round: int, distinct: int) -> RoundShape:
    """The rounds × items shape (and between-round rest) that lasts within tolerance of the target and
    is closest to the format's preferred shape; CannotGenerate, naming the closest possible length, if none."""
    tolerance = tolerance_seconds(target_seconds)
    cap = min(MAX_ITEMS, max_items_per_round)
    best: tuple[float, int, int, int] | None = None
    for rounds in range(1, MAX_ROUNDS + 1):
        for items in _item_counts_near(fmt, target_seconds, tolerance, rounds, cap):
            for rest in _round_rests(fmt, target_seconds, rounds, items):
                total = workout_seconds(fmt, rounds, items, rest)
                error = total - target_seconds
                if abs(error) > tolerance or total > MAX_PLAN_SECONDS:
                    continue
                cost = abs(items - fmt.items_per_round) + REPEAT_COST * max(0, items - distinct)
                cost += (rounds - 1) * abs(rest - fmt.round_rest_seconds) / ROUND_REST_SECONDS_PER_COST_UNIT
                cost += abs(error) / ERROR_SECONDS_PER_COST_UNIT
                candidate = (cost, rounds, items, rest)
                if best is None or candidate < best:
                    best = candidate
    if best is None:
        closest = _closest_possible_seconds(fmt, target_seconds, cap)
        raise CannotGenerate(
            f"no {fmt.name} workout with at most {cap} exercise(s) per round lasts about "
            f"{_minutes_text(target_seconds)}; the closest possible is {_minutes_text(closest)}"
        )
    _, rounds, items, rest = best
    return RoundShape(rounds, items, rest, workout_seconds(fmt, rounds, items, rest))


def _item_counts_near(fmt: IntervalFormat, target: int, tolerance: float, rounds: int, cap: int) -> range:
    """Items per round that can land within tolerance for some allowed between-round rest (prunes the search)."""
    interval = fmt.work_seconds + fmt.rest_seconds
    fixed = INTRO_SECONDS + OUTRO_SECONDS - rounds * fmt.rest_seconds
    low = target - tolerance - fixed - (rounds - 1) * MAX_ROUND_REST_SECONDS
    high = target + tolerance - fixed - (rounds - 1) * MIN_ROUND_REST_SECONDS
    return range(max(1, math.ceil(low / (rounds * interval))), min(cap, math.floor(high / (rounds * interval))) + 1)


def _round_rests(fmt: IntervalFormat, target: int, rounds: int, items: int) -> list[int]:
    """Between-round rests worth trying: the allowed steps just below and above the one that hits the target."""
    if rounds == 1:
        return [fmt.round_rest_seconds]  # never played; spelled out so the plan keeps it if rounds are added
    ideal = (target - workout_seconds(fmt, rounds, items, 0)) / (rounds - 1)
    step = ROUND_REST_STEP_SECONDS
    below, above = math.floor(ideal / step) * step, math.ceil(ideal / step) * step
    return sorted({min(MAX_ROUND_REST_SECONDS, max(MIN_ROUND_REST_SECONDS, rest)) for rest in (below, above)})


def _closest_possible_seconds(fmt: IntervalFormat, target: int, cap: int) -> int:
    lengths = (
        workout_seconds(fmt, rounds, items, rest)
        for rounds in range(1, MAX_ROUNDS + 1)
        for items in range(1, cap + 1)
        for rest in (MIN_ROUND_REST_SECONDS, MAX_ROUND_REST_SECONDS)
    )
    return min((length for length in lengths if length <= MAX_PLAN_SECONDS), key=lambda length: abs(length - target))


def pick_exercises(
    candidates: list[ExerciseRecord], count: int, focus: tuple[str, ...], rng: random.Random
) -> list[ExerciseRecord]:
    """`count` exercises for one round: categories take turns (each focus category, or else each
    exercise's first category), the order within and between categories drawn from `rng`.

    Exercises repeat only when count exceeds the candidates, and then cycle through all of them, so
    with two or more an exercise never directly follows itself within a round.
    """
    groups: dict[str, list[ExerciseRecord]] = {}
    for exercise in sorted(candidates, key=lambda exercise: exercise.id):
        key = next((category for category in focus if category in exercise.categories), None)
        key = key or (exercise.categories[0] if exercise.categories else "")
        groups.setdefault(key, []).append(exercise)
    order = sorted(groups)
    rng.shuffle(order)
    for key in order:
        rng.shuffle(groups[key])
    sequence = [
        groups[key][turn] for turn in range(max(map(len, groups.values()))) for key in order if turn < len(groups[key])
    ]
    full_cycles, extra = divmod(count, len(sequence))
    return sequence * full_cycles + sequence[:extra]


def generate(request: GenerateRequest, exercises: list[ExerciseRecord]) -> Generated:
    """A plan for `request` drawn from `exercises`, with the reasons; CannotGenerate when none fits."""
    known_categories = {category for exercise in exercises for category in exercise.categories}
    wish = resolve_request(request, known_categories)
    with_clip = sum(1 for exercise in exercises if exercise.clip is not None)
    candidates = matching_exercises(wish, exercises)
    if not candidates:
        raise CannotGenerate(f"no exercise with a clip matches: {_filters_text(wish)}")

    fmt = FORMATS[wish.intensity]
    target = wish.duration_minutes * 60
    try:
        shape = fit_rounds(fmt, target, len(candidates) if wish.no_repeat else MAX_ITEMS, len(candidates))
    except CannotGenerate as error:
        if not wish.no_repeat:
            raise
        raise CannotGenerate(
            f"with no repeats, rounds hold at most the {len(candidates)} matching exercise(s): {error}; "
            "allow repeats, widen the filters or ask for a different length"
        ) from error
    chosen = pick_exercises(candidates, shape.items_per_round, wish.focus, random.Random(wish.seed))
    document = {
        "items": [
            {"exercise_id": exercise.id, "work_seconds": fmt.work_seconds, "rest_seconds": fmt.rest_seconds}
            for exercise in chosen
        ],
        "rounds": shape.rounds,
        "rest_between_rounds_seconds": shape.round_rest_seconds,
        "intensity": wish.intensity,
    }
    duration = Plan.model_validate(document).total_seconds()
    explanation = [
        *_text_sentences(wish),
        _format_sentence(wish, fmt),
        _shape_sentence(shape, duration, target),
        f"Drew from {len(candidates)} of {with_clip} exercises with a clip ({_filters_text(wish)}).",
        *_exercise_sentences(wish, chosen, len(candidates)),
    ]
    return Generated(plan=document, explanation=explanation, duration_seconds=duration)


def _minutes_text(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _wish_terms(fields: dict) -> list[str]:
    """Fields as short phrases, in a fixed order, for the explanation."""
    terms = []
    if "duration_minutes" in fields:
        terms.append(f"{fields['duration_minutes']} min")
    if "intensity" in fields:
        terms.append(f"{fields['intensity']} intensity")
    if fields.get("focus"):
        terms.append("focus " + " or ".join(fields["focus"]))
    if fields.get("no_jump"):
        terms.append("no jumping")
    if fields.get("no_repeat"):
        terms.append("no repeats within a round")
    if fields.get("difficulty"):
        terms.append(f"{fields['difficulty']} level")
    return terms


def _text_sentences(wish: Wish) -> list[str]:
    if wish.from_text is None:
        return []
    if not wish.from_text:
        return ["Nothing in the text was recognised."]
    sentences = [f"From the text: {', '.join(_wish_terms(wish.from_text))}."]
    for field, asked, said in wish.overridden:
        sentences.append(
            f"The request's {field} ({_value_text(asked)}) was used instead of the text's ({_value_text(said)})."
        )
    return sentences


def _value_text(value: object) -> str:
    return " or ".join(value) if isinstance(value, list) else str(value)


def _format_sentence(wish: Wish, fmt: IntervalFormat) -> str:
    source = {"request": "", "text": " (from the text)", "default": " (the default)"}[wish.intensity_source]
    return (
        f"Format: {fmt.name}, {fmt.work_seconds} s work / {fmt.rest_seconds} s rest for "
        f"{wish.intensity} intensity{source}, because {fmt.reason}."
    )


def _shape_sentence(shape: RoundShape, duration: int, target: int) -> str:
    rounds = "1 round" if shape.rounds == 1 else f"{shape.rounds} rounds"
    between = f" with {shape.round_rest_seconds} s rest between rounds" if shape.rounds > 1 else ""
    return (
        f"{rounds} of {shape.items_per_round} exercise(s){between}: {_minutes_text(duration)} including the "
        f"{INTRO_SECONDS} s intro and {OUTRO_SECONDS} s outro, for {_minutes_text(target)} asked."
    )


def _filters_text(wish: Wish) -> str:
    filters = []
    if wish.focus:
        filters.append("in " + " or ".join(wish.focus))
    if wish.no_jump:
        filters.append("no jumping moves")
    if wish.difficulty == DIFFICULTIES[0]:
        filters.append(f"{wish.difficulty} level")
    elif wish.difficulty:
        filters.append(f"{wish.difficulty} level or easier")
    return ", ".join(filters) if filters else "no filters"


def _exercise_sentences(wish: Wish, chosen: list[ExerciseRecord], available: int) -> list[str]:
    names = ", ".join(dict.fromkeys(exercise.name for exercise in chosen))
    sentences = [f"Exercises: {names}; categories take turns and the order is drawn with seed {wish.seed}."]
    if len(chosen) > available:
        sentences.append(
            f"Only {available} exercise(s) match, so some appear more than once per round "
            "(set no_repeat to get more, shorter rounds instead)."
        )
    elif wish.no_repeat:
        sentences.append("No repeats: each exercise appears at most once per round.")
    return sentences
