"""Stills drawn without rendering a segment: the same pictures the encoder gets, as JPEGs, and the storyboard."""

from __future__ import annotations

import io
import itertools
import math
import re
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from assets.catalogue import load_catalogue
from assets.framemark import read_frame_mark
from playlists.plan import Plan
from playlists.presentation import Presentation, build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from playlists.timeline import BlockKind, compile_plan
from segmenter.frame_store import FrameStore
from segmenter.pictures import (
    EmptyStoryboard,
    FrameOutOfRange,
    Tile,
    clip_middle_frame,
    clip_still_jpeg,
    clip_still_key,
    frame_at_time,
    jpeg_of,
    picture_at,
    picture_height,
    picture_key,
    picture_rendition,
    poster_frame,
    segment_index_of,
    still_jpeg,
    storyboard,
    storyboard_vtt,
    vtt_timestamp,
)
from segmenter.render import render_segment
from segmenter.sampling import source_frame_index
from segmenter.spec import ClipRef, SpecBuilder, clip_ref_of
from segmenter.video import segment_pictures

PLAN = {
    "items": [
        {"exercise_id": "squat", "work_seconds": 4, "rest_seconds": 2},
        {"exercise_id": "jumping_jack", "work_seconds": 3},
    ],
    "speed": 1.33,
    "segment_seconds": 2,
}
"""16 s (3 intro + 4 + 2 + 3 + 4 outro): not a multiple of the 5 s storyboard interval."""
FULL_WIDTH = 1280
MARK_TOLERANCE_WIDTH = FULL_WIDTH
"""The frame mark reads reliably at 360 lines and up; JPEG at full size keeps its cells clean."""
SATURATED_CHROMA = 40
"""|U-128| + |V-128| above this: a coloured pixel, where a wrong YUV matrix shows (grey ones hide it)."""
EDGE_MARGIN = 4
"""Pixels kept clear of colour edges, where JPEG's and the decoder's chroma filtering differ."""


@pytest.fixture(scope="module")
def clips(sample_clips_dir: Path) -> dict[str, ClipRef]:
    return {e.id: clip_ref_of(e) for e in load_catalogue(sample_clips_dir).exercises.values()}


@pytest.fixture(scope="module")
def presentation() -> Presentation:
    return build_presentation(Plan.model_validate(PLAN), DEFAULT_RENDITIONS)


@pytest.fixture(scope="module")
def library(frame_store: FrameStore) -> FrameStore:
    return frame_store


@pytest.fixture(scope="module")
def builder(presentation: Presentation, clips: dict[str, ClipRef]) -> SpecBuilder:
    rendition = picture_rendition(presentation.renditions, FULL_WIDTH)
    assert rendition.width == FULL_WIDTH
    return SpecBuilder(presentation, rendition, clips)


def block_of(presentation: Presentation, kind: BlockKind, exercise_id: str | None = None):
    return next(
        b
        for b in presentation.timeline.blocks
        if b.kind is kind and (exercise_id is None or b.exercise_id == exercise_id)
    )


def decoded_jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()
    return image


def luma_of(rgb: np.ndarray) -> np.ndarray:
    """BT.709 luma (full range): what the frame mark reader thresholds against its own reference cells."""
    return (rgb[..., 0] * 0.2126 + rgb[..., 1] * 0.7152 + rgb[..., 2] * 0.0722).round().astype(np.uint8)


def expected_clip_frame(presentation: Presentation, clips: dict[str, ClipRef], frame: int) -> int:
    block = presentation.timeline.block_at(frame)
    clip = clips[block.exercise_id]
    return source_frame_index(frame - block.start_frame, block.speed, clip.fps, clip.frames, presentation.timeline.fps)


