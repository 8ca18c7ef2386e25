"""Every rendition of the ladder: the same cut points and timestamps, and honest declared bit rates."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import pytest

from assets.catalogue import load_catalogue
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS, declared_bandwidth
from playlists.segments import target_duration
from segmenter.codecs import avc1_codec
from segmenter.frames import FrameLibrary
from segmenter.render import render_segment
from segmenter.spec import SpecBuilder, clip_ref_of
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


@pytest.fixture(scope="module")
def ladder(sample_clips_dir: Path) -> dict[str, list[bytes]]:
    """The whole plan rendered at every rendition."""
    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    library = FrameLibrary(4 << 30)
    out = {}
    for rendition in DEFAULT_RENDITIONS:
        builder = SpecBuilder(presentation, rendition, clips)
        out[rendition.name] = [render_segment(builder.spec(i), library) for i in range(builder.segment_count)]
    return out


def first_video_pts(segment: bytes) -> tuple[int, int, int]:
    """(first video pts, frame count, height) of one segment."""
    with av.open(io.BytesIO(segment), format="mpegts") as container:
        packets = [p for p in container.demux(video=0) if p.size]
        height = container.streams.video[0].codec_context.height
    return min(p.pts for p in packets), len(packets), height


def test_every_rendition_has_the_same_cut_points_and_first_pts_per_segment(ladder):
    per_rendition = {name: [first_video_pts(s)[:2] for s in segments] for name, segments in ladder.items()}
    reference = per_rendition["720p"]
    assert all(timing == reference for timing in per_rendition.values())
    heights = {name: first_video_pts(segments[0])[2] for name, segments in ladder.items()}
    assert heights == {r.name: r.height for r in DEFAULT_RENDITIONS}


@pytest.mark.parametrize("rendition", DEFAULT_RENDITIONS, ids=lambda r: r.name)
def test_declared_bandwidth_is_within_ten_percent_above_what_segments_measure(ladder, rendition):
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    durations = [s.duration for s in presentation.segments]
    sizes = [len(data) for data in ladder[rendition.name]]
    peak, average = rfc_peak_and_average(durations, sizes, target_duration(presentation.segments))
    declared_peak, declared_average = declared_bandwidth(rendition)
    assert peak <= declared_peak <= peak * TOLERANCE, (peak, declared_peak)
    assert average <= declared_average <= average * TOLERANCE, (average, declared_average)


@pytest.mark.parametrize("rendition", DEFAULT_RENDITIONS, ids=lambda r: r.name)
def test_codecs_attribute_matches_the_sps_of_rendered_segments(ladder, rendition):
    from segmenter.codecs import codecs_attribute

    with av.open(io.BytesIO(ladder[rendition.name][0]), format="mpegts") as container:
        first = next(p for p in container.demux(video=0) if p.size)
        annexb = bytes(first)
    assert codecs_attribute(rendition) == f"{avc1_codec(annexb)},mp4a.40.2"
