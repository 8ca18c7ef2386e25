import pytest

from playlists.request_text import CatalogueTerms, parse_request_text, tokenise

SAMPLE_CATEGORIES = {"legs", "strength", "cardio", "full_body", "upper_body", "core"}
SAMPLE_NAMES = {
    "squat": "Squat",
    "jumping_jack": "Jumping Jack",
    "push_up": "Push-up",
    "lunge": "Lunge",
    "plank": "Plank",
    "burpee": "Burpee",
}
SAMPLE = CatalogueTerms.of(SAMPLE_CATEGORIES, SAMPLE_NAMES)
"""The six-exercise sample catalogue's categories and names."""

FRENCH_NAMED = CatalogueTerms.of(
    SAMPLE_CATEGORIES, SAMPLE_NAMES | {"fente_sautee": "Fente sautée", "pompe_inclinee": "Pompe inclinée"}
)
"""A catalogue with exercises uploaded under French names."""


def fields(text: str, terms: CatalogueTerms = SAMPLE) -> dict:
    return parse_request_text(text, terms).fields


SENTENCES = [
    # durations, English
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
    ("1h15", {"duration_minutes": 75}),
    ("1 hr 15 min", {"duration_minutes": 75}),
    ("2 hours and 10 minutes", {"duration_minutes": 130}),
    ("an hour and a half", {"duration_minutes": 90}),
    ("an hour and a quarter", {"duration_minutes": 75}),
    ("one and a half hours", {"duration_minutes": 90}),
    ("half an hour", {"duration_minutes": 30}),
    ("a quarter of an hour", {"duration_minutes": 15}),
    ("quarter of an hour", {"duration_minutes": 15}),
    ("three quarters of an hour", {"duration_minutes": 45}),
    ("7.5 min", {"duration_minutes": 8}),
    # durations, French
    ("séance de 20 minutes", {"duration_minutes": 20}),
    ("vingt minutes", {"duration_minutes": 20}),
    ("vingt-cinq minutes", {"duration_minutes": 25}),
    ("vingt et une minutes", {"duration_minutes": 21}),
    ("dix-sept minutes", {"duration_minutes": 17}),
    ("soixante-quinze minutes", {"duration_minutes": 75}),
    ("45 mn", {"duration_minutes": 45}),
    ("une heure", {"duration_minutes": 60}),
    ("deux heures", {"duration_minutes": 120}),
    ("1,5 heure", {"duration_minutes": 90}),
    ("1 heure 30", {"duration_minutes": 90}),
    ("une heure et demie", {"duration_minutes": 90}),
    ("une heure et quart", {"duration_minutes": 75}),
    ("une demi-heure", {"duration_minutes": 30}),
    ("une demi heure", {"duration_minutes": 30}),
    ("un quart d'heure", {"duration_minutes": 15}),
    ("un quart d’heure", {"duration_minutes": 15}),
    ("trois quarts d'heure", {"duration_minutes": 45}),
    # intensity
    ("something easy", {"intensity": "low"}),
    ("a gentle one", {"intensity": "low"}),
    ("moderate please", {"intensity": "medium"}),
    ("make it HARD", {"intensity": "high"}),
    ("intense!", {"intensity": "high"}),
    ("high-intensity", {"intensity": "high"}),
    ("not too hard", {"intensity": "medium"}),
    ("quelque chose de doux", {"intensity": "low"}),
    ("séance modérée", {"intensity": "medium"}),
    ("seance moderee", {"intensity": "medium"}),
    ("intensité moyenne", {"intensity": "medium"}),
    ("intense", {"intensity": "high"}),
    ("haute intensité", {"intensity": "high"}),
    ("pas trop dur", {"intensity": "medium"}),
    # level
    ("for beginners", {"difficulty": "beginner"}),
    ("I'm a newbie", {"difficulty": "beginner"}),
    ("intermediate", {"difficulty": "intermediate"}),
    ("expert level", {"difficulty": "advanced"}),
    ("débutant", {"difficulty": "beginner"}),
    ("je suis débutante", {"difficulty": "beginner"}),
    ("niveau intermédiaire", {"difficulty": "intermediate"}),
    ("avancé", {"difficulty": "advanced"}),
    ("AVANCE", {"difficulty": "advanced"}),
    # focus
    ("legs", {"focus": ["legs"]}),
    ("one leg day", {"focus": ["legs"]}),
    ("lower body", {"focus": ["legs"]}),
    ("abs and arms", {"focus": ["core", "upper_body"]}),
    ("six pack", {"focus": ["core"]}),
    ("upper body", {"focus": ["upper_body"]}),
    ("full body", {"focus": ["full_body"]}),
    ("full-body cardio", {"focus": ["full_body", "cardio"]}),
    ("jambes", {"focus": ["legs"]}),
    ("abdos et gainage", {"focus": ["core"]}),
    ("haut du corps", {"focus": ["upper_body"]}),
    ("corps entier", {"focus": ["full_body"]}),
    ("tout le corps", {"focus": ["full_body"]}),
    ("cardio", {"focus": ["cardio"]}),
    ("renforcement des jambes", {"focus": ["strength", "legs"]}),
    # formats
    ("HIIT", {"format": "hiit"}),
    ("Tabata", {"format": "tabata"}),
    ("EMOM", {"format": "emom"}),
    ("every minute on the minute", {"format": "emom"}),
    ("toutes les minutes", {"format": "emom"}),
    ("circuit training", {"format": "circuit"}),
    ("fractionné", {"format": "hiit"}),
    # no jumping / no repeats
    ("low impact", {"no_jump": True}),
    ("no jumping", {"no_jump": True}),
    ("quiet, my neighbours sleep", {"no_jump": True}),
    ("apartment friendly", {"no_jump": True}),
    ("sans saut", {"no_jump": True}),
    ("pas de sauts", {"no_jump": True}),
    ("faible impact", {"no_jump": True}),
    ("doux pour les genoux", {"no_jump": True}),
    ("don't repeat exercises", {"no_repeat": True}),
    ("no repeats", {"no_repeat": True}),
    ("sans répétition", {"no_repeat": True}),
    # exclusions by catalogue name or id, plurals and accents folded
    ("no burpees", {"exclude": ["burpee"]}),
    ("sans burpees", {"exclude": ["burpee"]}),
    ("without planks", {"exclude": ["plank"]}),
    ("without the plank", {"exclude": ["plank"]}),
    ("no push-ups", {"exclude": ["push_up"]}),
    ("no pushups", {"exclude": ["push_up"]}),
    ("skip push_up", {"exclude": ["push_up"]}),
    ("pas de squats", {"exclude": ["squat"]}),
    ("sauf les fentes", {}),  # "fentes" is no name of this catalogue
    ("no jumping jacks", {"exclude": ["jumping_jack"]}),  # the exercise, not every jump
    ("no burpees, planks or lunges", {"exclude": ["burpee", "plank", "lunge"]}),
    ("sans burpees ni planks", {"exclude": ["burpee", "plank"]}),
    ("no burpees and no squats", {"exclude": ["burpee", "squat"]}),
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
    (
        "45 min full body strength no burpees",
        {"duration_minutes": 45, "focus": ["full_body", "strength"], "exclude": ["burpee"]},
    ),
    (
        "séance de 20 minutes pour les jambes, sans saut, débutant",
        {"duration_minutes": 20, "focus": ["legs"], "no_jump": True, "difficulty": "beginner"},
    ),
    (
        "seance de 20 minutes pour les jambes, sans saut, debutant",
        {"duration_minutes": 20, "focus": ["legs"], "no_jump": True, "difficulty": "beginner"},
    ),
    ("Tabata abs", {"format": "tabata", "focus": ["core"]}),
    # nothing it knows
    ("", {}),
    ("something fun with a view of the sea", {}),
    ("lots of jumping", {}),
]


