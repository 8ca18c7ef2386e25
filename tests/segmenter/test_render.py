"""Rendered segments, probed packet by packet: keyframes, timestamps, spans, gapless audio."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from assets.catalogue import load_catalogue
from playlists.media import AAC_FRAME_SIZE, VIDEO_CLOCK
from playlists.plan import Plan
from playlists.presentation import Presentation, build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.audio import synthesize
from segmenter.frames import FrameLibrary
from segmenter.render import render_segment
from segmenter.cues import timeline_cues
from segmenter.spec import build_segment_spec, clip_ref_of

TS_PACKET = 188
AUDIO_TICKS_PER_AAC_FRAME = AAC_FRAME_SIZE * VIDEO_CLOCK // 48_000  # 1920
VIDEO_TICKS_PER_FRAME = VIDEO_CLOCK // 30
PLAN = {
    "items": [
        {"exercise_id": "push_up", "work_seconds": 5, "rest_seconds": 3},
        {"exercise_id": "lunge", "work_seconds": 7, "rest_seconds": 0},
    ],
    "rounds": 1,
    "speed": 1.33,
    "segment_seconds": 2,
}


@pytest.fixture(scope="module")
def rendered(sample_clips_dir: Path) -> tuple[Presentation, list[bytes]]:
    catalogue = load_catalogue(sample_clips_dir)
    presentation = build_presentation(Plan.model_validate(PLAN), DEFAULT_RENDITIONS)
    clips = {
        e.id: clip_ref_of(e) for e in catalogue.exercises.values()
    }
    library = FrameLibrary(1 << 30)
    rendition = DEFAULT_RENDITIONS[0]
    segments = [
        render_segment(build_segment_spec(presentation, rendition, i, clips), library)
        for i in range(len(presentation.segments))
    ]
    return presentation, segments


@dataclass(frozen=True)
class Probed:
    kind: str
    pts: int
    dts: int
    is_keyframe: bool


def packets(data: bytes) -> list[Probed]:
    """Packet facts copied out while the demuxer is open (PyAV packets die with it)."""
    with av.open(io.BytesIO(data), format="mpegts") as container:
        return [Probed(p.stream.type, p.pts, p.dts, p.is_keyframe) for p in container.demux() if p.size > 0]


def test_every_segment_starts_with_its_only_keyframe(rendered):
    _, segments = rendered
    for data in segments:
        video = [p for p in packets(data) if p.kind == "video"]
        assert video[0].is_keyframe
        assert not any(p.is_keyframe for p in video[1:])


def test_video_timestamps_continue_across_segments_frame_exactly(rendered):
    presentation, segments = rendered
    for segment, data in zip(presentation.segments, segments):
        video = [p for p in packets(data) if p.kind == "video"]
        assert len(video) == segment.frames
        pts = sorted(p.pts for p in video)
        assert pts[0] == segment.start_frame * VIDEO_TICKS_PER_FRAME
        assert pts == [pts[0] + k * VIDEO_TICKS_PER_FRAME for k in range(segment.frames)]
        assert all(p.dts == p.pts for p in video)  # no B-frames: constant decode delay


def test_audio_covers_the_same_span_as_video_within_one_aac_frame(rendered):
    """Audio starts at or just before the video (no hole when a player starts there);
    the last segment's audio reaches the end of the video."""
    presentation, segments = rendered
    last = presentation.segments[-1].index
    for segment, data in zip(presentation.segments, segments):
        audio = sorted(p.pts for p in packets(data) if p.kind == "audio")
        audio_end = audio[-1] + AUDIO_TICKS_PER_AAC_FRAME
        video_start = segment.start_frame * VIDEO_TICKS_PER_FRAME
        video_end = segment.end_frame * VIDEO_TICKS_PER_FRAME
        assert 0 <= video_start - audio[0] < AUDIO_TICKS_PER_AAC_FRAME
        if segment.index == last:
            assert 0 <= audio_end - video_end < AUDIO_TICKS_PER_AAC_FRAME
        else:
            assert 0 <= video_end - audio_end < AUDIO_TICKS_PER_AAC_FRAME
        assert audio == [audio[0] + k * AUDIO_TICKS_PER_AAC_FRAME for k in range(len(audio))]


def test_audio_frames_tile_the_whole_presentation(rendered):
    presentation, segments = rendered
    owned = [len([p for p in packets(data) if p.kind == "audio"]) for data in segments]
    total_samples = presentation.timeline.total_frames * 1600
    assert sum(owned) == -(-total_samples // AAC_FRAME_SIZE)


def test_each_segment_opens_with_pat_and_pmt(rendered):
    _, segments = rendered
    for data in segments:
        assert len(data) % TS_PACKET == 0
        first_pids = [((data[i + 1] & 0x1F) << 8) | data[i + 2] for i in range(0, 3 * TS_PACKET, TS_PACKET)]
        assert first_pids[0] == 0  # PAT
        assert 0x1000 in first_pids[1:]  # PMT (FFmpeg's default PID)


def test_segments_are_h264_yuv420p_720p_and_stereo_aac_48k(rendered):
    _, segments = rendered
    with av.open(io.BytesIO(segments[0]), format="mpegts") as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 1280, 720)
        assert video.codec_context.pix_fmt == "yuv420p"
        assert (audio.codec_context.name, audio.sample_rate, audio.codec_context.channels) == ("aac", 48_000, 2)
        assert audio.codec_context.profile == "LC"


