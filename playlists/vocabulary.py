"""The fixed English and French words a typed workout request is read with (see `playlists.request_text`).

Kept apart from the reading code so the word lists can grow without touching the logic. Every phrase is
written here as people type it, accents and hyphens included; `request_text` folds both sides the same way
(lower case, accents dropped, hyphens and apostrophes as word breaks), so "débutant", "debutant" and
"DÉBUTANT" are one word. Exercise names are not listed here: they come from the catalogue itself.
"""

from __future__ import annotations

NUMBER_WORDS: dict[str, int] = {
    # English
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    # French ("un"/"une" stay words: they are also articles, and the duration patterns read them as 1)
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "treize": 13,
    "quatorze": 14,
    "quinze": 15,
    "seize": 16,
}
"""Number words below twenty, read as digits ("six" is both languages)."""

TENS_WORDS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "vingt": 20,
    "trente": 30,
    "quarante": 40,
    "cinquante": 50,
    "soixante": 60,
}
"""Tens that a unit may follow: "twenty five", "vingt-cinq", "vingt et un", "dix-sept", "soixante-dix"."""

UNIT_JOINERS: frozenset[str] = frozenset({"et"})
"""French joins a ten and "un" with "et" ("vingt et un")."""

FRENCH_ONE: frozenset[str] = frozenset({"un", "une"})

INTENSITY_WORDS: dict[str, str] = {
    # English
    "easy": "low",
    "gentle": "low",
    "light": "low",
    "relaxed": "low",
    "low intensity": "low",
    "recovery": "low",
    "medium": "medium",
    "moderate": "medium",
    "medium intensity": "medium",
    "moderate intensity": "medium",
    "not too hard": "medium",
    "hard": "high",
    "intense": "high",
    "intensive": "high",
    "tough": "high",
    "vigorous": "high",
    "high intensity": "high",
    # French ("dure" is left out: "la séance dure 20 minutes" means "lasts")
    "doux": "low",
    "douce": "low",
    "facile": "low",
    "tranquille": "low",
    "léger": "low",
    "légère": "low",
    "faible intensité": "low",
    "basse intensité": "low",
    "intensité faible": "low",
    "récupération": "low",
    "modéré": "medium",
    "modérée": "medium",
    "moyen": "medium",
    "moyenne": "medium",
    "intensité moyenne": "medium",
    "intensité modérée": "medium",
    "pas trop dur": "medium",
    "pas trop intense": "medium",
    "dur": "high",
    "intensif": "high",
    "difficile": "high",
    "soutenu": "high",
    "soutenue": "high",
    "haute intensité": "high",
    "forte intensité": "high",
    "intensité élevée": "high",
}
"""Words for the three intensities. Bare "low"/"high" are left out: "low impact" is about jumping."""

DIFFICULTY_WORDS: dict[str, str] = {
    "beginner": "beginner",
    "beginners": "beginner",
    "novice": "beginner",
    "newbie": "beginner",
    "débutant": "beginner",
    "débutante": "beginner",
    "débutants": "beginner",
    "débutantes": "beginner",
    "intermediate": "intermediate",
    "intermédiaire": "intermediate",
    "intermédiaires": "intermediate",
    "advanced": "advanced",
    "expert": "advanced",
    "experienced": "advanced",
    "avancé": "advanced",
    "avancée": "advanced",
    "avancés": "advanced",
    "confirmé": "advanced",
    "confirmée": "advanced",
    "experte": "advanced",
    "expérimenté": "advanced",
    "expérimentée": "advanced",
}

FOCUS_SYNONYMS: dict[str, str] = {
    # English
    "leg": "legs",
    "legs": "legs",
    "leg day": "legs",
    "lower body": "legs",
    "glutes": "legs",
    "thighs": "legs",
    "quads": "legs",
    "core": "core",
    "abs": "core",
    "abdominals": "core",
    "stomach": "core",
    "six pack": "core",
    "upper body": "upper_body",
    "arm": "upper_body",
    "arms": "upper_body",
    "chest": "upper_body",
    "shoulders": "upper_body",
    "cardio": "cardio",
    "conditioning": "cardio",
    "fat burning": "cardio",
    "full body": "full_body",
    "whole body": "full_body",
    "total body": "full_body",
    "strength": "strength",
    "strengthening": "strength",
    # French
    "jambe": "legs",
    "jambes": "legs",
    "bas du corps": "legs",
    "cuisses": "legs",
    "fessiers": "legs",
    "fesses": "legs",
    "mollets": "legs",
    "abdos": "core",
    "abdo": "core",
    "abdominaux": "core",
    "gainage": "core",
    "ventre": "core",
    "sangle abdominale": "core",
    "haut du corps": "upper_body",
    "bras": "upper_body",
    "épaules": "upper_body",
    "pectoraux": "upper_body",
    "pecs": "upper_body",
    "cardio training": "cardio",
    "brûle graisse": "cardio",
    "corps entier": "full_body",
    "corps complet": "full_body",
    "tout le corps": "full_body",
    "renforcement": "strength",
    "renforcement musculaire": "strength",
    "musculation": "strength",
    "muscu": "strength",
    "force": "strength",
}
"""Everyday words for category ids; an entry counts only if its category exists in the catalogue
(the catalogue's own category ids are recognised too, spelled with spaces, singular or plural)."""

