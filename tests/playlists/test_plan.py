import json
from fractions import Fraction

import pytest
from pydantic import ValidationError

from playlists.plan import (
    DEFAULT_LANGUAGE,
    INTENSITY_SPEED,
    INTRO_SECONDS,
    LANGUAGES,
    MAX_PLAN_SECONDS,
    OUTRO_SECONDS,
    Plan,
    canonical_json,
    plan_id,
)

BASIC = {
    "items": [
        {"exercise_id": "squat", "work_seconds": 40, "rest_seconds": 20},
        {"exercise_id": "push_up", "work_seconds": 30, "rest_seconds": 15},
    ],
    "rounds": 3,
    "rest_between_rounds_seconds": 60,
    "intensity": "medium",
}


def error_locations(document: dict) -> list[tuple]:
    with pytest.raises(ValidationError) as caught:
        Plan.model_validate(document)
    return [tuple(e["loc"]) for e in caught.value.errors()]


def test_same_plan_spelled_differently_gets_the_same_id():
    reordered = {key: BASIC[key] for key in reversed(list(BASIC))}
    assert plan_id(Plan.model_validate(BASIC)) == plan_id(Plan.model_validate(reordered))


def test_defaults_are_spelled_out_in_the_canonical_form():
    explicit = dict(BASIC, segment_seconds=4)
    implicit = {k: v for k, v in BASIC.items() if k != "intensity"}
    assert canonical_json(Plan.model_validate(explicit)) == canonical_json(Plan.model_validate(implicit))


def test_different_plans_get_different_ids():
    other = dict(BASIC, rounds=2)
    assert plan_id(Plan.model_validate(BASIC)) != plan_id(Plan.model_validate(other))


def test_unset_round_rest_means_the_last_exercises_rest():
    plan = Plan.model_validate({k: v for k, v in BASIC.items() if k != "rest_between_rounds_seconds"})
    assert plan.rest_between_rounds_seconds == 15


def test_intensity_maps_to_documented_speeds():
    assert INTENSITY_SPEED == {"low": Fraction(4, 5), "medium": 1, "high": Fraction(5, 4)}
    for name, speed in INTENSITY_SPEED.items():
        assert Plan.model_validate(dict(BASIC, intensity=name)).playback_speed() == speed


def test_explicit_speed_is_taken_as_the_exact_decimal():
    document = {k: v for k, v in BASIC.items() if k != "intensity"}
    assert Plan.model_validate(dict(document, speed=1.33)).playback_speed() == Fraction(133, 100)


def test_unknown_fields_are_rejected_with_their_location():
    assert ("colour",) in error_locations(dict(BASIC, colour="red"))
    item = dict(BASIC["items"][0], reps=10)
    assert ("items", 0, "reps") in error_locations(dict(BASIC, items=[item]))


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"rounds": 0}, ("rounds",)),
        ({"rounds": 21}, ("rounds",)),
        ({"items": []}, ("items",)),
        ({"intensity": "extreme"}, ("intensity",)),
        ({"segment_seconds": 1}, ("segment_seconds",)),
        ({"segment_seconds": 7}, ("segment_seconds",)),
        ({"items": [{"exercise_id": "squat", "work_seconds": 0}]}, ("items", 0, "work_seconds")),
        ({"items": [{"exercise_id": "squat", "work_seconds": 10.5}]}, ("items", 0, "work_seconds")),
        ({"items": [{"exercise_id": "squat", "work_seconds": 10, "rest_seconds": -1}]}, ("items", 0, "rest_seconds")),
        ({"items": [{"exercise_id": "../etc", "work_seconds": 10}]}, ("items", 0, "exercise_id")),
        ({"items": [{"work_seconds": 10}]}, ("items", 0, "exercise_id")),
        ({"items": [{"exercise_id": "squat", "work_seconds": 10, "speed": 3}]}, ("items", 0, "speed")),
        ({"music": "../../etc/passwd"}, ("music",)),
        ({"language": "de"}, ("language",)),
        ({"language": "FR"}, ("language",)),
        ({"language": None}, ("language",)),
    ],
)
def test_impossible_values_are_rejected_where_they_are(change, location):
    assert location in error_locations(dict(BASIC, **change))


@pytest.mark.parametrize("speed", [0.49, 2.01, -1])
def test_speed_outside_half_to_double_is_rejected(speed):
    document = {k: v for k, v in BASIC.items() if k != "intensity"}
    assert ("speed",) in error_locations(dict(document, speed=speed))


def test_intensity_and_speed_together_are_rejected():
    with pytest.raises(ValidationError, match="either 'intensity' or 'speed'"):
        Plan.model_validate(dict(BASIC, speed=1.2))


def test_plans_longer_than_four_hours_are_rejected():
    item = {"exercise_id": "squat", "work_seconds": 3600, "rest_seconds": 0}
    with pytest.raises(ValidationError, match=str(MAX_PLAN_SECONDS)):
        Plan.model_validate({"items": [item] * 5})


def test_total_seconds_counts_rests_between_but_not_after_plus_intro_and_outro():
    plan = Plan.model_validate(BASIC)
    # per round: 40 + 20 + 30 (last item's own rest replaced by the round rest), 2 round rests
    assert plan.total_seconds() == INTRO_SECONDS + 3 * 90 + 2 * 60 + OUTRO_SECONDS


def test_an_item_speed_overrides_the_plan_speed_for_that_item_only():
    items = [dict(BASIC["items"][0], speed=2.0), BASIC["items"][1]]
    plan = Plan.model_validate(dict(BASIC, items=items, intensity="low"))
    assert plan.playback_speed(plan.items[0]) == 2
    assert plan.playback_speed(plan.items[1]) == Fraction(4, 5)


def test_music_is_off_unless_named():
    assert Plan.model_validate(BASIC).music is None
    assert Plan.model_validate(dict(BASIC, music="groove")).music == "groove"


BASIC_ID = "77283363484766ef4327"
"""BASIC's id before plans had a language: stored plans and their cached segments are filed under it."""
BASIC_CANONICAL = (
    '{"intensity":"medium","items":[{"exercise_id":"squat","rest_seconds":20,"speed":null,"work_seconds":40},'
    '{"exercise_id":"push_up","rest_seconds":15,"speed":null,"work_seconds":30}],"music":null,'
    '"rest_between_rounds_seconds":60,"rounds":3,"segment_seconds":4.0,"speed":null}'
)


def test_a_plan_without_a_language_keeps_its_id_and_canonical_form():
    plan = Plan.model_validate(BASIC)
    assert plan.language == DEFAULT_LANGUAGE == "en"
    assert canonical_json(plan) == BASIC_CANONICAL
    assert plan_id(plan) == BASIC_ID
    assert "language" not in plan.model_dump(mode="json")  # the plan document, as the API answers it


def test_english_spelled_out_is_the_same_plan_as_english_left_out():
    assert plan_id(Plan.model_validate(dict(BASIC, language="en"))) == BASIC_ID


def test_french_is_part_of_the_plan_and_of_its_id():
    plan = Plan.model_validate(dict(BASIC, language="fr"))
    assert plan.language == "fr" and json.loads(canonical_json(plan))["language"] == "fr"
    assert plan_id(plan) != BASIC_ID
    assert Plan.model_validate(json.loads(canonical_json(plan))) == plan  # a stored plan reads back the same


def test_the_languages_are_english_and_french():
    assert LANGUAGES == ("en", "fr")