def test_audio_is_gapless_when_decoded_continuously_across_boundaries(rendered):
    """One decoder over the concatenated segments matches the synthesised cue track at every boundary."""
    presentation, segments = rendered
    with av.open(io.BytesIO(b"".join(segments)), format="mpegts") as container:
        decoded = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    expected = synthesize(0, len(decoded), timeline_cues(presentation.timeline))[0]
    window = 2 * AAC_FRAME_SIZE
    worst = 0.0
    for segment in presentation.segments[1:]:
        boundary = segment.start_frame * 1600 // AAC_FRAME_SIZE * AAC_FRAME_SIZE
        error = decoded[boundary - window : boundary + window] - expected[boundary - window : boundary + window]
        worst = max(worst, float(np.sqrt(np.mean(error**2))))
    beep_rms = 0.5 / np.sqrt(2)  # a cue tone at full level
    assert 20 * np.log10(max(worst, 1e-9) / beep_rms) < -30


def test_every_cue_starts_on_the_frame_its_picture_changes(rendered):
    """Find tone onsets in the decoded audio; each must sit on its cue's frame (within one AAC frame)."""
    presentation, segments = rendered
    with av.open(io.BytesIO(b"".join(segments)), format="mpegts") as container:
        decoded = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    envelope = np.abs(decoded) > 0.1
    onsets = np.flatnonzero(envelope[1:] & ~envelope[:-1]) + 1
    onsets = onsets[np.insert(np.diff(onsets) > 2400, 0, True)]  # first crossing of each tone
    expected = [c.start_sample for c in timeline_cues(presentation.timeline)]
    assert len(onsets) == len(expected)
    for found, cue_start in zip(onsets, expected):
        assert 0 <= found - cue_start < AAC_FRAME_SIZE, (found, cue_start)


def test_pictures_are_bt709_and_tagged_so_with_the_backdrop_colour_preserved(rendered):
    from av.video.reformatter import Colorspace

    from segmenter.frames import BACKGROUND_TOP_RGB

    presentation, segments = rendered
    lunge = next(b for b in presentation.timeline.blocks if b.exercise_id == "lunge" and b.kind.value == "work")
    with av.open(io.BytesIO(b"".join(segments)), format="mpegts") as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index == lunge.start_frame + 5:
                assert int(frame.colorspace) == 1  # AVCOL_SPC_BT709 in the stream's VUI
                rgb = frame.reformat(format="rgb24", src_colorspace=Colorspace.ITU709).to_ndarray()
                break
    # top-right corner of a transparent clip: only the backdrop shows there
    corner = rgb[8:24, -24:-8].reshape(-1, 3).mean(axis=0)
    assert np.abs(corner - np.array(BACKGROUND_TOP_RGB)).max() < 6


def test_no_segment_exceeds_the_declared_peak_bandwidth(rendered):
    from playlists.renditions import declared_bandwidth

    presentation, segments = rendered
    shortest = min(s.duration for s in presentation.segments)
    peak, _ = declared_bandwidth(DEFAULT_RENDITIONS[0], shortest)
    for segment, data in zip(presentation.segments, segments):
        assert len(data) * 8 / segment.duration <= peak


def test_every_frame_shows_the_clip_frame_the_sampling_rule_picks(rendered, sample_clips_dir):
    """Read the frame-index mark of every decoded output frame, across segment boundaries and loops."""
    from assets.framemark import read_frame_mark
    from segmenter.sampling import source_frame_index

    presentation, segments = rendered
    catalogue = load_catalogue(sample_clips_dir)
    shown, expected = [], []
    with av.open(io.BytesIO(b"".join(segments)), format="mpegts") as container:
        for index, frame in enumerate(container.decode(video=0)):
            block = presentation.timeline.block_at(index)
            if block.kind.value == "outro":
                continue  # the closing card shows no clip
            luma = np.frombuffer(frame.planes[0], np.uint8).reshape(frame.height, -1)[:, : frame.width]
            shown.append(read_frame_mark(luma))
            if block.kind.value in ("rest", "intro"):
                expected.append(0)  # a still of the next clip's first frame
            else:
                clip = catalogue.get(block.exercise_id)
                expected.append(
                    source_frame_index(index - block.start_frame, block.speed, clip.fps, clip.frames, 30)
                )
    assert len(shown) == presentation.timeline.total_frames - presentation.timeline.blocks[-1].frames
    assert shown == expected


def test_continuity_counters_continue_across_every_segment_boundary(rendered):
    """Apple 7.2: a player reading segment after segment sees no counter jump on any PID."""
    from segmenter.transport import as_packets, carries_payload, packet_pids

    _, segments = rendered
    for data in segments:
        packets = as_packets(data)
        pids, payload = packet_pids(packets), carries_payload(packets)
        for pid in set(pids.tolist()):
            counters = packets[(pids == pid) & payload, 3] & 0x0F
            assert counters[0] == 0 and counters[-1] == 15, hex(pid)
            assert list(counters) == [k % 16 for k in range(len(counters))]
