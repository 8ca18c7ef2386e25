"""fMP4 segments read back box by box, and by real demuxers and decoders (FFmpeg's mov demuxer, PyAV)."""

from __future__ import annotations

import io
import itertools
import struct
from dataclasses import dataclass, replace
from pathlib import Path

import av
import numpy as np
import pytest

from assets.catalogue import load_catalogue
from playlists.cues import timeline_cues
from playlists.media import AAC_FRAME_SIZE, SAMPLES_PER_VIDEO_FRAME, VIDEO_CLOCK
from playlists.plan import Plan
from playlists.presentation import Presentation, build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.audio import synthesize
from segmenter.avcc import rendition_parameter_sets
from segmenter.cmaf import build_init_segment, init_segment
from segmenter.codecs import nal_units
from segmenter.frame_store import FrameStore
from segmenter.music import music_samples
from segmenter.render import render_segment
from segmenter.spec import Container, MusicRef, SegmentSpec, build_segment_spec, clip_ref_of, spec_key
from tests.clients.ffmpeg_client import decode_with_ffmpeg
from tests.mediainspect import avcc_record, boxes, fragments, length_prefixed_units, top_level, trex_defaults

RENDITION = DEFAULT_RENDITIONS[0]
VIDEO_TICKS_PER_FRAME = VIDEO_CLOCK // 30
PLAN = {
    "items": [
        {"exercise_id": "push_up", "work_seconds": 4, "rest_seconds": 2},
        {"exercise_id": "lunge", "work_seconds": 3, "rest_seconds": 0},
    ],
    "speed": 1.33,
    "segment_seconds": 2,
    "music": "groove",
}
TRUN_COMPOSITION_OFFSETS_PRESENT = 0x800
TFHD_DEFAULT_BASE_IS_MOOF = 0x020000
SAMPLE_IS_NON_SYNC = 0x00010000


def music_of(sample_clips_dir: Path) -> MusicRef:
    track = load_catalogue(sample_clips_dir).music["groove"]
    return MusicRef(track.id, str(track.path), track.version())


@dataclass(frozen=True)
class Rendered:
    presentation: Presentation
    specs: list[SegmentSpec]
    init: bytes
    segments: list[bytes]
    library: FrameStore

    @property
    def whole(self) -> bytes:
        return self.init + b"".join(self.segments)


@pytest.fixture(scope="module")
def rendered(sample_clips_dir: Path, frame_store: FrameStore) -> Rendered:
    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    presentation = build_presentation(Plan.model_validate(PLAN), DEFAULT_RENDITIONS)
    music = music_of(sample_clips_dir)
    specs = [
        build_segment_spec(presentation, RENDITION, i, clips, music, Container.FMP4)
        for i in range(len(presentation.segments))
    ]
    library = frame_store
    segments = [render_segment(spec, library) for spec in specs]
    return Rendered(presentation, specs, init_segment(RENDITION), segments, library)


def parameter_sets_in_avcc(init: bytes) -> tuple[bytes, bytes]:
    record = avcc_record(init)
    assert record[4] & 0x03 == 3  # lengthSizeMinusOne: 4-byte NAL lengths
    assert record[5] & 0x1F == 1
    sps_length = int.from_bytes(record[6:8], "big")
    sps = record[8 : 8 + sps_length]
    rest = record[8 + sps_length :]
    assert rest[0] == 1
    pps = rest[3 : 3 + int.from_bytes(rest[1:3], "big")]
    return sps, pps


def video_samples(segment: bytes, trex: dict[int, tuple[int, int, int]]) -> list[bytes]:
    """The video samples, cut out of the segment by the trun's data offset and sizes."""
    video = fragments(segment, trex)[1]
    moof_start = struct.unpack_from(">I", segment, 0)[0]  # the moof follows the styp
    position = moof_start + video.data_offset
    samples = []
    for size in video.sizes:
        samples.append(segment[position : position + size])
        position += size
    return samples


# --- init segment -----------------------------------------------------------


def test_init_segment_is_byte_identical_every_time_and_per_rendition(rendered):
    small = replace(RENDITION, name="360p", width=640, height=360)
    rendition_parameter_sets.cache_clear()
    first = build_init_segment(RENDITION)
    rendition_parameter_sets.cache_clear()
    assert build_init_segment(RENDITION) == first == rendered.init
    assert build_init_segment(small) == build_init_segment(small) != first
    assert top_level(first) == [b"ftyp", b"moov"]
    kinds = {b.kind for b in boxes(first)}
    assert {b"mvex", b"trex", b"avcC", b"esds"} <= kinds


def test_init_declares_the_sps_and_pps_the_segment_encoders_write(rendered):
    """Decoders use the init's avcC for every segment: it must hold what x264 really wrote."""
    sps, pps = parameter_sets_in_avcc(rendered.init)
    ts = render_segment(replace(rendered.specs[2], container=Container.TS), rendered.library)
    with av.open(io.BytesIO(ts), format="mpegts") as container:
        first = bytes(next(p for p in container.demux(video=0) if p.size))
    in_band = {unit[0] & 0x1F: unit for unit in nal_units(first)}
    assert (in_band[7], in_band[8]) == (sps, pps)
    assert avcc_record(rendered.init)[1:4] == sps[1:4]  # profile, constraints, level as in the SPS


