"""I-frame resources: each segment's opening keyframe, alone, at the segment's start time, in MPEG-TS
and in fMP4 (after the rendition's video-only init)."""

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
from segmenter.cmaf import VIDEO_TRACK_ID, iframe_init_segment, init_segment
from segmenter.iframes import render_iframe
from segmenter.render import render_segment
from segmenter.spec import Container, SpecBuilder, clip_ref_of
from tests.clients.ffmpeg_client import decode_with_ffmpeg
from tests.mediainspect import boxes, fragments, top_level, trex_defaults

VIDEO_TICKS_PER_FRAME = 90_000 // 30
PLAN = Plan.model_validate(
    {
        "items": [
            {"exercise_id": "lunge", "work_seconds": 6, "rest_seconds": 3},
            {"exercise_id": "squat", "work_seconds": 5},
        ]
    }
)


def builder_for(sample_clips_dir: Path, container: Container) -> SpecBuilder:
    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    return SpecBuilder(build_presentation(PLAN, DEFAULT_RENDITIONS), DEFAULT_RENDITIONS[1], clips, container=container)


@pytest.fixture(scope="module")
def builder(sample_clips_dir: Path) -> SpecBuilder:
    return builder_for(sample_clips_dir, Container.TS)


@pytest.fixture(scope="module")
def fmp4_builder(sample_clips_dir: Path) -> SpecBuilder:
    return builder_for(sample_clips_dir, Container.FMP4)


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


# --- fMP4 -------------------------------------------------------------------------


def decoded_fmp4(init: bytes, fragment: bytes) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(init + fragment), format="mp4") as container:
        return list(container.decode(video=0))


def test_the_iframe_init_is_the_media_init_without_its_audio_track(fmp4_builder):
    rendition = fmp4_builder.rendition
    alone, full = iframe_init_segment(rendition), init_segment(rendition)
    assert top_level(alone) == [b"ftyp", b"moov"]
    assert [b.kind for b in boxes(alone) if b.kind in (b"trak", b"trex")] == [b"trak", b"trex"]
    assert [b.kind for b in boxes(full) if b.kind in (b"trak", b"trex")] == [b"trak", b"trak", b"trex", b"trex"]
    video_trak = next(b for b in boxes(full) if b.kind == b"trak").payload
    assert video_trak == next(b for b in boxes(alone) if b.kind == b"trak").payload  # byte for byte
    assert trex_defaults(alone) == {VIDEO_TRACK_ID: trex_defaults(full)[VIDEO_TRACK_ID]}
    assert iframe_init_segment(rendition) == alone


def test_every_fmp4_iframe_is_one_sync_sample_lasting_its_segment_from_the_segment_start(fmp4_builder, frame_store):
    init = iframe_init_segment(fmp4_builder.rendition)
    for index, segment in enumerate(fmp4_builder.presentation.segments):
        data = render_iframe(fmp4_builder.spec(index), frame_store)
        assert top_level(data) == [b"styp", b"moof", b"mdat"]
        (track, fragment), = fragments(data, trex_defaults(init)).items()
        assert track == VIDEO_TRACK_ID
        assert fragment.base_decode_time == segment.start_frame * VIDEO_TICKS_PER_FRAME
        assert fragment.durations == [segment.frames * VIDEO_TICKS_PER_FRAME]
        frames = decoded_fmp4(init, data)
        assert len(frames) == 1 and frames[0].key_frame
        assert frames[0].pts == segment.start_frame * VIDEO_TICKS_PER_FRAME


def test_the_fmp4_keyframe_is_the_ts_keyframe_repackaged(builder, fmp4_builder, frame_store):
    index = 1
    ts, fmp4 = render_iframe(builder.spec(index), frame_store), render_iframe(fmp4_builder.spec(index), frame_store)
    alone = decoded_fmp4(iframe_init_segment(fmp4_builder.rendition), fmp4)[0]
    assert np.array_equal(luma(alone), luma(decoded(ts)[0]))
    assert alone.pts == decoded(ts)[0].pts


def test_ts_and_fmp4_keyframes_of_one_segment_never_share_a_cache_key(builder, fmp4_builder):
    assert all(builder.key(i) != fmp4_builder.key(i) for i in range(builder.segment_count))


def test_ffmpeg_decodes_the_fmp4_iframes_in_a_row_as_one_stream_without_a_warning(fmp4_builder, frame_store, tmp_path):
    init = iframe_init_segment(fmp4_builder.rendition)
    resources = [render_iframe(fmp4_builder.spec(i), frame_store) for i in range(fmp4_builder.segment_count)]
    path = tmp_path / "iframes.mp4"
    path.write_bytes(init + b"".join(resources))
    result = decode_with_ffmpeg(str(path))
    assert result.warnings == [], result.warnings
    assert result.video_frames == fmp4_builder.segment_count
