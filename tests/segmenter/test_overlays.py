"""Overlay state, layout at every rendition size, and drawing."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from assets.catalogue import load_catalogue
from assets.framemark import mark_box
from playlists.plan import LANGUAGES, Plan
from playlists.presentation import build_presentation
from playlists.renditions import CELLULAR_BASELINE, DEFAULT_RENDITIONS, Rendition
from playlists.timeline import BlockKind
from segmenter.frame_store import FrameStore
from segmenter.frames import make_background, unpack_yuv420p
from segmenter.overlays import ACCENT, MIN_TEXT_SIZE, Box, OverlayState, Text, clock, draw, layout, overlay_state
from segmenter.spec import build_segment_spec, clip_ref_of
from segmenter.text import text_box
from segmenter.video import segment_pictures

SIZES = [(416, 234), (640, 360), (960, 540), (1280, 720), (1920, 1080)]
LONG_NAME = {
    "en": "Alternating Dumbbell Shoulder Press",
    "fr": "Élévations latérales « Y » à genoux, çà et là",  # accented capitals, guillemets, cedilla
}


def worst_case(kind: BlockKind, language: str = "en") -> OverlayState:
    return OverlayState(
        kind,
        seconds_left=3599,
        exercise=LONG_NAME[language],
        round=20,
        rounds=20,
        item=200,
        items=200,
        frame=100,
        total_frames=432_000,
        fps=30,
        language=language,
    )


def overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("width", "height"), SIZES)
@pytest.mark.parametrize("kind", list(BlockKind))
def test_layout_fits_the_frame_without_overlaps_or_covering_the_frame_mark(kind, width, height, language):
    elements = layout(worst_case(kind, language), width, height)
    texts = [e for e in elements if isinstance(e, Text)]
    assert texts, "every screen says something"
    for element in elements:
        x, y, w, h = element.box
        assert 0 <= x and 0 <= y and x + w <= width and y + h <= height, element
        assert not overlaps(element.box, mark_box(height)), element
    for a, b in itertools.combinations(texts, 2):
        assert not overlaps(a.box, b.box), (a, b)
    bars = [e for e in elements if isinstance(e, Box)]
    for text in texts:
        assert not any(overlaps(text.box, bar.box) for bar in bars), text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(BlockKind))
def test_text_stays_readable_at_360p(kind, language):
    """The smallest text at 640x360 is at least 16 px tall (about 11 px capitals)."""
    texts = [e for e in layout(worst_case(kind, language), 640, 360) if isinstance(e, Text)]
    assert min(text_box(t.text, t.size, t.face)[1] for t in texts) >= 16


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", list(BlockKind))
def test_no_text_is_smaller_than_the_minimum_at_the_cellular_baseline(kind, language):
    """At 416x234 the scaled small print would be 10-11 px; long lines may use the whole width instead."""
    baseline = CELLULAR_BASELINE
    texts = [e for e in layout(worst_case(kind, language), baseline.width, baseline.height) if isinstance(e, Text)]
    assert min(t.size for t in texts) >= MIN_TEXT_SIZE


def test_countdown_rounds_up_so_it_reads_zero_only_after_the_interval():
    spec_like = type("S", (), {"fps": 30, "items_per_round": 3, "rounds": 2, "total_frames": 9000, "language": "en"})
    run = type(
        "R",
        (),
        {
            "kind": BlockKind.WORK,
            "offset_in_block": 0,
            "first_frame": 300,
            "block_frames": 300,
            "round": 1,
            "item": 0,
            "clip": None,
        },
    )
    assert overlay_state(spec_like, run, 300).seconds_left == 10
    assert overlay_state(spec_like, run, 301).seconds_left == 10
    assert overlay_state(spec_like, run, 329).seconds_left == 10
    assert overlay_state(spec_like, run, 330).seconds_left == 9
    assert overlay_state(spec_like, run, 599).seconds_left == 1


def test_a_rest_announces_the_next_exercise_and_wraps_to_the_next_round():
    spec_like = type("S", (), {"fps": 30, "items_per_round": 3, "rounds": 2, "total_frames": 9000, "language": "en"})
    run = type(
        "R",
        (),
        {
            "kind": BlockKind.REST,
            "offset_in_block": 0,
            "first_frame": 0,
            "block_frames": 300,
            "round": 1,
            "item": 2,
            "clip": None,
        },
    )
    state = overlay_state(spec_like, run, 0)
    assert (state.round, state.item) == (2, 1)


def test_clock_reads_minutes_and_seconds():
    assert [clock(s) for s in (0, 7, 60, 754)] == ["0:00", "0:07", "1:00", "12:34"]


def test_progress_bar_fills_with_the_workout():
    half = layout(OverlayState(BlockKind.WORK, 5, "Squat", 1, 1, 1, 1, 499, 1000, 30), 1280, 720)
    track, fill = [e for e in half if isinstance(e, Box)]
    assert fill.colour == ACCENT[BlockKind.WORK]
    assert fill.width == track.width // 2


def test_drawing_changes_only_the_overlay_boxes_and_text_is_white_on_dark_rim():
    picture = make_background(1280, 720)
    before = picture.copy()
    elements = layout(OverlayState(BlockKind.WORK, 37, "Squat", 1, 3, 1, 4, 100, 1000, 30), 1280, 720)
    draw(picture, elements)
    y_before, y_after = unpack_yuv420p(before)[0], unpack_yuv420p(picture)[0]
    changed = y_before != y_after
    covered = np.zeros_like(changed)
    for element in elements:
        x, y, w, h = element.box
        covered[y : y + h, x : x + w] = True
    assert changed.any() and not (changed & ~covered).any()
    countdown = next(e for e in elements if isinstance(e, Text) and e.text == "0:37")
    x, y, w, h = countdown.box
    assert y_after[y : y + h, x : x + w].max() >= 230  # white fill (Y 235)
    assert y_after[y : y + h, x : x + w].min() < y_before[y : y + h, x : x + w].min()  # dark rim


def test_the_same_instant_is_pixel_identical_whichever_segment_draws_it(sample_clips_dir: Path, frame_store: FrameStore):
    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    document = {"items": [{"exercise_id": "squat", "work_seconds": 9, "rest_seconds": 5}], "rounds": 2}
    rendition: Rendition = DEFAULT_RENDITIONS[0]
    library = frame_store
    pictures = []
    for segment_seconds in (2, 3):
        presentation = build_presentation(
            Plan.model_validate(dict(document, segment_seconds=segment_seconds)), DEFAULT_RENDITIONS
        )
        frames = {}
        for index in range(len(presentation.segments)):
            spec = build_segment_spec(presentation, rendition, index, clips)
            for offset, picture in enumerate(segment_pictures(spec, library)):
                frames[spec.start_frame + offset] = picture
        pictures.append(frames)
    assert pictures[0].keys() == pictures[1].keys()
    assert all(np.array_equal(pictures[0][f], pictures[1][f]) for f in pictures[0])
    assert Fraction(len(pictures[0]), 30) == 3 + 9 + 5 + 9 + 4  # intro, round, rest between rounds, round, outro


def test_a_folded_text_stamp_is_within_one_level_of_blending_rim_then_fill():
    """The one-pass stamp must look like painting the dark rim, then the white fill."""
    from segmenter.overlays import BLACK, OUTLINE_OPACITY, WHITE, apply, text_stamp
    from segmenter.text import text_sprite

    rng = np.random.default_rng(7)
    sprite = text_sprite("Jumping jack 0:37", 60)
    height, width = sprite.fill.luma.shape
    y, u, v = (
        rng.integers(16, 236, size=shape, dtype=np.uint8)
        for shape in [(height, width)] + [(height // 2, width // 2)] * 2
    )
    planes = (y.copy(), u.copy(), v.copy())
    apply(planes, 0, 0, text_stamp("Jumping jack 0:37", 60))

    def reference(plane, masks):
        out = plane.astype(np.float64)
        for alpha, value in masks:
            out = out * (1 - alpha / 255) + value * alpha / 255
        return out

    for got, plane, field, (rim, fill) in [
        (planes[0], y, "luma", (BLACK.y, WHITE.y)),
        (planes[1], u, "chroma", (BLACK.u, WHITE.u)),
        (planes[2], v, "chroma", (BLACK.v, WHITE.v)),
    ]:
        outline, body = getattr(sprite.outline, field), getattr(sprite.fill, field)
        expected = reference(plane, [(outline * OUTLINE_OPACITY, rim), (body.astype(np.float64), fill)])
        assert np.abs(got.astype(np.float64) - expected).max() <= 1.0


def test_warming_rasterises_the_countdowns_and_names_a_first_segment_draws():
    from segmenter.overlays import text_stamp, warm_stamps

    assert warm_stamps(640, 360, {"en": ["Push-up"], "fr": ["Pompe"]}) > 20
    before = text_stamp.cache_info()
    drawn = []
    for state in (
        OverlayState(BlockKind.WORK, 7, "Push-up", 1, 1, 1, 1, 0, 1, 30),
        OverlayState(BlockKind.WORK, 7, "Pompe", 1, 1, 1, 1, 0, 1, 30, "fr"),
        OverlayState(BlockKind.INTRO, 3, "Pompe", 1, 1, 1, 1, 0, 1, 30, "fr"),
    ):
        texts = [e for e in layout(state, 640, 360) if isinstance(e, Text)]
        drawn += [t for t in texts if t.text in ("0:07", "Push-up", "Pompe", "Préparez-vous")]
    for text in drawn:
        text_stamp(text.text, text.size, text.face)
    assert len(drawn) == 5  # the countdown and the name in each language, and the French "Get ready"
    assert text_stamp.cache_info().hits - before.hits == 5
