"""Generate a workout plan from a short wish: how long, how hard, which body parts, what to avoid.

Pure: it gets the exercise records and returns a plan document plus the reasons for it, so the
same request and library always give the same workout (the seed is the only source of variety)
and the HTTP layer only has to fetch the records and store the result.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from assets.records import CATEGORY_ID_PATTERN, DIFFICULTIES, ExerciseRecord
from playlists.plan import (
    DEFAULT_INTENSITY,
    DEFAULT_LANGUAGE,
    INTRO_SECONDS,
    MAX_ITEMS,
    MAX_PLAN_SECONDS,
    MAX_ROUNDS,
    OUTRO_SECONDS,
    Intensity,
    Language,
    Plan,
)
from playlists.request_text import CatalogueTerms, ReadText, parse_request_text, text_language

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
    """Work/rest timing, the round shape it is built around, and its standard length."""

    name: str
    work_seconds: int
    rest_seconds: int
    round_rest_seconds: int
    items_per_round: int
    reason: str
    default_rounds: int
    """Rounds of `items_per_round` in the standard workout of this format (the length when none is asked)."""
    default_intensity: Intensity = DEFAULT_INTENSITY
    """The plan's intensity (clip speed) when this format is asked for by name and no intensity is."""
    round_rest_range: tuple[int, int] = (MIN_ROUND_REST_SECONDS, MAX_ROUND_REST_SECONDS)
    """Allowed rests between rounds; a single value pins it (EMOM keeps its one-minute grid)."""
    items_weight: float = 1.0
    """Cost of each exercise per round more or fewer than `items_per_round` (see ROUND_REST_SECONDS_PER_COST_UNIT)."""

    def standard_seconds(self) -> int:
        """What the standard workout of this format lasts, intro and outro included."""
        return workout_seconds(self, self.default_rounds, self.items_per_round, self.round_rest_seconds)


TABATA_BLOCK_WEIGHT = 4.0
"""A Tabata block is eight efforts: changing the count costs four times what it costs in other formats, so the
between-block rest absorbs the length first."""

STEADY = IntervalFormat(
    name="steady intervals",
    work_seconds=30,
    rest_seconds=30,
    round_rest_seconds=90,
    items_per_round=6,
    reason="equal work and rest keeps the heart rate moderate and leaves time to reset good form",
    default_rounds=3,
    default_intensity="low",
)
CIRCUIT = IntervalFormat(
    name="circuit",
    work_seconds=40,
    rest_seconds=20,
    round_rest_seconds=60,
    items_per_round=8,
    reason="two parts work to one part rest is the classic circuit pace: demanding but sustainable",
    default_rounds=3,
)
TABATA = IntervalFormat(
    name="Tabata",
    work_seconds=20,
    rest_seconds=10,
    round_rest_seconds=60,
    items_per_round=8,
    reason="Tabata timing (blocks of eight 20 s all-out efforts with 10 s recoveries) keeps the effort near maximum",
    default_rounds=4,
    default_intensity="high",
    items_weight=TABATA_BLOCK_WEIGHT,
)
EMOM = IntervalFormat(
    name="EMOM",
    work_seconds=40,
    rest_seconds=20,
    round_rest_seconds=20,
    items_per_round=5,
    reason="starting one exercise every minute on the minute (40 s work, the rest of the minute to recover) "
    "keeps a steady, self-timed pace",
    default_rounds=4,
    round_rest_range=(20, 20),
)
HIIT = IntervalFormat(
    name="HIIT",
    work_seconds=30,
    rest_seconds=15,
    round_rest_seconds=60,
    items_per_round=6,
    reason="short 30 s hard efforts on 15 s recoveries (2:1 work to rest) push the heart rate up while form holds",
    default_rounds=4,
    default_intensity="high",
)

FORMATS: dict[Intensity, IntervalFormat] = {"low": STEADY, "medium": CIRCUIT, "high": TABATA}
"""The format for each intensity when the request names none. The plan's intensity also sets the clip speed
(see `playlists.plan.INTENSITY_SPEED`)."""

