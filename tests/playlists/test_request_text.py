import pytest

from playlists.request_text import parse_request_text

SAMPLE_CATEGORIES = {"legs", "strength", "cardio", "full_body", "upper_body", "core"}

SENTENCES = [
    # durations
    ("20 min", {"duration_minutes": 20}),
    ("20 minutes", {"duration_minutes": 20}),
    ("a 20-minute workout", {"duration_minutes": 20}),
    ("20min", {"duration_minutes": 20}),
    ("45m", {"duration_minutes": 45}),
    ("twenty-five minutes", {"duration_minutes": 25}),
    ("1 hour", {"duration_minutes": 60}),
    ("an hour", {"duration_minutes": 60}),
    ("2 hrs", {"duration_minutes": 120}),
    ("1.5 hours", {"duration_minutes": 90}),
    ("1h30", {"duration_minutes": 90}),
    ("1 hr 15 min", {"duration_minutes": 75}),
    ("2 hours and 10 minutes", {"duration_minutes": 130}),
    ("an hour and a half", {"duration_minutes": 90}),
    ("one and a half hours", {"duration_minutes": 90}),
    ("half an hour", {"duration_minutes": 30}),
    ("a quarter of an hour", {"duration_minutes": 15}),
    ("three quarters of an hour", {"duration_minutes": 45}),
    ("7.5 min", {"duration_minutes": 8}),
    # intensity
    ("something easy", {"intensity": "low"}),
    ("a gentle one", {"intensity": "low"}),
    ("moderate please", {"intensity": "medium"}),
    ("make it HARD", {"intensity": "high"}),
    ("intense!", {"intensity": "high"}),
    ("high-intensity", {"intensity": "high"}),
    # difficulty
    ("for beginners", {"difficulty": "beginner"}),
    ("I'm a newbie", {"difficulty": "beginner"}),
    ("intermediate", {"difficulty": "intermediate"}),
    ("expert level", {"difficulty": "advanced"}),
    # focus
    ("legs", {"focus": ["legs"]}),
    ("one leg day", {"focus": ["legs"]}),
    ("lower body", {"focus": ["legs"]}),
    ("abs and arms", {"focus": ["core", "upper_body"]}),
    ("upper body", {"focus": ["upper_body"]}),
    ("full body", {"focus": ["full_body"]}),
    ("full-body cardio", {"focus": ["full_body", "cardio"]}),
    ("HIIT", {"intensity": "high", "focus": ["cardio"]}),
    # no jumping / no repeats
    ("low impact", {"no_jump": True}),
    ("no jumping", {"no_jump": True}),
    ("quiet, my neighbours sleep", {"no_jump": True}),
    ("apartment friendly", {"no_jump": True}),
    ("don't repeat exercises", {"no_repeat": True}),
    ("no repeats", {"no_repeat": True}),
    # whole requests
    (
        "20 min low-impact legs, beginner",
        {"duration_minutes": 20, "no_jump": True, "focus": ["legs"], "difficulty": "beginner"},
    ),
    (
        "Half an hour of gentle core work, quiet please",
        {"duration_minutes": 30, "intensity": "low", "focus": ["core"], "no_jump": True},
    ),
    (
        "45m hard full body, advanced",
        {"duration_minutes": 45, "intensity": "high", "focus": ["full_body"], "difficulty": "advanced"},
    ),
    # nothing it knows
    ("", {}),
    ("something fun with a view of the sea", {}),
    ("lots of jumping", {}),
]


@pytest.mark.parametrize(("sentence", "expected"), SENTENCES, ids=[s or "<empty>" for s, _ in SENTENCES])
def test_sentences_are_read_as_the_table_says(sentence, expected):
    assert parse_request_text(sentence, SAMPLE_CATEGORIES) == expected


def test_low_impact_means_no_jumping_and_not_low_intensity():
    assert parse_request_text("low-impact but hard", SAMPLE_CATEGORIES) == {"no_jump": True, "intensity": "high"}


def test_synonyms_count_only_for_categories_the_library_has():
    assert parse_request_text("abs and legs", {"legs"}) == {"focus": ["legs"]}


def test_library_category_ids_are_recognised_spelled_with_spaces_or_in_singular():
    known = {"mobility", "lower_back", "hips"}
    assert parse_request_text("hip mobility for the lower back", known) == {"focus": ["hips", "mobility", "lower_back"]}


def test_unknown_words_are_not_taken_for_categories():
    assert parse_request_text("yoga legs", {"legs", "strength"}) == {"focus": ["legs"]}


def test_first_mention_wins_when_a_field_is_stated_twice():
    said = parse_request_text("easy 20 min, no wait, hard 40 min, beginner or advanced", SAMPLE_CATEGORIES)
    assert said == {"duration_minutes": 20, "intensity": "low", "difficulty": "beginner"}


def test_focus_is_listed_once_in_order_of_mention():
    assert parse_request_text("core, legs, abs, leg", SAMPLE_CATEGORIES) == {"focus": ["core", "legs"]}


def test_a_number_without_a_time_unit_is_not_a_duration():
    assert parse_request_text("3 rounds of 10 squats", SAMPLE_CATEGORIES) == {}
