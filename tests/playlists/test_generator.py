import random
from fractions import Fraction
from itertools import pairwise
from typing import get_args

import pytest
from pydantic import ValidationError

from assets.records import DIFFICULTIES, ClipInfo, ExerciseRecord
from playlists.generator import (
    FORMATS,
    MAX_ROUND_REST_SECONDS,
    MIN_ROUND_REST_SECONDS,
    CannotGenerate,
    Difficulty,
    GenerateRequest,
    generate,
    workout_seconds,
)
from playlists.plan import MAX_ITEMS, MAX_PLAN_SECONDS, MAX_ROUNDS, Plan
from playlists.timeline import compile_plan

CLIP = ClipInfo(
    key="clips/x/v.mp4",
    version="0" * 64,
    fps=Fraction(30),
    frames=60,
    width=640,
    height=360,
    alpha=False,
    codec="h264",
    duration_seconds=2.0,
    size_bytes=1000,
)


def exercise(
    exercise_id: str, *categories: str, difficulty: str = "beginner", jump: bool = False, clip: bool = True
) -> ExerciseRecord:
    return ExerciseRecord(
        id=exercise_id,
        name=exercise_id.replace("_", " ").title(),
        difficulty=difficulty,
        jump=jump,
        categories=tuple(sorted(categories)),
        clip=CLIP if clip else None,
    )


MANY = [exercise(f"move_{n:02}", ("legs", "core", "cardio")[n % 3]) for n in range(24)]
"""Enough distinct exercises for a 4-hour Tabata without repeats (about 22 per round at 20 rounds)."""

LIBRARY = [
    exercise("squat", "legs", "strength"),
    exercise("lunge", "legs", "strength"),
    exercise("wall_sit", "legs"),
    exercise("jump_squat", "legs", "cardio", difficulty="intermediate", jump=True),
    exercise("pistol_squat", "legs", "strength", difficulty="advanced"),
    exercise("plank", "core"),
    exercise("dead_bug", "core"),
    exercise("v_up", "core", difficulty="advanced"),
    exercise("push_up", "strength", "upper_body", difficulty="intermediate"),
    exercise("dip", "upper_body", difficulty="intermediate"),
    exercise("jumping_jack", "cardio", "full_body", jump=True),
    exercise("burpee", "cardio", "full_body", difficulty="advanced", jump=True),
    exercise("mountain_climber", "cardio", "core", difficulty="intermediate"),
    exercise("bear_crawl", "full_body", difficulty="intermediate"),
    exercise("unrecorded", "legs", "core", "cardio", clip=False),
]
BY_ID = {record.id: record for record in LIBRARY}
WITH_CLIP = [record for record in LIBRARY if record.clip is not None]


def request(**fields) -> GenerateRequest:
    return GenerateRequest.model_validate(fields)


def ids(generated) -> list[str]:
    return [item["exercise_id"] for item in generated.plan["items"]]


def within_tolerance(seconds, minutes: int) -> bool:
    target = minutes * 60
    return abs(seconds - target) <= max(30, 0.05 * target)


@pytest.mark.parametrize("intensity", ["low", "medium", "high"])
@pytest.mark.parametrize(
    ("library", "no_repeat"),
    [(WITH_CLIP, False), (MANY, True), (WITH_CLIP[:1], False), (WITH_CLIP[:2], False)],
    ids=["14 exercises", "24 exercises, no repeats", "1 exercise", "2 exercises"],
)
def test_every_length_from_5_to_240_minutes_is_met_within_tolerance(intensity, library, no_repeat):
    for minutes in range(5, 241):
        generated = generate(request(duration_minutes=minutes, intensity=intensity, no_repeat=no_repeat), library)
        plan = Plan.model_validate(generated.plan)
        played = compile_plan(plan).duration
        assert within_tolerance(played, minutes), (minutes, played)
        assert played == generated.duration_seconds
        assert plan.rounds <= MAX_ROUNDS and len(plan.items) <= MAX_ITEMS and played <= MAX_PLAN_SECONDS
        if no_repeat:
            assert len(set(ids(generated))) == len(plan.items)