def test_fmp4_samples_are_length_prefixed_without_parameter_sets(rendered):
    trex = trex_defaults(rendered.init)
    for segment in rendered.segments:
        samples = video_samples(segment, trex)
        types = [[unit[0] & 0x1F for unit in length_prefixed_units(sample)] for sample in samples]
        assert 5 in types[0]  # IDR slice
        assert not any(t in (7, 8, 9) for sample in types for t in sample)  # SPS/PPS/AUD live out of band


def test_a_high_profile_rendition_decodes_from_its_init_and_a_segment(rendered, tmp_path):
    """x264 presets above ultrafast emit High profile, whose avcC carries the chroma/bit-depth extension."""
    high = replace(RENDITION, name="high", width=320, height=180, preset="veryfast")
    init = build_init_segment(high)
    assert avcc_record(init)[1] == 100  # High profile
    spec = replace(rendered.specs[0], rendition=high)
    path = tmp_path / "high.mp4"
    path.write_bytes(init + render_segment(spec, rendered.library))
    report = decode_with_ffmpeg(str(path))
    assert report.ok, report.warnings
    assert report.video_frames == spec.frames


# --- media segments: boxes ----------------------------------------------------


def test_segments_are_styp_moof_mdat_with_one_traf_per_track_numbered_from_one(rendered):
    for spec, segment in zip(rendered.specs, rendered.segments):
        assert top_level(segment) == [b"styp", b"moof", b"mdat"]
        mfhd = next(b for b in boxes(segment) if b.kind == b"mfhd")
        assert struct.unpack_from(">I", mfhd.payload, 4)[0] == spec.index + 1
        trafs = fragments(segment, trex_defaults(rendered.init))
        assert sorted(trafs) == [1, 2]
        assert all(f.tfhd_flags & TFHD_DEFAULT_BASE_IS_MOOF for f in trafs.values())


def test_tfdt_continues_across_every_segment_on_both_tracks(rendered):
    """Segment k's decode time plus its samples' durations is segment k+1's decode time (interop 16)."""
    trex = trex_defaults(rendered.init)
    parsed = [fragments(segment, trex) for segment in rendered.segments]
    for track in (1, 2):
        assert parsed[0][track].base_decode_time == 0
        for this, following in itertools.pairwise(parsed):
            assert this[track].base_decode_time + sum(this[track].durations) == following[track].base_decode_time
    for spec, tracks in zip(rendered.specs, parsed):
        assert tracks[1].base_decode_time == spec.start_frame * VIDEO_TICKS_PER_FRAME
        assert tracks[1].durations == [VIDEO_TICKS_PER_FRAME] * spec.frames
        assert tracks[2].base_decode_time == spec.audio_first_frame * AAC_FRAME_SIZE
        assert tracks[2].durations == [AAC_FRAME_SIZE] * (spec.audio_end_frame - spec.audio_first_frame)
    total_frames = rendered.presentation.timeline.total_frames
    last = parsed[-1]
    assert last[1].base_decode_time + sum(last[1].durations) == total_frames * VIDEO_TICKS_PER_FRAME


def test_no_edit_list_and_no_composition_offset_anywhere(rendered):
    for data in [rendered.init, *rendered.segments]:
        kinds = {b.kind for b in boxes(data)}
        assert not kinds & {b"edts", b"elst"}
    trex = trex_defaults(rendered.init)
    for segment in rendered.segments:
        for fragment in fragments(segment, trex).values():
            assert not fragment.trun_flags & TRUN_COMPOSITION_OFFSETS_PRESENT
            assert fragment.base_decode_time >= 0


def test_only_the_first_video_sample_is_a_sync_sample_and_every_audio_sample_is(rendered):
    trex = trex_defaults(rendered.init)
    for segment in rendered.segments:
        tracks = fragments(segment, trex)
        video_sync = [not flags & SAMPLE_IS_NON_SYNC for flags in tracks[1].flags]
        assert video_sync == [True] + [False] * (len(video_sync) - 1)
        assert not any(flags & SAMPLE_IS_NON_SYNC for flags in tracks[2].flags)


# --- media segments: decoded by real demuxers -----------------------------------