TEXT_FORMATS: dict[str, IntervalFormat] = {"tabata": TABATA, "emom": EMOM, "hiit": HIIT, "circuit": CIRCUIT}
"""Formats a text may name (see `playlists.vocabulary.FORMAT_WORDS`); each has a standard length, used when
no length is asked: Tabata 4 blocks (18 min 27 s), EMOM 20 minutes (19 min 47 s), HIIT 4 rounds of 6
(20 min 7 s), circuit 3 rounds of 8 (25 min 7 s), intro and outro included."""

MIN_VARIETY = 3
"""A level read from the text is widened (one level at a time) until at least this many exercises match,
so a beginner with a small catalogue gets a few moves to alternate rather than one move repeated."""

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
    """Free text in English or French, e.g. "20 min low-impact legs, beginner", "Tabata abdos" (see
    `playlists.request_text`)."""
    language: Language | None = None
    """The plan's on-screen language; by default the text's own (a French request gets French screens),
    else English."""

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

    target_seconds: int
    duration_source: str  # "request", "text" or "format" (the format's standard length)
    format: IntervalFormat
    format_source: str  # "text" (named there) or "intensity"
    intensity: Intensity
    intensity_source: str  # "request", "text", "format" or "default"
    focus: tuple[str, ...]
    no_jump: bool
    no_repeat: bool
    difficulty: Difficulty | None
    difficulty_source: str | None  # "request" (a hard limit) or "text" (widened when too few match)
    exclude: tuple[str, ...]
    seed: int
    from_text: ReadText | None
    """`parse_request_text` output; None when the request had no text."""
    overridden: tuple[tuple[str, object, object], ...]
    """(field, request value, text value) where the explicit field disagreed with the text and won."""


@dataclass(frozen=True)
class Selection:
    """The exercises a workout may use, and how far the level had to be widened to find them."""

    candidates: list[ExerciseRecord]
    level: Difficulty | None
    """The hardest level drawn from (the asked one unless widened)."""
    widened_from: tuple[ExerciseRecord, ...] | None = None
    """The exercises of the asked level when it was widened, else None."""


@dataclass(frozen=True)
class RoundShape:
    """How the workout is laid out in time, before any exercise is chosen."""

    rounds: int
    items_per_round: int
    round_rest_seconds: int
    total_seconds: int


def catalogue_terms(exercises: list[ExerciseRecord]) -> CatalogueTerms:
    """The catalogue's categories and exercise names, which the text is read against."""
    return CatalogueTerms.of(
        (category for exercise in exercises for category in exercise.categories),
        {exercise.id: exercise.name for exercise in exercises},
        {exercise.id: (exercise.name_fr,) for exercise in exercises if exercise.name_fr},
    )


def resolve_request(request: GenerateRequest, terms: CatalogueTerms) -> Wish:
    """Fold the text into the explicit fields (which win); raise CannotGenerate when no length is known."""
    from_text = parse_request_text(request.text, terms) if request.text else None
    said = from_text.fields if from_text else {}
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
    named_format = said.get("format")
    fmt_by_name = TEXT_FORMATS[named_format] if named_format else None
    intensity, intensity_source = _resolve_intensity(request, said, fmt_by_name)
    fmt = fmt_by_name or FORMATS[intensity]
    target_seconds, duration_source = _resolve_length(request, chosen["duration_minutes"], fmt_by_name)
    return Wish(
        target_seconds=target_seconds,
        duration_source=duration_source,
        format=fmt,
        format_source="text" if fmt_by_name else "intensity",
        intensity=intensity,
        intensity_source=intensity_source,
        focus=tuple(dict.fromkeys(chosen["focus"] or ())),
        no_jump=bool(chosen["no_jump"]),
        no_repeat=bool(chosen["no_repeat"]),
        difficulty=chosen["difficulty"],
        difficulty_source=None if chosen["difficulty"] is None else "request" if request.difficulty else "text",
        exclude=tuple(said.get("exclude", ())),
        seed=request.seed,
        from_text=from_text,
        overridden=overridden,
    )


