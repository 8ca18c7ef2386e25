"""What a free-text workout request ("20 min low-impact legs, beginner") asks for.

The coach app lets people type instead of filling a form, so this reads the few
things a generated workout depends on: length, intensity, level, focus, and the
no-jump / no-repeat wishes. It is a fixed vocabulary, not language understanding:
words it does not know are ignored, and the caller reports what *was* understood
so a wrong guess is visible rather than silent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

NUMBER_WORDS: dict[str, int] = {
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
}
TENS_WORDS: dict[str, int] = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "ninety": 90}

INTENSITY_WORDS: dict[str, str] = {
    "easy": "low",
    "gentle": "low",
    "light": "low",
    "relaxed": "low",
    "low intensity": "low",
    "recovery": "low",
    "medium": "medium",
    "moderate": "medium",
    "medium intensity": "medium",
    "hard": "high",
    "intense": "high",
    "intensive": "high",
    "tough": "high",
    "vigorous": "high",
    "high intensity": "high",
    "hiit": "high",
}
"""Words for the three intensities. Bare "low"/"high" are left out: "low impact" is about jumping."""

DIFFICULTY_WORDS: dict[str, str] = {
    "beginner": "beginner",
    "beginners": "beginner",
    "novice": "beginner",
    "newbie": "beginner",
    "intermediate": "intermediate",
    "advanced": "advanced",
    "expert": "advanced",
    "experienced": "advanced",
}

FOCUS_SYNONYMS: dict[str, str] = {
    "leg": "legs",
    "legs": "legs",
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
    "hiit": "cardio",
    "conditioning": "cardio",
    "fat burning": "cardio",
    "full body": "full_body",
    "whole body": "full_body",
    "total body": "full_body",
    "strength": "strength",
    "strengthening": "strength",
}
"""Everyday words for category ids; an entry counts only if its category exists in the library."""

NO_JUMP_PHRASES: tuple[str, ...] = (
    "low impact",
    "no impact",
    "no jumping",
    "no jumps",
    "no jump",
    "without jumping",
    "without jumps",
    "jump free",
    "quiet",
    "silent",
    "apartment",
    "neighbours",
    "neighbors",
    "joint friendly",
    "knee friendly",
)
"""Phrases meaning "leave out jumping moves": stated outright, or implied by a quiet, joint-friendly setting."""

NO_REPEAT_PHRASES: tuple[str, ...] = (
    "no repeats",
    "no repeat",
    "no repeating",
    "without repeats",
    "without repeating",
    "dont repeat",
    "do not repeat",
    "all different",
    "no duplicates",
)

_NUMBER = r"\d+(?:\.\d+)?"
_COUNT = rf"(?:{_NUMBER}|an?)"
_HOURS = r"(?:hours?|hrs?|h)"
_MINUTES = r"(?:minutes?|mins?|m)"
DURATION_PATTERN = re.compile(
    "|".join(
        (
            rf"\b(?P<h_half>{_COUNT}) {_HOURS} (?:and )?(?:a )?half\b",  # "an hour and a half"
            rf"\b(?P<and_half>{_NUMBER}) and a half {_HOURS}\b",  # "1 and a half hours"
            rf"\b(?P<h_m_h>{_COUNT}) {_HOURS} (?:and )?(?P<h_m_m>{_NUMBER}) {_MINUTES}\b",  # "1 hour 15 min"
            rf"\b(?P<compact_h>{_NUMBER}) h (?P<compact_m>\d+)\b",  # "1h30"
            rf"\b(?P<h>{_COUNT}) {_HOURS}\b",  # "1 hour", "1.5 hours", "an hour"
            r"\b(?P<half_hour>half (?:an )?hour)\b",
            r"\b(?P<three_quarters>3 quarters? of an hour)\b",  # number words are digits by now
            r"\b(?P<quarter>(?:a )?quarter (?:of )?(?:an )?hour)\b",
            rf"\b(?P<m>{_NUMBER}) {_MINUTES}\b",  # "20 min", "45m", "20-minute"
        )
    )
)
"""Spellings of a duration, most specific first (regex alternation takes the first that matches at a position)."""

_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+")


def parse_request_text(text: str, known_categories: set[str]) -> dict:
    """The request fields `text` states, keyed like `GenerateRequest`; fields it does not mention are absent.

    Possible keys: duration_minutes (int, not range-checked: the caller decides what is possible),
    intensity, difficulty, focus (category ids in order of mention, only `known_categories`),
    no_jump and no_repeat (True only). When one field is stated twice the first mention wins.
    """
    normalised = _normalise(text)
    understood: dict = {}
    match = DURATION_PATTERN.search(normalised)
    if match is not None:
        understood["duration_minutes"] = _minutes(match)
        normalised = normalised[: match.start()] + " " + normalised[match.end() :]

    phrases = _phrase_table(known_categories)
    for field, value in _phrase_matches(normalised.split(), phrases):
        if field == "focus":
            focus = understood.setdefault("focus", [])
            if value not in focus:
                focus.append(value)
        else:
            understood.setdefault(field, value)
    return understood


def _normalise(text: str) -> str:
    """Lower-case words and numbers separated by single spaces, number words as digits.

    Apostrophes vanish ("don't" -> "dont") and everything else separates tokens, so
    "45m", "20-minute", "1h30" and "low-impact" read as "45 m", "20 minute", "1 h 30", "low impact".
    """
    tokens = _TOKEN.findall(text.lower().replace("'", "").replace("\u2019", ""))
    return " ".join(_digits_for_number_words(tokens))


def _digits_for_number_words(tokens: list[str]) -> list[str]:
    """Number words as digits ("twenty five" -> "25", "one" -> "1"); other tokens unchanged."""
    out: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token in TENS_WORDS:
            value = TENS_WORDS[token]
            following = tokens[index + 1] if index + 1 < len(tokens) else ""
            if NUMBER_WORDS.get(following, 10) < 10:
                value += NUMBER_WORDS[following]
                index += 1
            out.append(str(value))
        elif token in NUMBER_WORDS:
            out.append(str(NUMBER_WORDS[token]))
        else:
            out.append(token)
        index += 1
    return out


def _count(spelled: str) -> float:
    return 1.0 if spelled in ("a", "an") else float(spelled)


def _minutes(match: re.Match[str]) -> int:
    """Whole minutes (half rounded up) of a DURATION_PATTERN match."""
    groups = match.groupdict()
    if groups["h_half"] is not None:
        minutes = 60 * _count(groups["h_half"]) + 30
    elif groups["and_half"] is not None:
        minutes = 60 * float(groups["and_half"]) + 30
    elif groups["h_m_h"] is not None:
        minutes = 60 * _count(groups["h_m_h"]) + float(groups["h_m_m"])
    elif groups["compact_h"] is not None:
        minutes = 60 * float(groups["compact_h"]) + float(groups["compact_m"])
    elif groups["h"] is not None:
        minutes = 60 * _count(groups["h"])
    elif groups["half_hour"] is not None:
        minutes = 30
    elif groups["three_quarters"] is not None:
        minutes = 45
    elif groups["quarter"] is not None:
        minutes = 15
    else:
        minutes = float(groups["m"])
    return math.floor(minutes + 0.5)


def _phrase_table(known_categories: set[str]) -> dict[tuple[str, ...], list[tuple[str, object]]]:
    """Every phrase (as tokens) with the field values it states, for this library's categories."""
    table: dict[tuple[str, ...], list[tuple[str, object]]] = {}

    def add(phrases: Iterable[str], field: str, value: object) -> None:
        for phrase in phrases:
            table.setdefault(tuple(phrase.split()), []).append((field, value))

    for word, intensity in INTENSITY_WORDS.items():
        add([word], "intensity", intensity)
    for word, difficulty in DIFFICULTY_WORDS.items():
        add([word], "difficulty", difficulty)
    add(NO_JUMP_PHRASES, "no_jump", True)
    add(NO_REPEAT_PHRASES, "no_repeat", True)
    for word, category in FOCUS_SYNONYMS.items():
        if category in known_categories:
            add([word], "focus", category)
    for category in known_categories:
        spelled = category.replace("_", " ")
        variants = {spelled, spelled[:-1] if spelled.endswith("s") else spelled + "s"}
        add(sorted(variants), "focus", category)
    return table


def _phrase_matches(
    tokens: list[str], table: dict[tuple[str, ...], list[tuple[str, object]]]
) -> list[tuple[str, object]]:
    """Field values in order of mention; at each position the longest known phrase is taken whole,
    so "low impact" is read as no-jump and never as part of something shorter."""
    longest = max((len(phrase) for phrase in table), default=0)
    found: list[tuple[str, object]] = []
    index = 0
    while index < len(tokens):
        for length in range(min(longest, len(tokens) - index), 0, -1):
            values = table.get(tuple(tokens[index : index + length]))
            if values is not None:
                found.extend(values)
                index += length
                break
        else:
            index += 1
    return found
