"""I-frame resources: each segment's opening keyframe, alone, at the segment's start time."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest

from assets.catalogue import load_catalogue
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.iframes import render_iframe
from segmenter.render import render_segment
from segmenter.spec import SpecBuilder, clip_ref_of

VIDEO_TICKS_PER_FRAME = 90_000 // 30
PLAN = Plan.model_validate(
    {
        "items": [
            {"exercise_id": "lunge", "work_seconds": 6, "rest_seconds": 3},
            {"exercise_id": "squat", "work_seconds": 5},
        ]
    }
)


@pytest.fixture(scope="module")
def builder(sample_clips_dir: Path) -> SpecBuilder:
    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    return SpecBuilder(build_presentation(PLAN, DEFAULT_RENDITIONS), DEFAULT_RENDITIONS[1], clips)


def decoded(data: bytes) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(data), format="mpegts") as container:
        return list(container.decode(video=0))


def luma(frame: av.VideoFrame) -> np.ndarray:
    return np.frombuffer(frame.planes[0], np.uint8).reshape(frame.height, -1)[:, : frame.width].astype(int)


def test_every_iframe_resource_decodes_to_one_keyframe_at_its_segment_start(builder, frame_store):
    library = frame_store
    for index, segment in enumerate(builder.presentation.segments):
        data = render_iframe(builder.spec(index), library)
        with av.open(io.BytesIO(data), format="mpegts") as container:
            assert [s.type for s in container.streams] == ["video"]
            packets = [p for p in container.demux(video=0) if p.size]
        assert len(packets) == 1 and packets[0].is_keyframe
        assert packets[0].pts == packets[0].dts == segment.start_frame * VIDEO_TICKS_PER_FRAME
        frames = decoded(data)
        assert len(frames) == 1 and frames[0].key_frame
        assert len(data) % 188 == 0 and data[0] == 0x47


def test_the_keyframe_shows_the_same_picture_as_its_segments_first_frame(builder, frame_store):
    library = frame_store
    for index in (1, 2):  # a work segment of the alpha clip, and one further on
        alone = decoded(render_iframe(builder.spec(index), library))[0]
        first = decoded(render_segment(builder.spec(index), library))[0]
        assert alone.pts == first.pts
        assert np.abs(luma(alone) - luma(first)).mean() < 1.0