@pytest.mark.parametrize("intensity", ["low", "medium", "high"])
def test_the_fitting_arithmetic_is_the_timelines(intensity):
    fmt = FORMATS[intensity]
    for rounds, items, rest in [(1, 1, 30), (1, 9, 60), (2, 1, 45), (3, 6, 120), (20, 10, 30), (7, 4, 85)]:
        document = {
            "items": [{"exercise_id": "squat", "work_seconds": fmt.work_seconds, "rest_seconds": fmt.rest_seconds}]
            * items,
            "rounds": rounds,
            "rest_between_rounds_seconds": rest,
            "intensity": intensity,
        }
        played = compile_plan(Plan.model_validate(document)).duration
        assert workout_seconds(fmt, rounds, items, rest) == played


@pytest.mark.parametrize("minutes", [5, 17, 60, 133, 240])
def test_rounds_are_separated_by_a_rest_in_whole_five_seconds_within_bounds(minutes):
    for intensity in FORMATS:
        plan = generate(request(duration_minutes=minutes, intensity=intensity), WITH_CLIP).plan
        rest = plan["rest_between_rounds_seconds"]
        assert rest % 5 == 0 and MIN_ROUND_REST_SECONDS <= rest <= MAX_ROUND_REST_SECONDS


@pytest.mark.parametrize(("intensity", "work", "rest"), [("low", 30, 30), ("medium", 40, 20), ("high", 20, 10)])
def test_intensity_sets_the_work_and_rest_of_every_item_and_the_plan_intensity(intensity, work, rest):
    plan = generate(request(duration_minutes=30, intensity=intensity), WITH_CLIP).plan
    assert plan["intensity"] == intensity
    assert {(item["work_seconds"], item["rest_seconds"]) for item in plan["items"]} == {(work, rest)}


def test_intensity_defaults_to_medium():
    generated = generate(request(duration_minutes=30), WITH_CLIP)
    assert generated.plan["intensity"] == "medium"
    assert any("medium intensity (the default)" in sentence for sentence in generated.explanation)


def test_exercises_without_a_clip_are_never_chosen():
    for seed in range(20):
        generated = generate(request(duration_minutes=60, focus=["legs", "core", "cardio"], seed=seed), LIBRARY)
        assert "unrecorded" not in ids(generated)


def test_focus_keeps_exercises_in_any_of_the_asked_categories():
    generated = generate(request(duration_minutes=60, focus=["core", "upper_body"]), WITH_CLIP)
    chosen = set(ids(generated))
    assert chosen == {"plank", "dead_bug", "v_up", "push_up", "dip", "mountain_climber"}


def test_focus_categories_take_turns_within_a_round():
    legs = [exercise(f"leg_{n}", "legs") for n in range(3)]
    core = [exercise(f"core_{n}", "core") for n in range(3)]
    for seed in range(10):
        chosen = ids(generate(request(duration_minutes=30, focus=["legs", "core"], seed=seed), legs + core))
        kinds = [exercise_id.split("_")[0] for exercise_id in chosen]
        assert all(a != b for a, b in pairwise(kinds)), kinds


def test_seeds_vary_which_category_opens_the_round():
    legs = [exercise(f"leg_{n}", "legs") for n in range(3)]
    core = [exercise(f"core_{n}", "core") for n in range(3)]
    openers = {
        ids(generate(request(duration_minutes=30, focus=["legs", "core"], seed=seed), legs + core))[0].split("_")[0]
        for seed in range(20)
    }
    assert openers == {"leg", "core"}


def test_a_short_round_still_draws_from_every_focus_category():
    generated = generate(request(duration_minutes=5, focus=["legs", "core", "upper_body"]), WITH_CLIP)
    categories = {category for exercise_id in ids(generated) for category in BY_ID[exercise_id].categories}
    assert {"legs", "core", "upper_body"} <= categories


def test_no_jump_leaves_out_jumping_moves():
    for seed in range(10):
        chosen = ids(generate(request(duration_minutes=45, focus=["cardio", "legs"], no_jump=True, seed=seed), LIBRARY))
        assert not any(BY_ID[exercise_id].jump for exercise_id in chosen)
        assert "mountain_climber" in chosen  # cardio without jumping is still allowed