def bt709_limited_to_rgb(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray]:
    """A decoded yuv420p frame as RGB by the BT.709 formulas written out (not swscale, which is under test),
    and each pixel's chroma saturation |U-128| + |V-128|."""
    y, u, v = (
        np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width].astype(np.float64) for p in frame.planes
    )
    u, v = (c.repeat(2, axis=0).repeat(2, axis=1) for c in (u, v))
    kr, kb = 0.2126, 0.0722
    luma, cb, cr = (y - 16) * 255 / 219, (u - 128) * 255 / 224, (v - 128) * 255 / 224
    red, blue = luma + 2 * (1 - kr) * cr, luma + 2 * (1 - kb) * cb
    green = (luma - kr * red - kb * blue) / (1 - kr - kb)
    return np.clip(np.stack([red, green, blue], axis=-1), 0, 255), (np.abs(u - 128) + np.abs(v - 128))


def away_from_edges(mask: np.ndarray, margin: int) -> np.ndarray:
    """Pixels whose whole (2*margin+1)^2 neighbourhood is in the mask."""
    kept = mask.copy()
    for dy in range(-margin, margin + 1):
        for dx in range(-margin, margin + 1):
            kept &= np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    return kept


def test_a_picture_is_the_encoder_input_of_that_frame_in_its_segment(presentation, builder, library):
    """Byte for byte what the segment's encoder is fed: intro, work (mid-segment and on a segment's
    first frame), rest and the closing card."""
    work = block_of(presentation, BlockKind.WORK, "jumping_jack")
    second_segment = presentation.segments[segment_index_of(presentation, work.start_frame) + 1]
    frames = [
        10,
        work.start_frame + 7,
        second_segment.start_frame,
        block_of(presentation, BlockKind.REST).start_frame + 31,
        presentation.timeline.total_frames - 1,
    ]
    for frame in frames:
        index = segment_index_of(presentation, frame)
        segment = presentation.segments[index]
        pictures = list(segment_pictures(builder.spec(index), library))
        assert np.array_equal(picture_at(builder, frame, library), pictures[frame - segment.start_frame]), frame


def test_a_full_size_thumbnail_of_work_shows_the_clip_frame_the_sampling_rule_picks(
    presentation, builder, library, clips
):
    """At 1.33x the picked clip frame is not the output frame's offset: several frames of two clips."""
    squat, jumping_jack = (block_of(presentation, BlockKind.WORK, e).start_frame for e in ("squat", "jumping_jack"))
    frames = [squat + k for k in (0, 17, 59, 101)] + [jumping_jack + k for k in (5, 40)]
    shown, expected = [], []
    for frame in frames:
        data = jpeg_of(picture_at(builder, frame, library), FULL_WIDTH, picture_height(FULL_WIDTH, builder.rendition))
        shown.append(read_frame_mark(luma_of(np.asarray(decoded_jpeg(data).convert("RGB")))))
        expected.append(expected_clip_frame(presentation, clips, frame))
    assert len(set(expected)) == len(expected)  # the frames chosen tell neighbours apart
    assert shown == expected


def test_thumbnail_colours_match_the_decoded_segment_frame(presentation, builder, library):
    """Render the segment, decode the frame, convert it with the BT.709 limited-range formulas: the JPEG's
    colours agree overall and on coloured pixels (a BT.601 or full-range mistake is 4-7 levels off there)."""
    work = block_of(presentation, BlockKind.WORK, "squat")
    frame = work.start_frame + 45
    index = segment_index_of(presentation, frame)
    data = render_segment(builder.spec(index), library)
    with av.open(io.BytesIO(data), format="mpegts") as container:
        decoded = list(container.decode(video=0))[frame - presentation.segments[index].start_frame]
    reference, chroma = bt709_limited_to_rgb(decoded)
    thumbnail = np.asarray(decoded_jpeg(still_jpeg(builder, frame, library, 1280, 720)).convert("RGB"), np.float64)
    error = np.abs(thumbnail - reference)
    coloured = away_from_edges(chroma > SATURATED_CHROMA, EDGE_MARGIN)
    assert coloured.sum() > 2000  # the orange figure and progress bar
    assert error.mean() < 2
    assert error[coloured].mean() < 3
    assert np.abs((thumbnail - reference)[coloured].mean(axis=0)).max() < 2  # no colour cast in any channel


