"""On-screen language: every caption in each plan language, French glyphs really drawn, nothing clipped,
and a French stream that decodes to French text (with its own segment keys and bytes)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from assets.catalogue import load_catalogue
from playlists.plan import LANGUAGES, Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from playlists.timeline import BlockKind
from segmenter.captions import CAPTIONS, NO_BREAK_SPACE, exercise_name
from segmenter.frame_store import FrameStore
from segmenter.frames import unpack_yuv420p
from segmenter.overlays import OverlayState, Text, layout, overlay_state
from segmenter.render import render_segment
from segmenter.spec import build_segment_spec, clip_ref_of, spec_key
from segmenter.text import Typeface, font, outline_width, text_sprite
from segmenter.video import segment_pictures

FRENCH = Typeface.AILERON
CHECKED_SIZES = [(640, 360), (1920, 1080)]
ACCENTED = "éèàçÉôî«»êùœÀÇ"
PRIVATE_USE = "\ue000"
"""A code point no font maps: FreeType draws it as the font's .notdef box."""
MAX_MEAN_ERROR = 4
"""Mean luma difference between a decoded text box and the picture fed to the encoder (test_render's bound)."""


def screen(kind: BlockKind, language: str, exercise: str = "Pompe") -> list[Text]:
    state = OverlayState(kind, 37, exercise, 2, 3, 4, 6, 5000, 19_920, 30, language)
    return [element for element in layout(state, 1280, 720) if isinstance(element, Text)]


def test_every_plan_language_has_every_caption():
    assert set(CAPTIONS) == set(LANGUAGES)
    for captions in CAPTIONS.values():
        assert all(getattr(captions, field.name) for field in dataclasses.fields(captions))


def test_french_screens_say_everything_in_french():
    assert [t.text for t in screen(BlockKind.INTRO, "fr")] == [
        "Préparez-vous",
        "37",
        f"Premier exercice{NO_BREAK_SPACE}: Pompe",
    ]
    assert [t.text for t in screen(BlockKind.WORK, "fr")] == ["0:37", "Pompe", "Tour 2/3 · Exercice 4/6"]
    assert [t.text for t in screen(BlockKind.REST, "fr")] == [
        "0:37",
        "Repos",
        f"Ensuite{NO_BREAK_SPACE}: Pompe",
        "Tour 2/3 · Exercice 4/6",
    ]
    assert [t.text for t in screen(BlockKind.OUTRO, "fr")] == ["Séance terminée", "11:04 · 3 tours"]
    assert all(t.face is FRENCH for kind in BlockKind for t in screen(kind, "fr"))


def test_english_screens_keep_their_words_and_the_built_in_font():
    """English segments must stay byte-identical to those cached before plans had a language."""
    words = {kind: [t.text for t in screen(kind, "en", "Push-up")] for kind in BlockKind}
    assert words == {
        BlockKind.INTRO: ["Get ready", "37", "First: Push-up"],
        BlockKind.WORK: ["0:37", "Push-up", "Round 2/3 · Exercise 4/6"],
        BlockKind.REST: ["0:37", "Rest", "Next: Push-up", "Round 2/3 · Exercise 4/6"],
        BlockKind.OUTRO: ["Workout complete", "11:04 · 3 rounds"],
    }
    assert all(t.face is Typeface.EMBEDDED for kind in BlockKind for t in screen(kind, "en"))


def test_one_round_is_singular_in_both_languages():
    assert CAPTIONS["en"].done("0:30", 1) == "0:30 · 1 round"
    assert CAPTIONS["fr"].done("0:30", 1) == "0:30 · 1 tour"


def test_a_missing_french_name_falls_back_to_the_english_one():
    assert exercise_name("Push-up", "Pompe", "fr") == "Pompe"
    assert exercise_name("Push-up", None, "fr") == "Push-up"
    assert exercise_name("Push-up", "", "fr") == "Push-up"
    assert exercise_name("Push-up", "Pompe", "en") == "Push-up"


@pytest.mark.parametrize("character", list(ACCENTED))
def test_accented_letters_and_guillemets_are_real_glyphs(character):
    """Not the .notdef box the built-in subset draws for them, and not the bare letter."""
    drawn = text_sprite(character, 60, FRENCH).fill.luma
    missing = text_sprite(PRIVATE_USE, 60, FRENCH).fill.luma
    assert drawn.any()
    assert drawn.shape != missing.shape or not np.array_equal(drawn, missing)
    bare = {"é": "e", "è": "e", "ê": "e", "à": "a", "ç": "c", "É": "E", "ô": "o", "î": "i", "ù": "u", "À": "A"}
    if character in bare:
        assert not np.array_equal(drawn, text_sprite(bare[character], 60, FRENCH).fill.luma)


def test_no_break_spaces_are_drawn_as_spaces():
    with_space = text_sprite("Ensuite : Squat", 60, FRENCH)
    with_no_break = text_sprite(f"Ensuite{NO_BREAK_SPACE}: Squat", 60, FRENCH)
    assert np.array_equal(with_no_break.fill.luma, with_space.fill.luma)
    assert np.array_equal(with_no_break.outline.luma, with_space.outline.luma)
    narrow = font(60, FRENCH).getlength("a\u202fb") - font(60, FRENCH).getlength("ab")
    assert 0 < narrow < font(60, FRENCH).getlength(" ")
    assert not text_sprite("\u202f", 60, FRENCH).fill.luma.any()  # a gap, not a box


