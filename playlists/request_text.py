"""What a free-text workout request ("20 min low-impact legs, beginner", "séance de 20 minutes pour les
jambes, sans saut, débutant") asks for.

The coach app lets people type instead of filling a form, so this reads the things a generated workout
depends on: length, format, intensity, level, focus, exclusions and the no-jump / no-repeat wishes, in
English and French, accents optional. It is a fixed vocabulary (`playlists.vocabulary`) plus the
catalogue's own category ids and exercise names, not language understanding: what it cannot place is
returned as well, so the caller can say so instead of silently guessing.

Exercise names are matched as the catalogue spells them (name or id), with accents, case, hyphens and
simple plurals ("burpees", "fentes sautées") folded away; there is no translation table, so "pompes"
means push-ups only in a catalogue that calls an exercise "Pompes".
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from playlists.plan import Language
from playlists.vocabulary import (
    DIFFICULTY_WORDS,
    ELISIONS,
    ENGLISH_MARKERS,
    FOCUS_SYNONYMS,
    FORMAT_WORDS,
    FRENCH_MARKERS,
    FRENCH_ONE,
    INTENSITY_WORDS,
    LIST_JOINERS,
    NEGATED_ARTICLES,
    NEGATIONS,
    NO_JUMP_PHRASES,
    NO_REPEAT_PHRASES,
    NUMBER_WORDS,
    STOP_WORDS,
    TENS_WORDS,
    UNIT_JOINERS,
)

SEPARATORS = frozenset(",;.!?")
"""Punctuation kept as tokens: it ends a phrase and a list, and splits what is reported as not understood."""

PHRASE_TABLES_CACHED = 16
"""The vocabulary table depends only on the catalogue's categories, which rarely change: built once per set."""

MAX_NAME_WORDS_FOR_PLURALS = 4
"""Names longer than this get plural variants on the last word only (every word: 3**words variants)."""

FOLDED_CHARACTERS: dict[str, str] = {"œ": "oe", "æ": "ae", "ß": "ss", "\u2019": "'", "\u2018": "'", "`": "'", "ʼ": "'"}