@pytest.mark.parametrize(
    ("difficulty", "allowed"),
    [("beginner", {"beginner"}), ("intermediate", {"beginner", "intermediate"}), ("advanced", set(DIFFICULTIES))],
)
def test_difficulty_allows_that_level_and_easier(difficulty, allowed):
    generated = generate(request(duration_minutes=120, difficulty=difficulty), WITH_CLIP)
    assert {BY_ID[exercise_id].difficulty for exercise_id in ids(generated)} == allowed


def test_filters_combine():
    chosen = set(
        ids(generate(request(duration_minutes=60, focus=["legs"], no_jump=True, difficulty="beginner"), LIBRARY))
    )
    assert chosen == {"squat", "lunge", "wall_sit"}


def test_no_repeat_keeps_every_exercise_once_per_round():
    few = WITH_CLIP[:3]
    for intensity in FORMATS:
        for minutes in (5, 20, 45, 60):
            chosen = ids(generate(request(duration_minutes=minutes, intensity=intensity, no_repeat=True), few))
            assert len(chosen) == len(set(chosen)) <= 3


def test_no_repeat_trades_repeats_for_more_rounds_of_fewer_exercises():
    few = WITH_CLIP[:3]
    repeating = generate(request(duration_minutes=30, intensity="medium"), few).plan
    distinct = generate(request(duration_minutes=30, intensity="medium", no_repeat=True), few).plan
    assert len(repeating["items"]) > 3
    assert len(distinct["items"]) <= 3 and distinct["rounds"] > repeating["rounds"]


@pytest.mark.parametrize("available", [2, 3, 4, 6])
def test_repeats_cycle_through_every_exercise_and_never_follow_themselves(available):
    library = WITH_CLIP[:available]
    for minutes in range(5, 241, 7):
        chosen = ids(generate(request(duration_minutes=minutes, intensity="high", seed=minutes), library))
        counts = [chosen.count(exercise_id) for exercise_id in set(chosen)]
        if len(chosen) >= available:
            assert len(counts) == available and max(counts) - min(counts) <= 1
        assert all(a != b for a, b in pairwise(chosen)), chosen


def test_same_request_gives_the_same_plan_whatever_order_the_library_comes_in():
    body = {"duration_minutes": 40, "focus": ["legs", "core"], "seed": 1234}
    first = generate(request(**body), WITH_CLIP)
    shuffled = WITH_CLIP[:]
    random.Random(5).shuffle(shuffled)
    second = generate(request(**body), shuffled)
    assert first == second


def test_different_seeds_give_different_orders_of_the_same_shape():
    generated = [generate(request(duration_minutes=30, seed=seed), WITH_CLIP) for seed in range(20)]
    assert len({tuple(ids(one)) for one in generated}) >= 15
    shapes = {
        (one.plan["rounds"], len(one.plan["items"]), one.plan["rest_between_rounds_seconds"]) for one in generated
    }
    assert len(shapes) == 1


def test_explicit_fields_win_over_the_text_and_the_override_is_explained():
    generated = generate(request(text="20 min easy legs, beginner", duration_minutes=30, intensity="high"), WITH_CLIP)
    assert within_tolerance(generated.duration_seconds, 30)
    assert generated.plan["intensity"] == "high"
    assert {BY_ID[exercise_id].difficulty for exercise_id in ids(generated)} == {"beginner"}
    assert all("legs" in BY_ID[exercise_id].categories for exercise_id in ids(generated))
    explained = " ".join(generated.explanation)
    assert "duration_minutes (30) was used instead of the text's (20)" in explained
    assert "intensity (high) was used instead of the text's (low)" in explained


def test_an_explicit_focus_replaces_the_texts():
    generated = generate(request(text="30 min legs", focus=["core", "upper_body"]), WITH_CLIP)
    assert all({"core", "upper_body"} & set(BY_ID[exercise_id].categories) for exercise_id in ids(generated))
    assert "The request's focus (core or upper_body) was used instead of the text's (legs)." in generated.explanation


