"""Rendered segments, probed packet by packet: keyframes, timestamps, spans, gapless audio."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from assets.catalogue import load_catalogue
from playlists.cues import timeline_cues
from playlists.media import AAC_FRAME_SIZE, VIDEO_CLOCK
from playlists.plan import Plan
from playlists.presentation import Presentation, build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.audio import synthesize
from segmenter.frame_store import FrameStore
from segmenter.music import music_samples
from segmenter.render import render_segment
from segmenter.spec import MusicRef, build_segment_spec, clip_ref_of

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
    "music": "groove",
}


def music_of(sample_clips_dir: Path) -> MusicRef:
    track = load_catalogue(sample_clips_dir).music["groove"]
    return MusicRef(track.id, str(track.path), track.version())


@pytest.fixture(scope="module")
def rendered(sample_clips_dir: Path, frame_store: FrameStore) -> tuple[Presentation, list[bytes]]:
    catalogue = load_catalogue(sample_clips_dir)
    music = music_of(sample_clips_dir)
    presentation = build_presentation(Plan.model_validate(PLAN), DEFAULT_RENDITIONS)
    clips = {
        e.id: clip_ref_of(e) for e in catalogue.exercises.values()
    }
    library = frame_store
    rendition = DEFAULT_RENDITIONS[0]
    segments = [
        render_segment(build_segment_spec(presentation, rendition, i, clips, music), library)
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


def decoded_audio(segments: list[bytes]) -> np.ndarray:
    """The left channel of all segments decoded by one continuous decoder, as a player does."""
    with av.open(io.BytesIO(b"".join(segments)), format="mpegts") as container:
        return np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])


def test_audio_is_gapless_when_decoded_continuously_across_boundaries(rendered, sample_clips_dir):
    """One decoder over the concatenated segments matches the synthesised cues and music at every boundary."""
    presentation, segments = rendered
    decoded = decoded_audio(segments)
    music = music_samples(music_of(sample_clips_dir))
    expected = synthesize(0, len(decoded), timeline_cues(presentation.timeline), music)[0]
    window = 2 * AAC_FRAME_SIZE
    worst = 0.0
    for segment in presentation.segments[1:]:
        boundary = segment.start_frame * 1600 // AAC_FRAME_SIZE * AAC_FRAME_SIZE
        error = decoded[boundary - window : boundary + window] - expected[boundary - window : boundary + window]
        worst = max(worst, float(np.sqrt(np.mean(error**2))))
    beep_rms = 0.5 / np.sqrt(2)  # a cue tone at full level
    assert 20 * np.log10(max(worst, 1e-9) / beep_rms) < -30


def test_every_cue_starts_on_the_frame_its_picture_changes(rendered, sample_clips_dir):
    """Find tone onsets in the decoded audio (music taken out); each must sit on its cue's frame."""
    presentation, segments = rendered
    decoded = decoded_audio(segments)
    music = music_samples(music_of(sample_clips_dir))
    cues_only = decoded - synthesize(0, len(decoded), (), music)[0]
    envelope = np.abs(cues_only) > 0.1
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


def shown_and_expected_source_frames(
    presentation: Presentation, segments: list[bytes], sample_clips_dir: Path
) -> tuple[list[int], list[int]]:
    """The frame-index mark read from every decoded output frame, and what the sampling rule says."""
    from assets.framemark import read_frame_mark
    from segmenter.sampling import source_frame_index

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
    return shown, expected


def test_every_frame_shows_the_clip_frame_the_sampling_rule_picks(rendered, sample_clips_dir):
    """Read the frame-index mark of every decoded output frame, across segment boundaries and loops."""
    presentation, segments = rendered
    shown, expected = shown_and_expected_source_frames(presentation, segments, sample_clips_dir)
    assert shown == expected


SPEED_PLAN = {
    "items": [
        {"exercise_id": "burpee", "work_seconds": 5, "speed": 0.5},  # 60 fps source
        {"exercise_id": "squat", "work_seconds": 5, "speed": 0.75},  # 30 fps
        {"exercise_id": "lunge", "work_seconds": 5, "speed": 1.33},  # 25 fps, ProRes alpha
        {"exercise_id": "jumping_jack", "work_seconds": 5, "speed": 2.0},  # 30 fps, 36-frame loop
    ],
    "segment_seconds": 2,  # 5 s blocks cut 2.5 + 2.5: boundaries fall inside every clip loop
}


def test_speed_remapping_is_exact_at_half_three_quarters_four_thirds_and_double(sample_clips_dir, frame_store):
    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    presentation = build_presentation(Plan.model_validate(SPEED_PLAN), DEFAULT_RENDITIONS)
    library = frame_store
    segments = [
        render_segment(build_segment_spec(presentation, DEFAULT_RENDITIONS[0], i, clips), library)
        for i in range(len(presentation.segments))
    ]
    speeds = {b.speed for b in presentation.timeline.blocks if b.kind.value == "work"}
    assert speeds == {Fraction(1, 2), Fraction(3, 4), Fraction(133, 100), Fraction(2)}
    shown, expected = shown_and_expected_source_frames(presentation, segments, sample_clips_dir)
    assert shown == expected
    jumping_jack = next(b for b in presentation.timeline.blocks if b.exercise_id == "jumping_jack" and b.speed == 2)
    in_block = expected[jumping_jack.start_frame : jumping_jack.end_frame]
    assert sum(after < before for before, after in zip(in_block, in_block[1:])) == 8  # 300 source frames, 36 a loop