@pytest.mark.parametrize(("sentence", "expected"), SENTENCES, ids=[s or "<empty>" for s, _ in SENTENCES])
def test_sentences_are_read_as_the_table_says(sentence, expected):
    assert fields(sentence) == expected


def test_low_impact_means_no_jumping_and_not_low_intensity():
    assert fields("low-impact but hard") == {"no_jump": True, "intensity": "high"}


def test_synonyms_count_only_for_categories_the_library_has():
    read = parse_request_text("abs and legs", CatalogueTerms.of({"legs"}))
    assert read.fields == {"focus": ["legs"]}
    assert read.not_in_catalogue == (("abs", "core"),)


def test_library_category_ids_are_recognised_spelled_with_spaces_or_in_singular():
    known = CatalogueTerms.of({"mobility", "lower_back", "hips"})
    assert parse_request_text("hip mobility for the lower back", known).fields == {
        "focus": ["hips", "mobility", "lower_back"]
    }


def test_unknown_words_are_not_taken_for_categories_and_are_reported():
    read = parse_request_text("yoga legs", CatalogueTerms.of({"legs", "strength"}))
    assert read.fields == {"focus": ["legs"]}
    assert read.not_understood == ("yoga",)


def test_first_mention_wins_and_later_different_mentions_are_reported():
    read = parse_request_text("easy 20 min, no wait, hard 40 min, beginner or advanced", SAMPLE)
    assert read.fields == {"duration_minutes": 20, "intensity": "low", "difficulty": "beginner"}
    assert read.repeated == ("40 min", "hard", "advanced")
    assert read.not_understood == ("no wait",)