def test_explicit_no_jump_false_keeps_jumping_moves_the_text_would_exclude():
    body = {"text": "quiet cardio", "duration_minutes": 60, "no_jump": False}
    assert "jumping_jack" in ids(generate(request(**body), WITH_CLIP))
    assert "jumping_jack" not in ids(generate(request(**dict(body, no_jump=None)), WITH_CLIP))


def test_text_alone_can_describe_the_whole_workout():
    generated = generate(request(text="20 min low-impact legs, beginner"), LIBRARY)
    assert within_tolerance(generated.duration_seconds, 20)
    assert set(ids(generated)) == {"squat", "lunge", "wall_sit"}
    assert generated.explanation[0] == "From the text: 20 min, focus legs, no jumping, beginner level."


def test_explanation_names_the_format_the_shape_the_filters_and_the_exercises():
    generated = generate(request(duration_minutes=20, intensity="high", focus=["core"], no_jump=True), WITH_CLIP)
    plan = generated.plan
    explained = generated.explanation
    assert explained[0].startswith("Format: Tabata, 20 s work / 10 s rest for high intensity, because")
    assert explained[1].startswith(f"{plan['rounds']} rounds of {len(plan['items'])} exercise(s) with ")
    assert explained[2] == "Drew from 4 of 14 exercises with a clip (in core, no jumping moves)."
    for exercise_id in set(ids(generated)):
        assert BY_ID[exercise_id].name in explained[3]


def test_text_with_nothing_recognised_says_so():
    generated = generate(request(text="something fun", duration_minutes=10), WITH_CLIP)
    assert generated.explanation[0] == "Nothing in the text was recognised."


def test_difficulty_type_lists_the_record_levels():
    assert get_args(Difficulty) == DIFFICULTIES


@pytest.mark.parametrize(
    ("body", "library", "reason"),
    [
        ({"duration_minutes": 20, "focus": ["yoga"]}, WITH_CLIP, "no exercise with a clip matches: in yoga"),
        (
            {"duration_minutes": 20, "focus": ["upper_body"], "difficulty": "beginner"},
            WITH_CLIP,
            "matches: in upper_body, beginner level",
        ),
        ({"duration_minutes": 20}, [exercise("plank", "core", clip=False)], "no exercise with a clip matches"),
        ({"text": "legs, something hard"}, WITH_CLIP, "does not say how long"),
        ({"text": "5 hours of cardio"}, WITH_CLIP, "asks for 300 min"),
        ({"text": "a 2 min warm-up"}, WITH_CLIP, "asks for 2 min"),
        (
            {"duration_minutes": 240, "no_repeat": True},
            WITH_CLIP[:1],
            "with no repeats, rounds hold at most the 1 matching exercise(s)",
        ),
    ],
    ids=["unknown focus", "filters exclude all", "no clips", "no length", "too long", "too short", "no repeat cap"],
)
def test_impossible_requests_raise_cannot_generate_with_the_reason(body, library, reason):
    with pytest.raises(CannotGenerate) as caught:
        generate(request(**body), library)
    assert reason in str(caught.value)


def test_impossible_length_names_the_closest_possible_one():
    with pytest.raises(CannotGenerate, match=r"the closest possible is \d+ min"):
        generate(request(duration_minutes=180, intensity="low", no_repeat=True), WITH_CLIP[:2])


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"duration_minutes": 4},
        {"duration_minutes": 241},
        {"duration_minutes": "20"},
        {"duration_minutes": 20.5},
        {"duration_minutes": 20, "intensity": "extreme"},
        {"duration_minutes": 20, "difficulty": "elite"},
        {"duration_minutes": 20, "focus": ["Legs!"]},
        {"duration_minutes": 20, "focus": [f"c{n}" for n in range(9)]},
        {"duration_minutes": 20, "no_jump": "yes"},
        {"duration_minutes": 20, "seed": -1},
        {"duration_minutes": 20, "seed": 2**31},
        {"duration_minutes": 20, "text": "x" * 301},
        {"duration_minutes": 20, "colour": "red"},
    ],
)
def test_malformed_requests_are_refused_by_validation(body):
    with pytest.raises(ValidationError):
        GenerateRequest.model_validate(body)


def test_a_request_may_give_only_text():
    assert GenerateRequest.model_validate({"text": "20 min"}).duration_minutes is None