def test_ffmpeg_decodes_init_and_all_segments_with_exact_counts_and_no_warning(rendered, tmp_path):
    path = tmp_path / "whole.mp4"
    path.write_bytes(rendered.whole)
    report = decode_with_ffmpeg(str(path))
    total = rendered.presentation.timeline.total_frames
    assert report.ok, report.warnings
    assert report.video_frames == total
    assert report.audio_samples == -(-total * SAMPLES_PER_VIDEO_FRAME // AAC_FRAME_SIZE) * AAC_FRAME_SIZE
    assert report.video_pts == pytest.approx([frame / 30 for frame in range(total)], abs=1e-6)


def test_each_segment_decodes_alone_after_the_init(rendered, tmp_path):
    """Independent segments: a player may start or seek to any of them."""
    for spec, segment in zip(rendered.specs, rendered.segments):
        path = tmp_path / f"alone{spec.index}.mp4"
        path.write_bytes(rendered.init + segment)
        report = decode_with_ffmpeg(str(path))
        assert report.ok, (spec.index, report.warnings)
        assert report.video_frames == spec.frames
        assert report.audio_samples == (spec.audio_end_frame - spec.audio_first_frame) * AAC_FRAME_SIZE
        assert report.video_pts[0] == pytest.approx(spec.start_frame / 30, abs=1e-6)


def demuxed(data: bytes, format: str) -> dict[str, list[tuple[float, bytes]]]:
    """(pts in seconds, payload) of every packet per stream type."""
    found: dict[str, list[tuple[float, bytes]]] = {"video": [], "audio": []}
    with av.open(io.BytesIO(data), format=format) as container:
        for packet in container.demux():
            if packet.size:
                found[packet.stream.type].append((float(packet.pts * packet.time_base), bytes(packet)))
    return found


def picture_units(annexb_or_avcc: bytes, avcc: bool) -> list[bytes]:
    units = length_prefixed_units(annexb_or_avcc) if avcc else nal_units(annexb_or_avcc)
    return [unit for unit in units if unit[0] & 0x1F not in (7, 8, 9)]


ADTS_HEADER = 7


def test_same_encoded_pictures_audio_frames_and_timestamps_as_the_ts_segment(rendered):
    """fMP4 only repackages: the TS path's x264 NAL units and AAC frames, at the same times."""
    spec, segment = rendered.specs[3], rendered.segments[3]
    ts = demuxed(render_segment(replace(spec, container=Container.TS), rendered.library), "mpegts")
    mp4 = demuxed(rendered.init + segment, "mp4")
    assert [pts for pts, _ in mp4["video"]] == pytest.approx([pts for pts, _ in ts["video"]], abs=1e-9)
    assert [pts for pts, _ in mp4["audio"]] == pytest.approx([pts for pts, _ in ts["audio"]], abs=1e-9)
    for (_, fmp4_picture), (_, ts_picture) in zip(mp4["video"], ts["video"], strict=True):
        assert picture_units(fmp4_picture, avcc=True) == picture_units(ts_picture, avcc=False)
    for (_, fmp4_frame), (_, ts_frame) in zip(mp4["audio"], ts["audio"], strict=True):
        assert fmp4_frame == ts_frame[ADTS_HEADER:]


def test_decoded_frames_show_the_clip_frame_the_sampling_rule_picks(rendered, sample_clips_dir):
    from assets.framemark import read_frame_mark
    from segmenter.sampling import source_frame_index

    catalogue = load_catalogue(sample_clips_dir)
    timeline = rendered.presentation.timeline
    checked = 0
    with av.open(io.BytesIO(rendered.whole), format="mp4") as container:
        for index, frame in enumerate(container.decode(video=0)):
            block = timeline.block_at(index)
            if block.kind.value != "work":
                continue
            clip = catalogue.get(block.exercise_id)
            luma = np.frombuffer(frame.planes[0], np.uint8).reshape(frame.height, -1)[:, : frame.width]
            expected = source_frame_index(index - block.start_frame, block.speed, clip.fps, clip.frames, 30)
            assert read_frame_mark(luma) == expected, index
            checked += 1
    assert checked == sum(b.frames for b in timeline.blocks if b.kind.value == "work")


def test_audio_is_gapless_across_boundaries_when_decoded_continuously(rendered, sample_clips_dir):
    with av.open(io.BytesIO(rendered.whole), format="mp4") as container:
        decoded = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    music = music_samples(music_of(sample_clips_dir))
    expected = synthesize(0, len(decoded), timeline_cues(rendered.presentation.timeline), music)[0]
    window = 2 * AAC_FRAME_SIZE
    worst = 0.0
    for spec in rendered.specs[1:]:
        boundary = spec.audio_first_frame * AAC_FRAME_SIZE
        error = decoded[boundary - window : boundary + window] - expected[boundary - window : boundary + window]
        worst = max(worst, float(np.sqrt(np.mean(error**2))))
    beep_rms = 0.5 / np.sqrt(2)
    assert 20 * np.log10(max(worst, 1e-9) / beep_rms) < -30


# --- the container in the spec --------------------------------------------------


def test_the_container_is_part_of_the_cache_key_and_must_be_known(rendered):
    spec = rendered.specs[1]
    assert spec_key(spec) != spec_key(replace(spec, container=Container.TS))
    assert spec_key(replace(spec, container="fmp4")) == spec_key(spec)
    with pytest.raises(ValueError):
        replace(spec, container="webm")