def _resolve_intensity(
    request: GenerateRequest, said: dict, fmt_by_name: IntervalFormat | None
) -> tuple[Intensity, str]:
    """The request's intensity, else the text's, else the named format's usual one, else the default."""
    if request.intensity is not None:
        return request.intensity, "request"
    if "intensity" in said:
        return said["intensity"], "text"
    if fmt_by_name is not None:
        return fmt_by_name.default_intensity, "format"
    return DEFAULT_INTENSITY, "default"


def _resolve_length(
    request: GenerateRequest, minutes: int | None, fmt_by_name: IntervalFormat | None
) -> tuple[int, str]:
    """Target seconds and where they come from: asked minutes, or the standard length of a named format."""
    if minutes is None:
        if fmt_by_name is not None:
            return fmt_by_name.standard_seconds(), "format"
        raise CannotGenerate(
            "the text does not say how long the workout should be; give duration_minutes, or name a format "
            "with a standard length (" + ", ".join(fmt.name for fmt in TEXT_FORMATS.values()) + ")"
        )
    if not MIN_DURATION_MINUTES <= minutes <= MAX_DURATION_MINUTES:
        raise CannotGenerate(
            f"the text asks for {minutes} min; between {MIN_DURATION_MINUTES} and {MAX_DURATION_MINUTES} are possible"
        )
    return minutes * 60, "request" if request.duration_minutes is not None else "text"


def matching_exercises(
    wish: Wish, exercises: list[ExerciseRecord], level: Difficulty | None = None
) -> list[ExerciseRecord]:
    """Exercises with a clip that pass the focus, no-jump, exclusion and level filters, ordered by id.
    `level` is the hardest allowed (default: the wish's difficulty)."""
    level = level or wish.difficulty
    hardest = DIFFICULTIES.index(level) if level else len(DIFFICULTIES) - 1
    return sorted(
        (
            exercise
            for exercise in exercises
            if exercise.clip is not None
            and (not wish.focus or any(category in exercise.categories for category in wish.focus))
            and not (wish.no_jump and exercise.jump)
            and exercise.id not in wish.exclude
            and exercise.difficulty in DIFFICULTIES[: hardest + 1]
        ),
        key=lambda exercise: exercise.id,
    )


def select_exercises(wish: Wish, exercises: list[ExerciseRecord]) -> Selection:
    """The matching exercises; a level read from the text is widened one level at a time while fewer than
    MIN_VARIETY match (a level given as the `difficulty` field is a hard limit and never widened)."""
    candidates = matching_exercises(wish, exercises)
    if wish.difficulty is None or wish.difficulty_source != "text" or len(candidates) >= MIN_VARIETY:
        return Selection(candidates, wish.difficulty)
    asked, level = candidates, wish.difficulty
    for harder in DIFFICULTIES[DIFFICULTIES.index(wish.difficulty) + 1 :]:
        wider = matching_exercises(wish, exercises, harder)
        if len(wider) > len(candidates):
            candidates, level = wider, harder
        if len(candidates) >= MIN_VARIETY:
            break
    if level == wish.difficulty:
        return Selection(candidates, level)
    return Selection(candidates, level, widened_from=tuple(asked))


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
                cost = fmt.items_weight * abs(items - fmt.items_per_round) + REPEAT_COST * max(0, items - distinct)
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
    shortest_rest, longest_rest = fmt.round_rest_range
    fixed = INTRO_SECONDS + OUTRO_SECONDS - rounds * fmt.rest_seconds
    low = target - tolerance - fixed - (rounds - 1) * longest_rest
    high = target + tolerance - fixed - (rounds - 1) * shortest_rest
    return range(max(1, math.ceil(low / (rounds * interval))), min(cap, math.floor(high / (rounds * interval))) + 1)