_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[a-z]+(?:'[a-z]+)*|'|[,;.!?]")

_NUMBER = r"\d+(?:\.\d+)?"
_COUNT = rf"(?:{_NUMBER}|an?|une?)"
_HOURS = r"(?:hours?|hrs?|h|heures?)"
_MINUTES = r"(?:minutes?|mins?|mn|m)"
DURATION_PATTERN = re.compile(
    r"(?<!\S)(?:"
    + "|".join(
        (
            rf"(?P<h_half>{_COUNT}) {_HOURS} (?:and |et )?(?:a )?(?:half|demie?)",  # "une heure et demie"
            rf"(?P<and_half>{_NUMBER}) and a half {_HOURS}",  # "1 and a half hours"
            rf"(?P<h_quarter>{_COUNT}) {_HOURS} (?:and |et )(?:a )?(?:quarter|quart)",  # "une heure et quart"
            (  # "1h15", "1 hr 15 min", "1 heure 30"
                rf"(?P<h_m_h>{_COUNT}) {_HOURS} (?:and |et )?"
                rf"(?:(?P<h_m_m>[0-5]?\d) {_MINUTES}|(?P<h_m_c>[0-5]\d))"
            ),
            rf"(?P<h>{_COUNT}) {_HOURS}",  # "1 hour", "1.5 hours", "an hour", "une heure"
            r"(?P<half_hour>half (?:an )?hour|(?:une? )?demi heure)",
            r"(?P<three_quarters>3 quarters? of an hour|3 quarts? d heure)",  # number words are digits by now
            r"(?P<quarter>(?:a )?quarter (?:of )?(?:an )?hour|(?:un )?quart d heure)",
            rf"(?P<m>{_NUMBER}) {_MINUTES}",  # "20 min", "45m", "20-minute", "vingt minutes"
        )
    )
    + r")(?!\S)"
)
"""Spellings of a duration on the normalised words, most specific first (alternation takes the first that
matches at a position). Minutes after hours need a unit unless written with two digits ("1h05", "1 heure 30")."""


@dataclass(frozen=True)
class Token:
    """A normalised word ("20", "heure", ",") and where it was typed (characters of the original text)."""

    word: str
    start: int
    end: int


@dataclass(frozen=True)
class CatalogueTerms:
    """What the catalogue adds to the vocabulary: its category ids and its exercises' names."""

    categories: frozenset[str]
    exercises: dict[str, str] = field(default_factory=dict)
    """Exercise id -> display name."""
    other_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Exercise id -> its names in other languages (the catalogue's French name), understood as well."""

    @classmethod
    def of(
        cls,
        categories: Iterable[str],
        exercises: dict[str, str] | None = None,
        other_names: dict[str, tuple[str, ...]] | None = None,
    ) -> CatalogueTerms:
        return cls(frozenset(categories), dict(exercises or {}), dict(other_names or {}))


@dataclass(frozen=True)
class ReadText:
    """What a text asks for, and everything in it that did not become part of the request."""

    fields: dict
    """Keyed like `GenerateRequest`: duration_minutes (int, not range-checked), intensity, difficulty,
    focus (category ids in order of mention), no_jump and no_repeat (True only), plus format (a key of
    `vocabulary.FORMAT_WORDS`' values) and exclude (exercise ids). Fields not mentioned are absent."""
    not_understood: tuple[str, ...] = ()
    """Phrases, as typed, that match nothing (stop words such as "de", "the", "workout" are not listed)."""
    not_in_catalogue: tuple[tuple[str, str], ...] = ()
    """(phrase as typed, category id) for focus words whose category the catalogue does not have."""
    named: tuple[tuple[str, str], ...] = ()
    """(phrase as typed, exercise id) for exercises named without a negation: they do not choose anything."""
    repeated: tuple[str, ...] = ()
    """Phrases restating a field already stated otherwise; the first mention counts."""


PhraseTable = dict[tuple[str, ...], list[tuple[str, object]]]


def text_language(text: str) -> Language | None:
    """"fr" or "en" when the text's own words say which (vocabulary.FRENCH_MARKERS / ENGLISH_MARKERS), else
    None: "séance de 20 minutes pour les jambes" is French, "Tabata abdos" could be either."""
    words = [token.word for token in tokenise(text)]
    french = sum(word in FRENCH_MARKERS for word in words)
    english = sum(word in ENGLISH_MARKERS for word in words)
    if french == english:
        return None
    return "fr" if french > english else "en"


def parse_request_text(text: str, terms: CatalogueTerms) -> ReadText:
    """Read `text` against the fixed vocabulary and the catalogue's `terms`; never raises."""
    tokens = tokenise(text)
    words = [token.word for token in tokens]
    used = [False] * len(tokens)
    reader = _Reader(text, tokens)
    for span, minutes in _durations(words):
        reader.state("duration_minutes", minutes, span)
        used[span.start : span.stop] = [True] * len(span)

    phrases = _phrase_table(terms.categories)
    names = _name_table(terms.exercises, terms.other_names)
    negations = _negations()
    index = 0
    while index < len(words):
        if used[index] or words[index] in SEPARATORS:
            index += 1
            continue
        phrase_length, values = _longest(words, used, index, phrases)
        excluded_length, excluded = _exclusion(words, used, index, negations, names)
        if excluded_length > phrase_length:
            for exercise_id in excluded:
                reader.exclude(exercise_id)
            length = excluded_length
        elif phrase_length:
            for field_name, value in values:
                reader.state(field_name, value, range(index, index + phrase_length))
            length = phrase_length
        elif negated := _negated_focus(words, used, index, negations, phrases):
            for position in range(index, index + negated):  # "no cardio": not a focus, and not on offer
                reader.unknown(position)
            length = negated
        else:
            length, values = _longest(words, used, index, names)
            if length:
                reader.named.append((reader.said(range(index, index + length)), str(values[0][1])))
            elif words[index] not in STOP_WORDS:
                reader.unknown(index)
            length = max(length, 1)
        used[index : index + length] = [True] * length
        index += length
    return reader.result()


class _Reader:
    """Collects what the scan finds: the first mention of a field counts, later different ones are listed."""

    def __init__(self, text: str, tokens: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.fields: dict = {}
        self.named: list[tuple[str, str]] = []
        self.missing: list[tuple[str, str]] = []
        self.repeated: list[str] = []
        self.unknown_runs: list[list[int]] = []

    def said(self, span: range) -> str:
        return self.text[self.tokens[span.start].start : self.tokens[span.stop - 1].end]

    def state(self, field_name: str, value: object, span: range) -> None:
        if field_name == "missing_focus":
            self.missing.append((self.said(span), str(value)))
        elif field_name == "focus":
            focus = self.fields.setdefault("focus", [])
            if value not in focus:
                focus.append(value)
        elif field_name not in self.fields:
            self.fields[field_name] = value
        elif self.fields[field_name] != value:
            self.repeated.append(self.said(span))

    def exclude(self, exercise_id: str) -> None:
        exclude = self.fields.setdefault("exclude", [])
        if exercise_id not in exclude:
            exclude.append(exercise_id)

    def unknown(self, index: int) -> None:
        if self.unknown_runs and self.unknown_runs[-1][-1] == index - 1:
            self.unknown_runs[-1].append(index)
        else:
            self.unknown_runs.append([index])

    def result(self) -> ReadText:
        return ReadText(
            fields=self.fields,
            not_understood=tuple(self.said(range(run[0], run[-1] + 1)) for run in self.unknown_runs),
            not_in_catalogue=tuple(dict.fromkeys(self.missing)),
            named=tuple(dict.fromkeys(self.named)),
            repeated=tuple(self.repeated),
        )


# --- words ---------------------------------------------------------------------------------------


def fold(text: str) -> tuple[str, list[int]]:
    """Lower case without accents ("Séance" -> "seance", "œ" -> "oe"), and for each character of the
    result the index of the original character it came from, so phrases can be quoted as typed."""
    folded: list[str] = []
    origin: list[int] = []
    for index, character in enumerate(text):
        lower = character.lower()
        plain = FOLDED_CHARACTERS.get(lower)
        if plain is None:
            plain = "".join(c for c in unicodedata.normalize("NFKD", lower) if not unicodedata.combining(c))
        folded.append(plain)
        origin.extend([index] * len(plain))
    return "".join(folded), origin


def tokenise(text: str) -> list[Token]:
    """Normalised words with their place in `text`: accents and case folded, hyphens and other symbols as
    word breaks ("low-impact", "1h30", "45m" -> "low impact", "1 h 30", "45 m"), French elisions split
    ("d'heure" -> "d heure"), other apostrophes dropped ("don't" -> "dont"), number words as digits."""
    folded, origin = fold(text)
    raw: list[Token] = []
    for match in _TOKEN.finditer(folded):
        raw.extend(_split_apostrophes(match.group(), match.start(), origin))
    return _digits_for_number_words(raw)


def _split_apostrophes(word: str, start: int, origin: list[int]) -> list[Token]:
    def token(text: str, begin: int, end: int) -> Token:
        number = text[:1].isdigit()
        return Token(text.replace(",", ".") if number else text, origin[begin], origin[end - 1] + 1)

    if word == "'":
        return []
    parts = word.split("'")
    if len(parts) == 1:
        return [token(word, start, start + len(word))]
    tokens: list[Token] = []
    position = start
    while len(parts) > 1 and parts[0] in ELISIONS:
        tokens.append(token(parts[0], position, position + len(parts[0])))
        position += len(parts[0]) + 1
        parts = parts[1:]
    rest = "".join(parts)
    tokens.append(token(rest, position, start + len(word)))
    return tokens


def _digits_for_number_words(tokens: list[Token]) -> list[Token]:
    """Number words as digits ("twenty five" -> "25", "dix-sept" -> "17", "vingt et un" -> "21");
    a merged token spans all its words."""
    words = [token.word for token in tokens]
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        number = _read_number(words, index)
        if number is None:
            out.append(tokens[index])
            index += 1
        else:
            value, end = number
            out.append(Token(str(value), tokens[index].start, tokens[end - 1].end))
            index = end
    return out


def _below_twenty(words: list[str], index: int) -> tuple[int, int] | None:
    """A number word below twenty at `index` ("dix sept" is one), with the index after it."""
    if index >= len(words):
        return None
    if words[index] == "dix" and index + 1 < len(words) and words[index + 1] in ("sept", "huit", "neuf"):
        return 10 + NUMBER_WORDS[words[index + 1]], index + 2
    if words[index] in NUMBER_WORDS:
        return NUMBER_WORDS[words[index]], index + 1
    return None


def _read_number(words: list[str], index: int) -> tuple[int, int] | None:
    """The number spelled from `index` on and the index after it, or None."""
    word = words[index]
    if word == "quatre" and index + 1 < len(words) and words[index + 1] in ("vingt", "vingts"):
        tens, after = 80, index + 2
    elif word in TENS_WORDS:
        tens, after = TENS_WORDS[word], index + 1
    else:
        return _below_twenty(words, index)
    unit_limit = 20 if tens in (60, 80) else 10  # "soixante-quinze", "quatre-vingt-dix"
    joined = after < len(words) and words[after] in UNIT_JOINERS
    start = after + 1 if joined else after
    if start < len(words) and words[start] in FRENCH_ONE | {"onze"}:
        unit: tuple[int, int] | None = (1 if words[start] != "onze" else 11, start + 1)
    else:
        unit = _below_twenty(words, start)
    if unit is not None and 0 < unit[0] < unit_limit:
        return tens + unit[0], unit[1]
    return tens, after


def _words(phrase: str) -> tuple[str, ...]:
    """A vocabulary phrase as the tokeniser reads it, so both sides are folded alike."""
    return tuple(token.word for token in tokenise(phrase))


# --- durations -----------------------------------------------------------------------------------


def _durations(words: list[str]) -> list[tuple[range, int]]:
    """Every duration in the words: (token span, whole minutes), in order."""
    joined = " ".join(words)
    starts = list(itertools.accumulate((len(word) + 1 for word in words[:-1]), initial=0))
    found = []
    for match in DURATION_PATTERN.finditer(joined):
        first = starts.index(match.start())
        last = max(index for index, start in enumerate(starts) if start < match.end())
        found.append((range(first, last + 1), _minutes(match)))
    return found


def _count(spelled: str) -> float:
    return 1.0 if spelled in ("a", "an", "un", "une") else float(spelled)


def _minutes(match: re.Match[str]) -> int:
    """Whole minutes (half rounded up) of a DURATION_PATTERN match."""
    groups = match.groupdict()
    if groups["h_half"] is not None:
        minutes = 60 * _count(groups["h_half"]) + 30
    elif groups["and_half"] is not None:
        minutes = 60 * float(groups["and_half"]) + 30
    elif groups["h_quarter"] is not None:
        minutes = 60 * _count(groups["h_quarter"]) + 15
    elif groups["h_m_h"] is not None:
        minutes = 60 * _count(groups["h_m_h"]) + float(groups["h_m_m"] or groups["h_m_c"])
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


# --- phrases -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=PHRASE_TABLES_CACHED)
def _phrase_table(known_categories: frozenset[str]) -> PhraseTable:
    """Every vocabulary phrase (as words) with the field values it states, for this catalogue's categories;
    a focus word for a category the catalogue lacks states "missing_focus" so it can be reported."""
    table: PhraseTable = {}

    def add(phrases: Iterable[str], field_name: str, value: object) -> None:
        for phrase in phrases:
            table.setdefault(_words(phrase), []).append((field_name, value))

    for word, intensity in INTENSITY_WORDS.items():
        add([word], "intensity", intensity)
    for word, difficulty in DIFFICULTY_WORDS.items():
        add([word], "difficulty", difficulty)
    for word, format_name in FORMAT_WORDS.items():
        add([word], "format", format_name)
    add(NO_JUMP_PHRASES, "no_jump", True)
    add(NO_REPEAT_PHRASES, "no_repeat", True)
    for word, category in FOCUS_SYNONYMS.items():
        add([word], "focus" if category in known_categories else "missing_focus", category)
    for category in sorted(known_categories):
        spelled = category.replace("_", " ")
        add(sorted({spelled, _singular(spelled), spelled + "s"}), "focus", category)
    return {phrase: _focus_if_known(values) for phrase, values in table.items()}


@functools.lru_cache(maxsize=1)
def _negations() -> frozenset[tuple[str, ...]]:
    return frozenset(_words(phrase) for phrase in NEGATIONS)


def _focus_if_known(values: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """A phrase that names a known category is never also reported as a missing one."""
    if any(field_name == "focus" for field_name, _ in values):
        return [(field_name, value) for field_name, value in values if field_name != "missing_focus"]
    return values


def _singular(spelled: str) -> str:
    return spelled[:-1] if spelled.endswith("s") and len(spelled) > 3 else spelled


def _name_table(exercises: dict[str, str], other_names: dict[str, tuple[str, ...]] | None = None) -> PhraseTable:
    """Every way of writing each exercise's name (in any language the catalogue gives) or id (singular or
    plural, words joined or apart)."""
    table: PhraseTable = {}
    for exercise_id in sorted(exercises):
        spellings = (exercises[exercise_id], *(other_names or {}).get(exercise_id, ()), exercise_id.replace("_", " "))
        for spelling in spellings:
            for variant in _name_variants(_words(spelling)):
                table.setdefault(variant, []).append(("exercise", exercise_id))
    return table


def _word_forms(word: str) -> set[str]:
    """A word, its simple plural and its singular: "burpee"/"burpees", "fente"/"fentes", "genou"/"genoux",
    "crunch"/"crunches"."""
    forms = {word}
    if word.isdigit() or len(word) < 2:
        return forms
    if word.endswith("ches") or word.endswith("shes"):
        forms.add(word[:-2])
    if word.endswith(("s", "x", "z")):
        if len(word) > 3:
            forms.add(word[:-1])
    else:
        forms.add(word + "s")
        if word.endswith(("ch", "sh")):
            forms.add(word + "es")
        if word.endswith(("au", "eu", "ou")):
            forms.add(word + "x")
    return forms


def _name_variants(words: tuple[str, ...]) -> set[tuple[str, ...]]:
    if not words:
        return set()
    if len(words) > MAX_NAME_WORDS_FOR_PLURALS:
        return {words[:-1] + (form,) for form in _word_forms(words[-1])}
    spelled = set(itertools.product(*(sorted(_word_forms(word)) for word in words)))
    if len(words) > 1:
        spelled |= {(form,) for form in _word_forms("".join(words))}  # "pushups"
    return spelled


def _longest(words: list[str], used: list[bool], index: int, table: PhraseTable) -> tuple[int, list]:
    """The longest phrase of `table` starting at `index` among words not yet used: (length, its values)."""
    longest = max((len(phrase) for phrase in table), default=0)
    for length in range(min(longest, len(words) - index), 0, -1):
        if any(used[index : index + length]):
            continue
        values = table.get(tuple(words[index : index + length]))
        if values is not None:
            return length, values
    return 0, []


def _negation_length(words: list[str], used: list[bool], index: int, negations: frozenset[tuple[str, ...]]) -> int:
    """Words in the negation starting at `index` ("no", "pas de"), 0 when there is none."""
    for phrase in sorted(negations, key=len, reverse=True):
        span = slice(index, index + len(phrase))
        if tuple(words[span]) == phrase and not any(used[span]):
            return len(phrase)
    return 0


def _skip_articles(words: list[str], used: list[bool], cursor: int) -> int:
    while cursor < len(words) and words[cursor] in NEGATED_ARTICLES and not used[cursor]:
        cursor += 1
    return cursor


def _negated_focus(
    words: list[str], used: list[bool], index: int, negations: frozenset[tuple[str, ...]], phrases: PhraseTable
) -> int:
    """Words covered by a negated focus word ("no cardio", "sans les abdos"), 0 when there is none."""
    negation = _negation_length(words, used, index, negations)
    if not negation:
        return 0
    cursor = _skip_articles(words, used, index + negation)
    length, values = _longest(words, used, cursor, phrases)
    if length and all(field_name in ("focus", "missing_focus") for field_name, _ in values):
        return cursor + length - index
    return 0


def _exclusion(
    words: list[str], used: list[bool], index: int, negations: frozenset[tuple[str, ...]], names: PhraseTable
) -> tuple[int, list[str]]:
    """A negation followed by one or more exercise names ("no burpees", "sans les fentes ni pompes",
    "without planks, lunges or squats"): (words covered, exercise ids); (0, []) when there is none."""
    negation = _negation_length(words, used, index, negations)
    if not negation:
        return 0, []
    excluded: list[str] = []
    end = cursor = index + negation
    while True:
        cursor = _skip_articles(words, used, cursor)
        length, values = _longest(words, used, cursor, names) if cursor < len(words) else (0, [])
        if not length:
            break
        excluded.extend(str(value) for _, value in values)
        end = cursor = cursor + length
        if cursor < len(words) and words[cursor] in LIST_JOINERS and not used[cursor]:
            cursor += 1
    return (end - index, list(dict.fromkeys(excluded))) if excluded else (0, [])
