"""Every word the overlays burn in, per language: one table, so a new caption is translated in one place.

`segmenter.overlays` decides which caption a screen shows and where; this module only says how it
reads in the plan's language, and which typeface draws it. Exercise names come from the catalogue
(`exercise_name`): the French name where one is given, else the English one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from playlists.plan import Language
from segmenter.text import Typeface

NO_BREAK_SPACE = "\u00a0"
"""French puts a no-break space before a colon (the whole Aileron font draws it; the built-in subset cannot)."""


@dataclass(frozen=True)
class Captions:
    """The on-screen strings of one language; `{...}` fields are filled in by the methods below."""

    typeface: Typeface
    get_ready: str
    rest: str
    workout_complete: str
    first_up: str
    """The intro's line naming the first exercise: `{name}`."""
    next_up: str
    """A rest's line naming the exercise that follows: `{name}`."""
    position: str
    """Where the workout stands: `{round}`, `{rounds}`, `{item}`, `{items}`."""
    one_round: str
    many_rounds: str
    """The closing card's round count: `{count}`."""
    summary: str
    """The closing card's detail line: `{length}` (a clock) and `{rounds}` (one_round or many_rounds)."""

    def first(self, name: str) -> str:
        return self.first_up.format(name=name)

    def next(self, name: str) -> str:
        return self.next_up.format(name=name)

    def where(self, round_no: int, rounds: int, item: int, items: int) -> str:
        return self.position.format(round=round_no, rounds=rounds, item=item, items=items)

    def done(self, length: str, rounds: int) -> str:
        count = (self.one_round if rounds == 1 else self.many_rounds).format(count=rounds)
        return self.summary.format(length=length, rounds=count)


CAPTIONS: Mapping[Language, Captions] = {  # one entry per playlists.plan.LANGUAGES (tested)
    "en": Captions(
        typeface=Typeface.EMBEDDED,
        get_ready="Get ready",
        rest="Rest",
        workout_complete="Workout complete",
        first_up="First: {name}",
        next_up="Next: {name}",
        position="Round {round}/{rounds} · Exercise {item}/{items}",
        one_round="{count} round",
        many_rounds="{count} rounds",
        summary="{length} · {rounds}",
    ),
    "fr": Captions(
        typeface=Typeface.AILERON,
        get_ready="Préparez-vous",
        rest="Repos",
        workout_complete="Séance terminée",
        first_up=f"Premier exercice{NO_BREAK_SPACE}: {{name}}",
        next_up=f"Ensuite{NO_BREAK_SPACE}: {{name}}",
        position="Tour {round}/{rounds} · Exercice {item}/{items}",
        one_round="{count} tour",
        many_rounds="{count} tours",
        summary="{length} · {rounds}",
    ),
}


def exercise_name(name: str, name_fr: str | None, language: Language) -> str:
    """The exercise as a screen in `language` names it: the French name on French screens when the
    catalogue has one, else the English name (an untranslated exercise is still named)."""
    if language == "fr" and name_fr:
        return name_fr
    return name