def test_continuity_counters_continue_across_every_segment_boundary(rendered):
    """Apple 7.2: a player reading segment after segment sees no counter jump on any PID."""
    from segmenter.transport import as_packets, carries_payload, packet_pids

    _, segments = rendered
    last: dict[int, int] = {}
    for data in segments:
        packets = as_packets(data)
        pids, payload = packet_pids(packets), carries_payload(packets)
        for pid in set(pids.tolist()):
            counters = [int(c) for c in packets[(pids == pid) & payload, 3] & 0x0F]
            first = (last[pid] + 1) % 16 if pid in last else counters[0]
            assert counters == [(first + k) % 16 for k in range(len(counters))], hex(pid)
            last[pid] = counters[-1]
    assert len(last) == 4  # PAT, PMT, video, audio


def test_music_plays_under_the_cues_between_them(rendered, sample_clips_dir):
    presentation, segments = rendered
    decoded = decoded_audio(segments)
    music = music_samples(music_of(sample_clips_dir))
    expected = synthesize(0, len(decoded), (), music)[0]
    quiet = np.ones(len(decoded), dtype=bool)
    for cue in timeline_cues(presentation.timeline):
        quiet[max(0, cue.start_sample - 2048) : cue.start_sample + cue.length_samples + 2048] = False
    quiet[:4096] = False  # the first AAC frame decodes without its priming
    correlation = np.corrcoef(decoded[quiet], expected[quiet])[0, 1]
    assert correlation > 0.99


def decoded_luma_at(segments: list[bytes], wanted: set[int]) -> dict[int, np.ndarray]:
    found = {}
    with av.open(io.BytesIO(b"".join(segments)), format="mpegts") as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index in wanted:
                found[index] = np.frombuffer(frame.planes[0], np.uint8).reshape(frame.height, -1)[:, : frame.width].copy()
    return found


def expected_picture(presentation: Presentation, frame: int, sample_clips_dir: Path, frame_store: FrameStore) -> np.ndarray:
    """The overlay-drawn picture the renderer fed the encoder for `frame` (luma)."""
    from segmenter.frames import unpack_yuv420p
    from segmenter.video import segment_pictures

    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    segment = next(s for s in presentation.segments if s.start_frame <= frame < s.end_frame)
    spec = build_segment_spec(presentation, DEFAULT_RENDITIONS[0], segment.index, clips, music_of(sample_clips_dir))
    picture = list(segment_pictures(spec, frame_store))[frame - segment.start_frame]
    return unpack_yuv420p(picture)[0]


def test_overlays_in_decoded_frames_match_the_expected_rendering(rendered, sample_clips_dir, frame_store):
    """At chosen instants (intro, work, rest, outro) every overlay region of the decoded
    picture matches the rendering; the next second's rendering does not."""
    from segmenter.overlays import Text, layout, overlay_state

    presentation, segments = rendered
    blocks = {b.kind.value: b for b in reversed(presentation.timeline.blocks)}
    instants = [blocks[kind].start_frame + 40 for kind in ("intro", "work", "rest", "outro")]
    decoded = decoded_luma_at(segments, set(instants))
    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    for frame in instants:
        expected = expected_picture(presentation, frame, sample_clips_dir, frame_store).astype(np.int16)
        later = expected_picture(presentation, frame + 30, sample_clips_dir, frame_store).astype(np.int16)
        segment = next(s for s in presentation.segments if s.start_frame <= frame < s.end_frame)
        spec = build_segment_spec(presentation, DEFAULT_RENDITIONS[0], segment.index, clips)
        run = next(r for r in spec.runs if r.first_frame <= frame < r.first_frame + r.frames)
        state = overlay_state(spec, run, frame)
        texts = [e for e in layout(state, 1280, 720) if isinstance(e, Text)]
        for text in texts:
            x, y, w, h = text.box
            error = np.abs(decoded[frame][y : y + h, x : x + w].astype(np.int16) - expected[y : y + h, x : x + w])
            assert error.mean() < 4, (state.kind, text.text, error.mean())
        timer = [t for t in texts if re.fullmatch(r"\d+(:\d\d)?", t.text)]
        if timer:  # the countdown a second later is a different picture: the comparison can tell
            x, y, w, h = timer[0].box
            other = np.abs(decoded[frame][y : y + h, x : x + w].astype(np.int16) - later[y : y + h, x : x + w])
            assert other.mean() > 8, (state.kind, other.mean())


def test_progress_bar_in_decoded_frames_is_as_long_as_the_workout_so_far(rendered):
    from segmenter.overlays import Box, OverlayState, layout

    presentation, segments = rendered
    total = presentation.timeline.total_frames
    instants = [total // 4, total // 2, total - 10]
    decoded = decoded_luma_at(segments, set(instants))
    for frame in instants:
        kind = presentation.timeline.block_at(frame).kind
        track, fill = [e for e in layout(OverlayState(kind, 1, "x", 1, 1, 1, 1, frame, total, 30), 1280, 720)
                       if isinstance(e, Box)]
        row = decoded[frame][track.y + track.height // 2, track.x : track.x + track.width].astype(np.int16)
        bright = np.flatnonzero(row > 60)  # accent colours are far brighter than the dark track
        assert abs(int(bright.max()) + 1 - fill.width) <= 3, (frame, bright.max(), fill.width)