def test_focus_is_listed_once_in_order_of_mention():
    assert fields("core, legs, abs, leg") == {"focus": ["core", "legs"]}


def test_a_number_without_a_time_unit_is_not_a_duration_and_is_reported():
    read = parse_request_text("3 rounds of 10 squats", SAMPLE)
    assert read.fields == {}
    assert read.not_understood == ("3 rounds", "10")
    assert read.named == (("squats", "squat"),)


def test_not_understood_phrases_are_quoted_as_typed_without_stop_words():
    read = parse_request_text("Séance de yoga très zen pour les jambes, s'il vous plaît", SAMPLE)
    assert read.fields == {"focus": ["legs"]}
    assert read.not_understood == ("yoga très zen",)


def test_stop_words_of_both_languages_are_never_reported():
    for sentence in ("a workout for the legs please", "une séance pour les jambes de moi", "le travail des abdos"):
        assert parse_request_text(sentence, SAMPLE).not_understood == (), sentence


def test_accents_and_case_are_optional():
    for spelled in ("débutant", "debutant", "DÉBUTANT", "Debutant"):
        assert fields(spelled) == {"difficulty": "beginner"}


def test_an_uploaded_exercise_is_excluded_by_its_french_name_with_plurals_and_accents_folded():
    assert fields("sans fentes sautées", FRENCH_NAMED) == {"exclude": ["fente_sautee"]}
    both = fields("sans fente sautee ni pompes inclinées", FRENCH_NAMED)
    assert both == {"exclude": ["fente_sautee", "pompe_inclinee"]}


def test_an_exercise_name_the_catalogue_lacks_is_reported_not_guessed():
    read = parse_request_text("sans pompes", SAMPLE)  # French for push-ups, but the catalogue says "Push-up"
    assert read.fields == {}
    assert read.not_understood == ("sans pompes",)


def test_a_negated_category_is_reported_rather_than_read_as_a_focus():
    read = parse_request_text("legs, no cardio", SAMPLE)
    assert read.fields == {"focus": ["legs"]}
    assert read.not_understood == ("no cardio",)


def test_an_exercise_named_without_a_negation_chooses_nothing_and_is_reported():
    read = parse_request_text("20 min of burpees", SAMPLE)
    assert read.fields == {"duration_minutes": 20}
    assert read.named == (("burpees", "burpee"),)


def test_tokens_keep_where_they_were_typed_so_phrases_are_quoted_exactly():
    text = "Un quart d'heure, ÉPAULES"
    assert [(token.word, text[token.start : token.end]) for token in tokenise(text)] == [
        ("un", "Un"),
        ("quart", "quart"),
        ("d", "d"),
        ("heure", "heure"),
        (",", ","),
        ("epaules", "ÉPAULES"),
    ]


def test_names_ending_in_ch_or_sh_are_understood_in_their_es_plural():
    """English plurals of "crunch" and "push" take -es: "no crunches" excludes the crunch."""
    terms = CatalogueTerms.of({"crunch": ("core",), "squat": ("legs",)}, {"crunch": "Crunch", "squat": "Squat"})
    assert fields("no crunches", terms) == {"exclude": ["crunch"]}
    assert fields("sans crunchs", terms) == {"exclude": ["crunch"]}
    assert fields("no crunch", terms) == {"exclude": ["crunch"]}
