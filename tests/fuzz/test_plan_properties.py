"""Properties of every accepted plan: its timeline and segment cut points are exact and valid.

Hypothesis generates plans near the limits (1 s intervals, 3600 s intervals, 200 items,
20 rounds, four hours, 2..6 s segment targets) as well as ordinary ones; whatever the
model accepts must compile to a frame-exact timeline, cut into valid segments, and
render playlists that parse with the m3u8 library.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import m3u8
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from playlists.media import MAX_SEGMENT_SECONDS, MIN_SEGMENT_SECONDS, OUTPUT_FPS
from playlists.plan import (
    INTRO_SECONDS,
    MAX_INTERVAL_SECONDS,
    MAX_ITEMS,
    MAX_PLAN_SECONDS,
    MAX_ROUNDS,
    MAX_SPEED,
    MIN_SPEED,
    OUTRO_SECONDS,
    Plan,
)
from playlists.presentation import FMP4, TS, build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from playlists.segments import STARTUP_SEGMENT_SECONDS, round_half_up, split_frames
from playlists.timeline import BlockKind, compile_plan

EXAMPLES = 60
PLAYLIST_EXAMPLES = 30
"""Parsing a four-hour playlist (3600 segments) with m3u8 takes most of a second: fewer examples here."""
RANDOM_JSON_EXAMPLES = 200
EXTINF_ROUNDING = 0.5e-6
"""EXTINF is written with 6 decimals: each value is off by at most half a millionth of a second."""

interval = st.one_of(st.integers(1, 90), st.sampled_from([1, 2, MAX_INTERVAL_SECONDS - 1, MAX_INTERVAL_SECONDS]))
rest = st.one_of(st.just(0), interval)
speed = st.one_of(st.none(), st.sampled_from([MIN_SPEED, MAX_SPEED, 1.0]), st.floats(MIN_SPEED, MAX_SPEED))
segment_target = st.one_of(
    st.sampled_from([MIN_SEGMENT_SECONDS, 4, MAX_SEGMENT_SECONDS, 2.5, 5.9]),
    st.floats(MIN_SEGMENT_SECONDS, MAX_SEGMENT_SECONDS),
)
item = st.fixed_dictionaries(
    {"exercise_id": st.from_regex(r"\A[a-z0-9][a-z0-9_-]{0,63}\Z"), "work_seconds": interval},
    optional={"rest_seconds": rest, "speed": speed},
)
items = st.one_of(
    st.lists(item, min_size=1, max_size=8),
    st.lists(
        st.fixed_dictionaries({"exercise_id": st.just("squat"), "work_seconds": st.integers(1, 3)}),
        min_size=MAX_ITEMS - 2,
        max_size=MAX_ITEMS,
    ),
)


@st.composite
def plan_documents(draw: st.DrawFn) -> dict:
    document: dict = {"items": draw(items), "rounds": draw(st.one_of(st.integers(1, 4), st.sampled_from([MAX_ROUNDS])))}
    if draw(st.booleans()):
        document["rest_between_rounds_seconds"] = draw(rest)
    if draw(st.booleans()):
        document["intensity"] = draw(st.sampled_from(["low", "medium", "high"]))
    elif draw(st.booleans()):
        document["speed"] = draw(st.floats(MIN_SPEED, MAX_SPEED))
    if draw(st.booleans()):
        document["segment_seconds"] = draw(segment_target)
    return document


@st.composite
def accepted_plans(draw: st.DrawFn) -> Plan:
    try:
        plan = Plan.model_validate(draw(plan_documents()))
    except ValidationError:
        assume(False)
        raise AssertionError("unreachable")  # assume(False) stops this example
    return plan


common = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(accepted_plans())
def test_block_durations_sum_exactly_to_the_plan_length(plan):
    timeline = compile_plan(plan)
    assert plan.total_seconds() <= MAX_PLAN_SECONDS
    assert sum(block.frames for block in timeline.blocks) == plan.total_seconds() * OUTPUT_FPS
    assert timeline.duration == plan.total_seconds()
    assert sum(Fraction(block.frames, timeline.fps) for block in timeline.blocks) == plan.total_seconds()
    position = 0
    for block in timeline.blocks:
        assert block.start_frame == position and block.frames > 0
        position = block.end_frame
    assert timeline.blocks[0].kind is BlockKind.INTRO and timeline.blocks[0].frames == INTRO_SECONDS * OUTPUT_FPS
    assert timeline.blocks[-1].kind is BlockKind.OUTRO and timeline.blocks[-1].frames == OUTRO_SECONDS * OUTPUT_FPS
    work = [block for block in timeline.blocks if block.kind is BlockKind.WORK]
    assert [b.frames for b in work] == [i.work_seconds * OUTPUT_FPS for i in plan.items] * plan.rounds


@common
@given(accepted_plans())
def test_segment_cut_points_cover_the_timeline_and_start_at_every_block_boundary(plan):
    presentation = build_presentation(plan, DEFAULT_RENDITIONS)
    timeline, segments = presentation.timeline, presentation.segments
    starts = [segment.start_frame for segment in segments]
    assert starts[0] == 0 and starts == sorted(set(starts))  # strictly increasing
    assert [s.index for s in segments] == list(range(len(segments)))
    for before, after in itertools.pairwise(segments):
        assert before.end_frame == after.start_frame  # no gap, no overlap
    assert segments[-1].end_frame == timeline.total_frames
    assert {block.start_frame for block in timeline.blocks} <= set(starts)
    assert segments[0].frames == STARTUP_SEGMENT_SECONDS * OUTPUT_FPS

    target_frames = Fraction(plan.segment_seconds) * OUTPUT_FPS
    for block, inside in segments_by_block(timeline.blocks, segments):
        if block.start_frame == 0:
            inside = inside[1:]  # the startup segment comes first, the rule applies to the rest
        frames = sum(s.frames for s in inside)
        parts = max(1, round_half_up(Fraction(frames) / target_frames))
        assert [s.frames for s in inside] == split_frames(frames, parts)  # near-equal: no runt tail
        if parts > 1:
            assert all(s.frames >= target_frames * 3 / 4 - 1 for s in inside)


def segments_by_block(blocks, segments):
    """(block, the segments starting inside it) in one pass over both."""
    position = 0
    for block in blocks:
        inside = []
        while position < len(segments) and segments[position].start_frame < block.end_frame:
            inside.append(segments[position])
            position += 1
        yield block, inside


@settings(common, max_examples=PLAYLIST_EXAMPLES)
@given(accepted_plans())
def test_playlists_parse_and_their_extinf_sum_to_the_duration(plan):
    presentation = build_presentation(plan, DEFAULT_RENDITIONS)
    duration = presentation.timeline.duration
    assert sum(segment.duration for segment in presentation.segments) == duration
    for container in (TS, FMP4):
        parsed = m3u8.loads(presentation.media_playlist(container).render())
        assert parsed.is_endlist and parsed.playlist_type == "vod"
        assert len(parsed.segments) == len(presentation.segments)
        total = sum(segment.duration for segment in parsed.segments)
        assert abs(total - float(duration)) <= EXTINF_ROUNDING * len(parsed.segments) + 1e-9
        for segment in parsed.segments:  # interop rule 1: EXTINF rounded half-up <= target duration
            assert math.floor(segment.duration + 0.5) <= parsed.target_duration
        iframes = m3u8.loads(presentation.iframe_playlist(container).render())
        assert iframes.is_i_frames_only and [s.duration for s in iframes.segments] == [s.duration for s in parsed.segments]
        assert len(iframes.segment_map) == (1 if container == FMP4 else 0)  # Apple 8.20: fMP4 keyframes need their init
    codecs = {rendition.name: "avc1.64001f,mp4a.40.2" for rendition in presentation.renditions}
    master = m3u8.loads(presentation.multivariant_playlist(codecs).render())
    assert master.is_variant and len(master.playlists) == len(presentation.renditions)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
plan_keys = st.sampled_from(
    ["items", "rounds", "rest_between_rounds_seconds", "intensity", "speed", "music", "segment_seconds", "extra"]
)
item_keys = st.sampled_from(["exercise_id", "work_seconds", "rest_seconds", "speed", "extra"])
near_plans = st.dictionaries(
    plan_keys,
    json_values | st.lists(st.dictionaries(item_keys, json_values, max_size=5), max_size=3),
    max_size=6,
)


@settings(max_examples=RANDOM_JSON_EXAMPLES, deadline=None)
@given(st.one_of(json_values, near_plans))
def test_random_json_is_either_a_plan_or_a_validation_error(document):
    try:
        plan = Plan.model_validate(document)
    except ValidationError:
        return
    assert plan.total_seconds() <= MAX_PLAN_SECONDS
    compile_plan(plan)