@pytest.mark.parametrize("width", [64, 100, 320, 1000, 1920])
def test_a_jpeg_decodes_at_the_requested_width_with_an_even_sixteen_by_nine_height(
    presentation, builder, library, width
):
    rendition = picture_rendition(presentation.renditions, width)
    height = picture_height(width, rendition)
    image = decoded_jpeg(still_jpeg(SpecBuilder(presentation, rendition, builder.clips), 100, library, width, height))
    assert image.size == (width, height)
    assert height % 2 == 0 and abs(width / height - 16 / 9) < 2 / height * 16 / 9
    assert not image.info.get("progressive") and not image.info.get("progression")


def test_pictures_are_drawn_from_the_narrowest_rendition_at_least_as_wide_else_the_widest():
    base = DEFAULT_RENDITIONS[0]
    ladder = [replace(base, name=f"{h}p", width=h * 16 // 9, height=h) for h in (720, 360, 1080)]
    assert picture_rendition(ladder, 160).name == "360p"
    assert picture_rendition(ladder, 640).name == "360p"
    assert picture_rendition(ladder, 641).name == "720p"
    assert picture_rendition(ladder, 1280).name == "720p"
    assert picture_rendition(ladder, 1920).name == "1080p"
    assert picture_rendition(ladder[:2], 1920).name == "720p"  # nothing wide enough: the widest


def test_the_poster_is_a_second_into_the_first_work_interval_or_its_last_frame():
    timeline = compile_plan(Plan.model_validate(PLAN))
    work = next(b for b in timeline.blocks if b.kind is BlockKind.WORK)
    assert poster_frame(timeline) == work.start_frame + timeline.fps
    short = compile_plan(Plan.model_validate({"items": [{"exercise_id": "squat", "work_seconds": 1}]}))
    short_work = next(b for b in short.blocks if b.kind is BlockKind.WORK)
    assert poster_frame(short) == short_work.end_frame - 1


def test_a_time_maps_to_its_frame_exactly_and_only_inside_the_workout(presentation):
    timeline = presentation.timeline
    assert frame_at_time(Fraction("0.7"), timeline) == 21  # 0.7 * 30 is 20.999... in floating point
    assert frame_at_time(Fraction(0), timeline) == 0
    assert frame_at_time(timeline.duration - Fraction(1, 1000), timeline) == timeline.total_frames - 1
    for outside in (timeline.duration, Fraction(-1, 10)):
        with pytest.raises(FrameOutOfRange):
            frame_at_time(outside, timeline)
    with pytest.raises(FrameOutOfRange):
        segment_index_of(presentation, timeline.total_frames)


CUE_RE = re.compile(r"^(\d\d):(\d\d):(\d\d)\.(\d{3}) --> (\d\d):(\d\d):(\d\d)\.(\d{3})$")
XYWH_RE = re.compile(r"^(?P<url>[^#]+)#xywh=(\d+),(\d+),(\d+),(\d+)$")


def parse_vtt(text: str) -> list[tuple[Fraction, Fraction, str, tuple[int, int, int, int]]]:
    """(start, end, url, (x, y, w, h)) per cue of a WebVTT thumbnail track."""
    blocks = text.strip("\n").split("\n\n")
    assert blocks[0] == "WEBVTT"
    cues = []
    for block in blocks[1:]:
        timing, target = block.split("\n")
        times, where = CUE_RE.match(timing), XYWH_RE.match(target)
        assert times and where, block
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in times.groups())
        start = Fraction(h1 * 3600_000 + m1 * 60_000 + s1 * 1000 + ms1, 1000)
        end = Fraction(h2 * 3600_000 + m2 * 60_000 + s2 * 1000 + ms2, 1000)
        cues.append((start, end, where["url"], tuple(int(g) for g in where.groups()[1:])))
    return cues


def test_the_storyboard_tiles_every_five_seconds_into_a_sprite_a_track_points_into(presentation, clips, library):
    rendition = picture_rendition(presentation.renditions, 160)
    small = SpecBuilder(presentation, rendition, clips)
    sprite, tiles = storyboard(small, library, Fraction(5), 160, 3)
    duration = presentation.timeline.duration
    assert len(tiles) == math.ceil(duration / 5) == 4
    image = decoded_jpeg(sprite)
    assert image.size == (3 * 160, 2 * 90)
    cues = parse_vtt(storyboard_vtt(tiles, "storyboard.jpg", duration))
    assert len(cues) == len(tiles)
    assert cues[0][0] == 0 and cues[-1][1] == duration
    assert all(before[1] == after[0] for before, after in itertools.pairwise(cues))  # no gap, no overlap
    assert all(start < end for start, end, _, _ in cues)
    for (start, _, url, (x, y, w, h)), tile in zip(cues, tiles):
        assert url == "storyboard.jpg" and (w, h) == (160, 90)
        assert x + w <= image.width and y + h <= image.height
        assert start == tile.start
        # each tile shows its start time's frame, in its own place
        alone = np.asarray(decoded_jpeg(still_jpeg(small, frame_at_time(start, presentation.timeline), library, w, h)))
        placed = np.asarray(image.convert("RGB"))[y : y + h, x : x + w]
        assert np.abs(placed.astype(np.int16) - alone).mean() < 4, start


def test_a_track_needs_tiles_in_order_that_start_before_the_end():
    tile = Tile(Fraction(0), 0, 0, 0, 160, 90)
    with pytest.raises(EmptyStoryboard):
        storyboard_vtt((), "s.jpg", Fraction(10))
    with pytest.raises(EmptyStoryboard):
        storyboard_vtt((tile, tile), "s.jpg", Fraction(10))
    with pytest.raises(EmptyStoryboard):
        storyboard_vtt((replace(tile, start=Fraction(10)),), "s.jpg", Fraction(10))


def test_vtt_timestamps_carry_hours_and_round_to_the_millisecond():
    assert vtt_timestamp(Fraction(3725) + Fraction(1, 2)) == "01:02:05.500"
    assert vtt_timestamp(Fraction(1, 30)) == "00:00:00.033"
    assert vtt_timestamp(Fraction(0)) == "00:00:00.000"


def test_a_picture_key_changes_with_the_frame_the_size_and_the_clip_but_not_otherwise(presentation, builder):
    key = picture_key(builder, [100], "still", 320, 180)
    assert key == picture_key(SpecBuilder(presentation, builder.rendition, builder.clips), [100], "still", 320, 180)
    assert key != picture_key(builder, [101], "still", 320, 180)
    assert key != picture_key(builder, [100], "still", 640, 360)
    squat = builder.clips["squat"]
    replaced = {**builder.clips, "squat": replace(squat, version=squat.version + "-new")}
    assert key != picture_key(SpecBuilder(presentation, builder.rendition, replaced), [100], "still", 320, 180)


def test_a_clip_still_is_the_clips_middle_frame_at_the_asked_size(clips, library):
    squat = clips["squat"]
    assert clip_middle_frame(squat) == squat.frames // 2 == 30
    rendition = picture_rendition(DEFAULT_RENDITIONS, FULL_WIDTH)
    image = decoded_jpeg(clip_still_jpeg(squat, rendition, 30, library, FULL_WIDTH, 720))
    assert image.size == (FULL_WIDTH, 720)
    assert read_frame_mark(luma_of(np.asarray(image.convert("RGB")))) == 30


def test_a_clip_still_key_changes_with_the_clip_version_frame_and_size_but_not_otherwise(clips):
    squat = clips["squat"]
    rendition = picture_rendition(DEFAULT_RENDITIONS, 320)
    key = clip_still_key(squat, rendition, 30, 320, 180)
    assert key == clip_still_key(replace(squat), rendition, 30, 320, 180)
    assert key != clip_still_key(replace(squat, version=squat.version + "-new"), rendition, 30, 320, 180)
    assert key != clip_still_key(squat, rendition, 31, 320, 180)
    assert key != clip_still_key(squat, rendition, 30, 322, 182)
    assert key != clip_still_key(clips["lunge"], rendition, 30, 320, 180)