NO_JUMP_PHRASES: tuple[str, ...] = (
    # English
    "low impact",
    "no impact",
    "no jumping",
    "no jumps",
    "no jump",
    "without jumping",
    "without jumps",
    "without jump",
    "jump free",
    "quiet",
    "silent",
    "apartment",
    "neighbours",
    "neighbors",
    "joint friendly",
    "knee friendly",
    # French
    "sans saut",
    "sans sauts",
    "sans sauter",
    "pas de saut",
    "pas de sauts",
    "sans impact",
    "faible impact",
    "impact faible",
    "bas impact",
    "silencieux",
    "silencieuse",
    "sans bruit",
    "discret",
    "discrète",
    "appartement",
    "voisins",
    "doux pour les genoux",
    "doux pour les articulations",
)
"""Phrases meaning "leave out jumping moves": stated outright, or implied by a quiet, joint-friendly setting."""

NO_REPEAT_PHRASES: tuple[str, ...] = (
    "no repeats",
    "no repeat",
    "no repeating",
    "without repeats",
    "without repeating",
    "don't repeat",
    "do not repeat",
    "all different",
    "no duplicates",
    "sans répétition",
    "sans répétitions",
    "pas de répétition",
    "sans répéter",
    "tous différents",
    "toutes différentes",
    "sans doublon",
    "sans doublons",
)

FORMAT_WORDS: dict[str, str] = {
    "tabata": "tabata",
    "tabatas": "tabata",
    "emom": "emom",
    "every minute on the minute": "emom",
    "every minute": "emom",
    "chaque minute": "emom",
    "toutes les minutes": "emom",
    "hiit": "hiit",
    "high intensity interval training": "hiit",
    "interval training": "hiit",
    "fractionné": "hiit",
    "circuit": "circuit",
    "circuits": "circuit",
    "circuit training": "circuit",
}
"""Names of interval formats, keyed to `playlists.generator.TEXT_FORMATS`."""

NEGATIONS: tuple[str, ...] = (
    "no",
    "not",
    "without",
    "except",
    "excluding",
    "exclude",
    "skip",
    "avoid",
    "minus",
    "sans",
    "pas de",
    "sauf",
    "hors",
    "excepté",
    "éviter",
    "évite",
    "à part",
)
"""Words that, followed by an exercise's name, leave that exercise out ("no burpees", "sans fentes")."""

NEGATED_ARTICLES: frozenset[str] = frozenset({"the", "any", "le", "la", "l", "les", "de", "d", "des", "du"})
"""Words that may stand between a negation and the exercise name ("without the planks", "sans les burpees")."""

LIST_JOINERS: frozenset[str] = frozenset({",", "and", "or", "nor", "et", "ou", "ni"})
"""Words joining the names of a list of excluded exercises ("no burpees, planks or lunges", "ni pompes")."""

ENGLISH_STOP_WORDS = """
    a an the of for with and or to in on at by my me i im id please pls some any just
    want need give get do lets let us is it its that this but also so
    workout workouts session sessions training train exercise exercises routine work today
    level focus focused focusing style type kind mode about around roughly approximately
"""
FRENCH_STOP_WORDS = """
    je j veux voudrais aimerais un une de d du des le la l les pour avec et ou en au aux a sur
    mon ma mes moi me m qui que qu c ce cette est s il vous plait svp stp merci mais aussi faire
    seance seances entrainement entrainements exercice exercices programme travail niveau
    axe axee cible ciblee pendant durant environ
"""
STOP_WORDS: frozenset[str] = frozenset((ENGLISH_STOP_WORDS + FRENCH_STOP_WORDS).split())
FRENCH_MARKERS: frozenset[str] = (frozenset(FRENCH_STOP_WORDS.split()) - frozenset(ENGLISH_STOP_WORDS.split())) | frozenset(
    """sans pas jambes abdos gainage haut corps entier saut sauts debutant debutante debutants intermediaire
    avance avancee confirme doux douce modere moderee heure heures demi quart fractionne minute""".split()
)
"""Folded words that only a French request uses: with more of them than of ENGLISH_MARKERS, the text is
French, and a generated plan is drawn in French unless the request names a language."""
ENGLISH_MARKERS: frozenset[str] = (frozenset(ENGLISH_STOP_WORDS.split()) - frozenset(FRENCH_STOP_WORDS.split())) | frozenset(
    """no without legs abs core upper body full beginner intermediate advanced easy moderate hard hour hours
    half quarter jumping jump jumps low impact""".split()
)
"""Folded words that only an English request uses (see FRENCH_MARKERS)."""
"""Words that carry no request by themselves, never reported as "not understood" (already folded: no accents)."""

ELISIONS: frozenset[str] = frozenset({"c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu"})
"""French words that drop their vowel before an apostrophe ("d'heure", "l'abdo"): a word of their own."""