def french_texts() -> list[Text]:
    """Every French string at every size 360p and 1080p screens draw, worst case, plus accent-heavy lines."""
    texts = []
    for width, height in CHECKED_SIZES:
        for kind in BlockKind:
            state = OverlayState(kind, 3599, "Élévations « Y » à genoux", 20, 20, 200, 200, 100, 432_000, 30, "fr")
            texts += [element for element in layout(state, width, height) if isinstance(element, Text)]
        scale = height / 720
        texts += [Text("ÉÈÀÔÎÇ « çà » où", round(size * scale), 0, 0, FRENCH) for size in (34, 60, 120)]
    return texts


@pytest.mark.parametrize("text", french_texts(), ids=lambda t: f"{t.size}px-{t.text[:24]}")
def test_french_text_keeps_all_its_ink_inside_its_sprite(text):
    """Drawn on a canvas with room to spare, the outlined text's ink is exactly the sprite's: nothing
    (an accent above a capital, a cedilla below) falls outside the sprite and is cut off."""
    sprite = text_sprite(text.text, text.size, text.face)
    loaded, stroke = font(text.size, text.face), outline_width(text.size)
    left, top, right, bottom = loaded.getbbox(text.text, stroke_width=stroke)
    pad = text.size
    canvas = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad), 0)
    ImageDraw.Draw(canvas).text(
        (pad - left, pad - top), text.text, font=loaded, fill=255, stroke_width=stroke, stroke_fill=255
    )
    free = np.asarray(canvas)
    rows, columns = np.nonzero(free)
    assert rows.min() >= pad and rows.max() < pad + sprite.outline.height
    assert columns.min() >= pad and columns.max() < pad + sprite.outline.width
    assert int(free.sum()) == int(sprite.outline.luma.sum())
    fill = sprite.fill.luma  # the white letters sit inside their dark rim: no fill ink on the border
    assert not (fill[0].any() or fill[-1].any() or fill[:, 0].any() or fill[:, -1].any())


@pytest.mark.parametrize("size", [24, 72, 160])
def test_an_accented_capital_keeps_its_accent_inside_the_sprite(size):
    accented = text_sprite("É", size, FRENCH).fill.luma
    plain = text_sprite("E", size, FRENCH).fill.luma
    extra = accented.shape[0] - plain.shape[0]
    assert extra > size // 10  # the accent stands above the capital, within the sprite
    assert accented[: extra + 1].any()  # and it is drawn there


def decoded_luma(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data), format="mpegts") as container:
        return [
            np.frombuffer(frame.planes[0], np.uint8).reshape(frame.height, -1)[:, : frame.width].copy()
            for frame in container.decode(video=0)
        ]


def test_a_french_plan_renders_french_text_and_its_own_segments(sample_clips_dir: Path, frame_store: FrameStore):
    """Decoded French frames show the French overlay (accents included) in every text box; the English
    twin of the same exercises gives other bytes and another key."""
    catalogue = load_catalogue(sample_clips_dir)
    rendition = next(r for r in DEFAULT_RENDITIONS if r.name == "360p")
    document = {"items": [{"exercise_id": "push_up", "work_seconds": 2, "rest_seconds": 2}], "rounds": 2}
    library = frame_store
    rendered = {}
    for language in LANGUAGES:
        presentation = build_presentation(Plan.model_validate(dict(document, language=language)), DEFAULT_RENDITIONS)
        clips = {"push_up": clip_ref_of(catalogue.get("push_up"), language)}
        specs = [build_segment_spec(presentation, rendition, i, clips) for i in range(len(presentation.segments))]
        rendered[language] = [(spec, render_segment(spec, library)) for spec in specs]
    assert rendered["fr"][0][0].runs[0].clip.name == "Pompe"
    for (spec_en, bytes_en), (spec_fr, bytes_fr) in zip(rendered["en"], rendered["fr"], strict=True):
        assert spec_key(spec_en) != spec_key(spec_fr)
        assert bytes_en != bytes_fr  # every segment shows a caption, a counter or a name in its language

    seen = set()
    for spec, data in rendered["fr"]:
        decoded = decoded_luma(data)
        expected = [unpack_yuv420p(picture)[0] for picture in segment_pictures(spec, library)]
        for run in spec.runs:
            frame = run.first_frame + run.frames // 2
            offset = frame - spec.start_frame
            for text in (e for e in layout(overlay_state(spec, run, frame), 640, 360) if isinstance(e, Text)):
                x, y, w, h = text.box
                got = decoded[offset][y : y + h, x : x + w].astype(np.int16)
                error = np.abs(got - expected[offset][y : y + h, x : x + w])
                assert error.mean() < MAX_MEAN_ERROR, (text.text, error.mean())
                seen.add(text.text)
    assert {"Préparez-vous", "Pompe", "Repos", "Séance terminée", "Tour 2/2 · Exercice 1/1"} <= seen