def _round_rests(fmt: IntervalFormat, target: int, rounds: int, items: int) -> list[int]:
    """Between-round rests worth trying: the allowed steps just below and above the one that hits the target."""
    if rounds == 1:
        return [fmt.round_rest_seconds]  # never played; spelled out so the plan keeps it if rounds are added
    ideal = (target - workout_seconds(fmt, rounds, items, 0)) / (rounds - 1)
    step = ROUND_REST_STEP_SECONDS
    shortest, longest = fmt.round_rest_range
    below, above = math.floor(ideal / step) * step, math.ceil(ideal / step) * step
    return sorted({min(longest, max(shortest, rest)) for rest in (below, above)})


def _closest_possible_seconds(fmt: IntervalFormat, target: int, cap: int) -> int:
    lengths = (
        workout_seconds(fmt, rounds, items, rest)
        for rounds in range(1, MAX_ROUNDS + 1)
        for items in range(1, cap + 1)
        for rest in fmt.round_rest_range
    )
    return min((length for length in lengths if length <= MAX_PLAN_SECONDS), key=lambda length: abs(length - target))


def pick_exercises(
    candidates: list[ExerciseRecord],
    count: int,
    focus: tuple[str, ...],
    rng: random.Random,
    repeated_rounds: bool = False,
) -> list[ExerciseRecord]:
    """`count` exercises for one round: categories take turns (each focus category, or else each
    exercise's first category), the order within and between categories drawn from `rng`.

    Exercises repeat only when count exceeds the candidates, and then cycle through all of them, so
    with two or more an exercise never directly follows itself within a round; with three or more and
    `repeated_rounds`, the round's last exercise also differs from the first, which follows it next round.
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
    sequence = interleave([groups[key] for key in order])
    full_cycles, extra = divmod(count, len(sequence))
    tail = sequence[:extra]
    if repeated_rounds and full_cycles and extra == 1:
        group_of = {exercise.id: key for key, members in groups.items() for exercise in members}
        tail = [_closing_exercise(sequence, group_of)]
    return sequence * full_cycles + tail


def _closing_exercise(sequence: list[ExerciseRecord], group_of: dict[str, str]) -> ExerciseRecord:
    """The one exercise that closes a round after full cycles of `sequence`: sequence[0] would also open the
    next round, so take the first other one that differs from the last in category (else in name)."""
    first, last = sequence[0], sequence[-1]
    others = sequence[1:-1]
    other_category = [exercise for exercise in others if group_of[exercise.id] != group_of[last.id]]
    return (other_category or others or [first])[0]


def interleave(groups: list[list[ExerciseRecord]]) -> list[ExerciseRecord]:
    """Every exercise once, with as few neighbours of the same group as the sizes allow, and every group
    early (so a short round still has every category). At each step, among the groups that did not just
    play: one holding more than half of what is left must go now (or it would end up bunched); else a
    group not yet played, in the given order; else the group with the most left (ties: the given order)."""
    queues = [list(group) for group in groups if group]
    sequence: list[ExerciseRecord] = []
    played: set[int] = set()
    last = -1
    while any(queues):
        waiting = [index for index, queue in enumerate(queues) if queue]
        choices = [index for index in waiting if index != last] or waiting
        left = sum(len(queues[index]) for index in waiting)
        dominant = [index for index in choices if 2 * len(queues[index]) > left]
        fresh = [index for index in choices if index not in played]
        last = (dominant or fresh or [max(choices, key=lambda index: len(queues[index]))])[0]
        played.add(last)
        sequence.append(queues[last].pop(0))
    return sequence


def generate(request: GenerateRequest, exercises: list[ExerciseRecord]) -> Generated:
    """A plan for `request` drawn from `exercises`, with the reasons; CannotGenerate when none fits."""
    wish = resolve_request(request, catalogue_terms(exercises))
    with_clip = sum(1 for exercise in exercises if exercise.clip is not None)
    names = {exercise.id: exercise.name for exercise in exercises}
    selection = select_exercises(wish, exercises)
    candidates = selection.candidates
    if not candidates:
        raise CannotGenerate(f"no exercise with a clip matches: {_filters_text(wish, wish.difficulty, names)}")

    fmt = wish.format
    try:
        shape = fit_rounds(fmt, wish.target_seconds, len(candidates) if wish.no_repeat else MAX_ITEMS, len(candidates))
    except CannotGenerate as error:
        if not wish.no_repeat:
            raise
        raise CannotGenerate(
            f"with no repeats, rounds hold at most the {len(candidates)} matching exercise(s): {error}; "
            "allow repeats, widen the filters or ask for a different length"
        ) from error
    chosen = pick_exercises(
        candidates, shape.items_per_round, wish.focus, random.Random(wish.seed), repeated_rounds=shape.rounds > 1
    )
    document = {
        "items": [
            {"exercise_id": exercise.id, "work_seconds": fmt.work_seconds, "rest_seconds": fmt.rest_seconds}
            for exercise in chosen
        ],
        "rounds": shape.rounds,
        "rest_between_rounds_seconds": shape.round_rest_seconds,
        "intensity": wish.intensity,
    }
    language, language_sentence = _screen_language(request)
    if language != DEFAULT_LANGUAGE:
        document["language"] = language
    duration = Plan.model_validate(document).total_seconds()
    explanation = [
        *_text_sentences(wish, names),
        *_default_length_sentences(wish),
        _format_sentence(wish),
        _shape_sentence(shape, duration, wish),
        _drew_sentence(wish, selection, with_clip, names),
        *_widening_sentences(wish, selection),
        *_exercise_sentences(wish, chosen, len(candidates)),
        *language_sentence,
    ]
    return Generated(plan=document, explanation=explanation, duration_seconds=duration)


LANGUAGE_NAMES: dict[Language, str] = {"en": "English", "fr": "French"}


def _screen_language(request: GenerateRequest) -> tuple[Language, list[str]]:
    """The plan's on-screen language and, when it is not English, a sentence saying why."""
    if request.language is not None:
        language = request.language
        why = "as asked"
    else:
        language = (text_language(request.text) if request.text else None) or DEFAULT_LANGUAGE
        why = "the request is written in it"
    if language == DEFAULT_LANGUAGE:
        return language, []
    return language, [f"On-screen text in {LANGUAGE_NAMES[language]}: {why}."]


