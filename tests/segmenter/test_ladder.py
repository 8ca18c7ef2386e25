"""Every rendition of the ladder: the same cut points and timestamps, and honest declared bit rates."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import pytest

from assets.catalogue import load_catalogue
from playlists.bandwidth import CONTINUITY_BLOCK, TS_PACKET_BYTES, AudioModel, segment_bytes, sounding_aac_frames
from playlists.cues import timeline_cues
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import CELLULAR_BASELINE, CELLULAR_BASELINE_LIMIT, DEFAULT_RENDITIONS, rendition_named
from playlists.segments import target_duration
from segmenter.codecs import avc1_codec
from segmenter.frame_store import FrameStore
from segmenter.render import render_segment
from segmenter.spec import Container, MusicRef, SpecBuilder, clip_ref_of
from tests.mediainspect import rfc_peak_and_average

PLAN = Plan.model_validate(
    {
        "items": [
            {"exercise_id": "burpee", "work_seconds": 9, "rest_seconds": 5},
            {"exercise_id": "plank", "work_seconds": 7, "rest_seconds": 0},
        ],
        "intensity": "high",
    }
)
TOLERANCE = Fraction(110, 100)
SEGMENT_MODEL_TOLERANCE = Fraction(3, 100)
"""How far a rendered segment's size may stray from playlists.bandwidth's prediction (measured: -2.4 % to +1 %)..."""
TS_PADDING_STEP = 2 * CONTINUITY_BLOCK * TS_PACKET_BYTES
"""... plus, in MPEG-TS, one step of continuity padding for each elementary stream: a stream whose packet
count lands just past a multiple of 16 is padded to the next one (up to 6 KB, 7 % of a 1 s baseline
segment; nothing at 720p)."""
FMP4_RUNG = "540p"


@pytest.fixture(scope="module")
def ladder(sample_clips_dir: Path, frame_store: FrameStore) -> dict[str, list[bytes]]:
    """The whole plan rendered at every rendition in MPEG-TS (by rendition name), and at FMP4_RUNG in fMP4."""
    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    library = frame_store
    out = {}
    for rendition in DEFAULT_RENDITIONS:
        builder = SpecBuilder(presentation, rendition, clips)
        out[rendition.name] = [render_segment(builder.spec(i), library) for i in range(builder.segment_count)]
    builder = SpecBuilder(presentation, rendition_named(FMP4_RUNG), clips, container=Container.FMP4)
    out[f"{FMP4_RUNG}/fmp4"] = [render_segment(builder.spec(i), library) for i in range(builder.segment_count)]
    return out


def first_video_pts(segment: bytes) -> tuple[int, int, int]:
    """(first video pts, frame count, height) of one segment."""
    with av.open(io.BytesIO(segment), format="mpegts") as container:
        packets = [p for p in container.demux(video=0) if p.size]
        height = container.streams.video[0].codec_context.height
    return min(p.pts for p in packets), len(packets), height


def test_every_rendition_has_the_same_cut_points_and_first_pts_per_segment(ladder):
    per_rendition = {r.name: [first_video_pts(s)[:2] for s in ladder[r.name]] for r in DEFAULT_RENDITIONS}
    reference = per_rendition["720p"]
    assert all(timing == reference for timing in per_rendition.values())
    heights = {r.name: first_video_pts(ladder[r.name][0])[2] for r in DEFAULT_RENDITIONS}
    assert heights == {r.name: r.height for r in DEFAULT_RENDITIONS}


LADDER_VARIANTS = [(r, "ts") for r in DEFAULT_RENDITIONS] + [(rendition_named(FMP4_RUNG), "fmp4")]


def variant_id(variant) -> str:
    return f"{variant[0].name}-{variant[1]}"


def rendered(ladder, rendition, container: str) -> list[bytes]:
    return ladder[rendition.name if container == "ts" else f"{rendition.name}/{container}"]


@pytest.mark.parametrize("variant", LADDER_VARIANTS, ids=variant_id)
def test_each_segment_weighs_what_the_bandwidth_model_predicts(ladder, variant):
    rendition, container = variant
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    audio = AudioModel(rendition.audio_bitrate, False, sounding_aac_frames(timeline_cues(presentation.timeline)))
    total = presentation.timeline.total_frames
    for segment, data in zip(presentation.segments, rendered(ladder, rendition, container), strict=True):
        predicted = segment_bytes(segment, total, rendition, audio, container)
        allowed = SEGMENT_MODEL_TOLERANCE * predicted + (TS_PADDING_STEP if container == "ts" else 0)
        assert abs(len(data) - predicted) <= allowed, (segment.index, len(data), float(predicted))


@pytest.mark.parametrize("variant", LADDER_VARIANTS, ids=variant_id)
def test_declared_bandwidth_is_at_most_ten_percent_above_what_segments_measure(ladder, variant):
    rendition, container = variant
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    durations = [s.duration for s in presentation.segments]
    sizes = [len(data) for data in rendered(ladder, rendition, container)]
    peak, average = rfc_peak_and_average(durations, sizes, target_duration(presentation.segments))
    declared = presentation.declared_bandwidth(rendition, container)
    assert peak <= declared.peak <= peak * TOLERANCE, (peak, declared.peak)
    assert average <= declared.average <= average * TOLERANCE, (average, declared.average)


@pytest.mark.parametrize("rendition", DEFAULT_RENDITIONS, ids=lambda r: r.name)
def test_codecs_attribute_matches_the_sps_of_rendered_segments(ladder, rendition):
    from segmenter.codecs import codecs_attribute

    with av.open(io.BytesIO(ladder[rendition.name][0]), format="mpegts") as container:
        first = next(p for p in container.demux(video=0) if p.size)
        annexb = bytes(first)
    assert codecs_attribute(rendition) == f"{avc1_codec(annexb)},mp4a.40.2"


BASELINE_PLANS = {
    "one-second-items-music": {
        "items": [
            {"exercise_id": exercise, "work_seconds": 1}
            for exercise in ["squat", "jumping_jack", "push_up", "lunge", "plank", "burpee"] * 3
        ],
        "music": "groove",
        "intensity": "medium",
    },
    "loud-2s-segments": {
        "items": [
            {"exercise_id": "jumping_jack", "work_seconds": 5, "rest_seconds": 3},
            {"exercise_id": "burpee", "work_seconds": 6, "speed": 2.0},
        ],
        "music": "groove",
        "segment_seconds": 2,
        "intensity": "high",
    },
}
"""Where the cellular baseline is tightest: one-second segments (the per-segment overhead of MPEG-TS
counts most) under music (every AAC frame sounds), and fast motion in short segments."""


@pytest.fixture(scope="module")
def baseline(sample_clips_dir: Path, frame_store: FrameStore) -> dict[tuple[str, str], tuple]:
    """(presentation, segments) of every BASELINE_PLANS plan at the baseline, by (plan, container)."""
    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    track = catalogue.music["groove"]
    music = MusicRef(track.id, str(track.path), track.version())
    out = {}
    for name, body in BASELINE_PLANS.items():
        presentation = build_presentation(Plan.model_validate(body), DEFAULT_RENDITIONS)
        for container in (Container.TS, Container.FMP4):
            builder = SpecBuilder(presentation, CELLULAR_BASELINE, clips, music, container=container)
            segments = [render_segment(builder.spec(i), frame_store) for i in range(builder.segment_count)]
            out[name, container.value] = (presentation, segments)
    return out


BASELINE_VARIANTS = [(plan, container) for plan in BASELINE_PLANS for container in ("ts", "fmp4")]


@pytest.mark.parametrize("variant", BASELINE_VARIANTS, ids="-".join)
def test_every_baseline_segment_measures_at_most_192_kbits_container_included(baseline, variant):
    """App Store rule 9.4: the baseline's measured bit rate, segment by segment, short ones included."""
    presentation, segments = baseline[variant]
    for segment, data in zip(presentation.segments, segments, strict=True):
        assert len(data) * 8 / segment.duration <= CELLULAR_BASELINE_LIMIT, (segment.index, len(data))


@pytest.mark.parametrize("variant", BASELINE_VARIANTS, ids="-".join)
def test_baseline_declares_at_most_192_kbits_and_within_ten_percent_of_what_it_measures(baseline, variant):
    presentation, segments = baseline[variant]
    declared = presentation.declared_bandwidth(CELLULAR_BASELINE, variant[1])
    assert declared.peak <= CELLULAR_BASELINE_LIMIT
    durations = [s.duration for s in presentation.segments]
    peak, average = rfc_peak_and_average(durations, [len(d) for d in segments], target_duration(presentation.segments))
    assert peak <= declared.peak <= peak * TOLERANCE, (peak, declared.peak)
    assert average <= declared.average <= average * TOLERANCE, (average, declared.average)
