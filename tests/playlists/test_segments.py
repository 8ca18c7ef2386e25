import math
from dataclasses import replace
from fractions import Fraction

import pytest

from playlists.plan import Plan
from playlists.segments import STARTUP_SEGMENT_SECONDS, cut_segments, round_half_up, split_frames, target_duration
from playlists.timeline import compile_plan

ODD_PLANS = [
    {"items": [{"exercise_id": "squat", "work_seconds": 37, "rest_seconds": 13}], "rounds": 3},
    {"items": [{"exercise_id": "squat", "work_seconds": 1}]},
    {
        "items": [{"exercise_id": "squat", "work_seconds": 5, "rest_seconds": 7}] * 9,
        "rounds": 2,
        "rest_between_rounds_seconds": 61,
        "segment_seconds": 6,
    },
    {"items": [{"exercise_id": "squat", "work_seconds": 45, "rest_seconds": 15}] * 4, "segment_seconds": 2},
    {"items": [{"exercise_id": "squat", "work_seconds": 3599, "rest_seconds": 1}], "segment_seconds": 2.5},
]


@pytest.mark.parametrize("document", ODD_PLANS)
def test_segments_tile_the_timeline_exactly(document):
    timeline = compile_plan(Plan.model_validate(document))
    segments = cut_segments(timeline, document.get("segment_seconds", 4))
    assert segments[0].start_frame == 0
    for before, after in zip(segments, segments[1:]):
        assert after.start_frame == before.end_frame
        assert after.index == before.index + 1
    assert segments[-1].end_frame == timeline.total_frames
    assert sum(s.duration for s in segments) == timeline.duration


@pytest.mark.parametrize("document", ODD_PLANS)
def test_every_block_boundary_starts_a_segment(document):
    timeline = compile_plan(Plan.model_validate(document))
    starts = {s.start_frame for s in cut_segments(timeline, document.get("segment_seconds", 4))}
    assert {block.start_frame for block in timeline.blocks} <= starts


@pytest.mark.parametrize("document", ODD_PLANS)
def test_segments_of_a_block_are_near_equal_and_never_runts(document):
    target = Fraction(document.get("segment_seconds", 4))
    timeline = compile_plan(Plan.model_validate(document))
    segments = cut_segments(timeline, target)
    for block in timeline.blocks:
        inside = [s for s in segments if block.start_frame <= s.start_frame < block.end_frame]
        if block.start_frame == 0:  # the startup segment comes off the front of the first block
            assert inside[0].frames == STARTUP_SEGMENT_SECONDS * 30
            block = replace(block, start_frame=inside[1].start_frame, frames=block.frames - inside[0].frames)
            inside = inside[1:]
        assert len(inside) == max(1, math.floor(Fraction(block.frames, 30) / target + Fraction(1, 2)))
        assert max(s.frames for s in inside) - min(s.frames for s in inside) <= 1
        if len(inside) > 1:
            assert all(s.duration >= target * 2 / 3 for s in inside)
            assert all(s.duration < target * 2 for s in inside)


@pytest.mark.parametrize("document", ODD_PLANS)
def test_the_presentation_opens_with_a_two_second_startup_segment(document):
    """Playback can start after rendering 60 frames, whatever the target duration."""
    segments = cut_segments(compile_plan(Plan.model_validate(document)), document.get("segment_seconds", 4))
    assert segments[0].duration == STARTUP_SEGMENT_SECONDS
    assert segments[1].start_frame == 60


VLC_DEFAULT_NETWORK_CACHING = Fraction(1)
"""VLC 3's default `network-caching` (1000 ms): how much PCR its input buffers before playing."""


@pytest.mark.parametrize("document", ODD_PLANS)
def test_the_first_segment_outlasts_vlcs_default_input_buffering(document):
    """VLC 3 switches rendition after segment 0; a segment 0 too short to fill its input
    buffer left the input buffering across the switch (a decoder error in MPEG-TS)."""
    first = cut_segments(compile_plan(Plan.model_validate(document)), document.get("segment_seconds", 4))[0]
    last_frame_time = first.start_time + Fraction(first.frames - 1, first.fps)  # segment 0's last video PCR
    assert last_frame_time > VLC_DEFAULT_NETWORK_CACHING


def test_forty_seconds_at_four_gives_ten_equal_segments():
    timeline = compile_plan(Plan.model_validate({"items": [{"exercise_id": "squat", "work_seconds": 40}]}))
    work = timeline.blocks[1]
    inside = [s.frames for s in cut_segments(timeline, 4) if work.start_frame <= s.start_frame < work.end_frame]
    assert inside == [120] * 10


def test_split_frames_spreads_the_remainder():
    assert split_frames(1110, 9) == [124, 124, 124, 123, 123, 123, 123, 123, 123]
    assert sum(split_frames(1001, 7)) == 1001


def test_round_half_up_rounds_halves_up_unlike_python():
    assert round_half_up(Fraction(13, 2)) == 7
    assert round(6.5) == 6
    assert round_half_up(Fraction(649, 100)) == 6


def test_target_duration_covers_every_segment_rounded_half_up():
    timeline = compile_plan(Plan.model_validate(ODD_PLANS[2]))
    segments = cut_segments(timeline, 6)
    target = target_duration(segments)
    assert all(math.floor(s.duration + Fraction(1, 2)) <= target for s in segments)
    assert any(math.floor(s.duration + Fraction(1, 2)) == target for s in segments)