def _minutes_text(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def _quoted(phrases: Iterable[str]) -> str:
    return ", ".join(f'"{phrase}"' for phrase in phrases)


def _wish_terms(fields: dict, names: dict[str, str]) -> list[str]:
    """Fields as short phrases, in a fixed order, for the explanation."""
    terms = []
    if "duration_minutes" in fields:
        terms.append(f"{fields['duration_minutes']} min")
    if "format" in fields:
        terms.append(f"{TEXT_FORMATS[fields['format']].name} format")
    if "intensity" in fields:
        terms.append(f"{fields['intensity']} intensity")
    if fields.get("focus"):
        terms.append("focus " + " or ".join(fields["focus"]))
    if fields.get("no_jump"):
        terms.append("no jumping")
    if fields.get("exclude"):
        terms.append("without " + ", ".join(names.get(exercise_id, exercise_id) for exercise_id in fields["exclude"]))
    if fields.get("no_repeat"):
        terms.append("no repeats within a round")
    if fields.get("difficulty"):
        terms.append(f"{fields['difficulty']} level")
    return terms


def _text_sentences(wish: Wish, names: dict[str, str]) -> list[str]:
    """What the text was read as, and every part of it that did not count, with the reason."""
    read = wish.from_text
    if read is None:
        return []
    sentences = (
        [f"From the text: {', '.join(_wish_terms(read.fields, names))}."]
        if read.fields
        else ["Nothing in the text was recognised."]
    )
    for field, asked, said in wish.overridden:
        sentences.append(
            f"The request's {field} ({_value_text(asked)}) was used instead of the text's ({_value_text(said)})."
        )
    if read.repeated:
        sentences.append(f"Said again differently, so not used (the first mention counts): {_quoted(read.repeated)}.")
    if read.not_in_catalogue:
        missing = ", ".join(f'"{said}" ({category})' for said, category in read.not_in_catalogue)
        sentences.append(f"No such category in this catalogue: {missing}.")
    if read.named:
        sentences.append(
            "Naming an exercise does not choose it (exercises follow the focus and level; put no/sans before a "
            f"name to leave it out): {_quoted(said for said, _ in read.named)}."
        )
    if read.not_understood:
        sentences.append(f"Not understood, so ignored: {_quoted(read.not_understood)}.")
    return sentences


def _value_text(value: object) -> str:
    return " or ".join(value) if isinstance(value, list) else str(value)


def _default_length_sentences(wish: Wish) -> list[str]:
    if wish.duration_source != "format":
        return []
    fmt = wish.format
    standard = (
        f"No length was asked, so the standard {fmt.name}: {fmt.default_rounds} rounds of {fmt.items_per_round} "
        f"({fmt.work_seconds} s work / {fmt.rest_seconds} s rest, {fmt.round_rest_seconds} s between rounds), "
        f"{_minutes_text(wish.target_seconds)} with the intro and outro."
    )
    return [standard]


def _format_sentence(wish: Wish) -> str:
    fmt = wish.format
    if wish.format_source == "intensity":
        source = {"request": "", "text": " (from the text)", "default": " (the default)"}[wish.intensity_source]
        return (
            f"Format: {fmt.name}, {fmt.work_seconds} s work / {fmt.rest_seconds} s rest for "
            f"{wish.intensity} intensity{source}, because {fmt.reason}."
        )
    source = {"request": "", "text": " (from the text)", "format": f" (usual for {fmt.name})"}[wish.intensity_source]
    return (
        f"Format: {fmt.name} (from the text), {fmt.work_seconds} s work / {fmt.rest_seconds} s rest at "
        f"{wish.intensity} intensity{source}, because {fmt.reason}."
    )


def _shape_sentence(shape: RoundShape, duration: int, wish: Wish) -> str:
    rounds = "1 round" if shape.rounds == 1 else f"{shape.rounds} rounds"
    between = f" with {shape.round_rest_seconds} s rest between rounds" if shape.rounds > 1 else ""
    asked = "the standard length" if wish.duration_source == "format" else "asked"
    return (
        f"{rounds} of {shape.items_per_round} exercise(s){between}: {_minutes_text(duration)} including the "
        f"{INTRO_SECONDS} s intro and {OUTRO_SECONDS} s outro, for {_minutes_text(wish.target_seconds)} {asked}."
    )


def _filters_text(wish: Wish, level: Difficulty | None, names: dict[str, str]) -> str:
    filters = []
    if wish.focus:
        filters.append("in " + " or ".join(wish.focus))
    if wish.no_jump:
        filters.append("no jumping moves")
    if wish.exclude:
        filters.append("without " + ", ".join(names.get(exercise_id, exercise_id) for exercise_id in wish.exclude))
    if level == DIFFICULTIES[0]:
        filters.append(f"{level} level")
    elif level:
        filters.append(f"{level} level or easier")
    return ", ".join(filters) if filters else "no filters"


def _drew_sentence(wish: Wish, selection: Selection, with_clip: int, names: dict[str, str]) -> str:
    filters = _filters_text(wish, selection.level, names)
    return f"Drew from {len(selection.candidates)} of {with_clip} exercises with a clip ({filters})."


def _widening_sentences(wish: Wish, selection: Selection) -> list[str]:
    if selection.widened_from is None:
        return []
    asked = selection.widened_from
    added = ", ".join(exercise.name for exercise in selection.candidates if exercise not in asked)
    only = ", ".join(exercise.name for exercise in asked) or "none"
    widened = (
        f"Only {len(asked)} exercise(s) match at {wish.difficulty} level ({only}), so the level was widened to "
        f"{selection.level} for variety, adding {added}."
    )
    return [widened]


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
