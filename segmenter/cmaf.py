"""Fragmented MP4 (CMAF-style) segments: one shared init segment per rendition,
one `moof` + `mdat` fragment per media segment.

The boxes are written here rather than by FFmpeg's mov muxer: a muxer run on one
segment alone knows neither the segment's place on the global timeline (its
`tfdt`) nor that every other segment's init must be byte-identical, and it
writes edit lists for AAC priming that players disagree about (interop rule
16). Written by hand, each box says exactly what the spec of the segment says:

- init (`ftyp` + `moov`): no durations, no edit lists, nothing that depends on a
  presentation, so one init serves every segment of every presentation of a
  rendition; the `avcC` carries the SPS/PPS that x264 writes for the
  rendition's settings, and every render checks its own against them
  (`segmenter.avcc`).
- media segment (`styp` + `moof` + `mdat`): `tfdt` is the global decode time of
  the segment's first sample, samples are length-prefixed NAL units (AVCC) and
  raw AAC frames, composition offsets are absent (no B-frames: they are all 0).

Box layouts follow ISO/IEC 14496-12 (ISO BMFF) and 14496-15 (`avcC`), and
14496-1 / 14496-3 for `esds` and the AAC AudioSpecificConfig.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from playlists.media import AAC_FRAME_SIZE, AUDIO_CHANNELS, AUDIO_SAMPLE_RATE, OUTPUT_FPS, VIDEO_CLOCK
from playlists.renditions import Rendition
from segmenter.avcc import ParameterSets, avcc_sample, decoder_configuration_record, rendition_parameter_sets
from segmenter.spec import SegmentSpec

VIDEO_TIMESCALE = VIDEO_CLOCK
"""90 kHz, as on the TS path: the same timestamps in both containers, and any frame rate fits."""
AUDIO_TIMESCALE = AUDIO_SAMPLE_RATE
MOVIE_TIMESCALE = 1000
"""Only `mvhd` uses it, with duration 0 (unknown: the movie is fragmented)."""
VIDEO_FRAME_TICKS = VIDEO_TIMESCALE // OUTPUT_FPS
VIDEO_TRACK_ID = 1
AUDIO_TRACK_ID = 2

FILE_BRANDS = (b"iso6", b"cmfc")
"""`ftyp`: major iso6 (tfdt version 1, default-base-is-moof), compatible CMAF."""
SEGMENT_BRANDS = (b"msdh",)
"""`styp`: a media segment."""

AAC_LC_OBJECT_TYPE = 2
SAMPLING_FREQUENCY_INDEX = {96_000: 0, 88_200: 1, 64_000: 2, 48_000: 3, 44_100: 4, 32_000: 5, 24_000: 6}
MPEG4_AUDIO_OBJECT_TYPE_INDICATION = 0x40
AUDIO_STREAM_TYPE = 0x05
ES_DESCRIPTOR_TAG = 0x03
DECODER_CONFIG_TAG = 0x04
DECODER_SPECIFIC_INFO_TAG = 0x05
SL_CONFIG_TAG = 0x06
SL_PREDEFINED_MP4 = 0x02

TKHD_ENABLED_IN_MOVIE = 0x000003
URL_SELF_CONTAINED = 0x000001
VMHD_FLAGS = 0x000001
UNITY_MATRIX = (0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
LANGUAGE_UNDETERMINED = 0x55C4
"""'und' packed as three 5-bit letters."""

TFHD_DEFAULT_SAMPLE_FLAGS_PRESENT = 0x000020
TFHD_DEFAULT_BASE_IS_MOOF = 0x020000
TRUN_DATA_OFFSET_PRESENT = 0x000001
TRUN_SAMPLE_DURATION_PRESENT = 0x000100
TRUN_SAMPLE_SIZE_PRESENT = 0x000200
TRUN_SAMPLE_FLAGS_PRESENT = 0x000400
SIZED_SAMPLES = TRUN_DATA_OFFSET_PRESENT | TRUN_SAMPLE_DURATION_PRESENT | TRUN_SAMPLE_SIZE_PRESENT
"""Every `trun` says where its samples start and each one's duration and size; no composition offsets."""
TFDT_VERSION_64BIT = 1

SYNC_SAMPLE_FLAGS = 0x02000000
"""sample_depends_on = 2 (depends on no other sample): an IDR picture, or any AAC frame."""
NON_SYNC_SAMPLE_FLAGS = 0x01010000
"""sample_depends_on = 1 and sample_is_non_sync_sample: a P picture."""


class CmafError(ValueError):
    """The samples cannot be written as the fragment the spec asks for."""


def box(kind: bytes, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full_box(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return box(kind, struct.pack(">I", version << 24 | flags), *parts)


# --- H.264 and AAC sample entries --------------------------------------------


def avc1_sample_entry(rendition: Rendition, parameter_sets: ParameterSets) -> bytes:
    return box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),  # pre_defined, reserved
        struct.pack(">HH", rendition.width, rendition.height),
        struct.pack(">II", 0x00480000, 0x00480000),  # 72 dpi
        bytes(4),
        struct.pack(">H", 1),  # frame_count
        bytes(32),  # compressorname: empty
        struct.pack(">Hh", 0x0018, -1),  # depth, pre_defined
        box(b"avcC", decoder_configuration_record(parameter_sets)),
    )


def audio_specific_config() -> bytes:
    """AAC-LC, 48 kHz, stereo: the first two bytes the `aac` encoder puts in its extradata."""
    bits = AAC_LC_OBJECT_TYPE << 11 | SAMPLING_FREQUENCY_INDEX[AUDIO_SAMPLE_RATE] << 7 | AUDIO_CHANNELS << 3
    return struct.pack(">H", bits)


def descriptor(tag: int, *parts: bytes) -> bytes:
    payload = b"".join(parts)
    if len(payload) > 0x7F:
        raise CmafError("descriptor too long for a one-byte size")
    return bytes([tag, len(payload)]) + payload


def esds_box() -> bytes:
    """ES descriptor for AAC; buffer size and bit rates 0 (variable, not known before encoding)."""
    decoder_config = descriptor(
        DECODER_CONFIG_TAG,
        bytes([MPEG4_AUDIO_OBJECT_TYPE_INDICATION, AUDIO_STREAM_TYPE << 2 | 1]),  # upStream 0, reserved 1
        bytes(3) + struct.pack(">II", 0, 0),  # bufferSizeDB, maxBitrate, avgBitrate
        descriptor(DECODER_SPECIFIC_INFO_TAG, audio_specific_config()),
    )
    es = descriptor(
        ES_DESCRIPTOR_TAG,
        struct.pack(">HB", 0, 0),  # ES_ID, no dependency / URL / OCR
        decoder_config,
        descriptor(SL_CONFIG_TAG, bytes([SL_PREDEFINED_MP4])),
    )
    return full_box(b"esds", 0, 0, es)


def mp4a_sample_entry() -> bytes:
    return box(
        b"mp4a",
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(8),
        struct.pack(">HHHH", AUDIO_CHANNELS, 16, 0, 0),  # channelcount, samplesize, pre_defined, reserved
        struct.pack(">I", AUDIO_SAMPLE_RATE << 16),
        esds_box(),
    )


# --- init segment -----------------------------------------------------------


def matrix() -> bytes:
    return struct.pack(">9I", *UNITY_MATRIX)


def mvhd_box() -> bytes:
    return full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, MOVIE_TIMESCALE, 0),  # creation, modification, timescale, duration
        struct.pack(">IH", 0x00010000, 0x0100),  # rate 1.0, volume 1.0
        bytes(10),
        matrix(),
        bytes(24),  # pre_defined
        struct.pack(">I", AUDIO_TRACK_ID + 1),  # next_track_ID
    )


def tkhd_box(track_id: int, volume: int, width: int, height: int) -> bytes:
    return full_box(
        b"tkhd",
        0,
        TKHD_ENABLED_IN_MOVIE,
        struct.pack(">IIIII", 0, 0, track_id, 0, 0),  # creation, modification, id, reserved, duration
        bytes(8),
        struct.pack(">hhHH", 0, 0, volume, 0),  # layer, alternate_group, volume, reserved
        matrix(),
        struct.pack(">II", width << 16, height << 16),
    )


def mdhd_box(timescale: int) -> bytes:
    return full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, LANGUAGE_UNDETERMINED, 0))


def hdlr_box(handler: bytes, name: bytes) -> bytes:
    return full_box(b"hdlr", 0, 0, bytes(4), handler, bytes(12), name + b"\0")


def dinf_box() -> bytes:
    return box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, URL_SELF_CONTAINED)))


def empty_sample_table(sample_entry: bytes) -> bytes:
    """Fragmented: every sample is described by a `trun`, so the tables are empty."""
    return box(
        b"stbl",
        full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry),
        full_box(b"stts", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
        full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
        full_box(b"stco", 0, 0, struct.pack(">I", 0)),
    )


def trak_box(
    track_id: int,
    timescale: int,
    handler: bytes,
    media_header: bytes,
    sample_entry: bytes,
    width: int = 0,
    height: int = 0,
) -> bytes:
    volume = 0x0100 if handler == b"soun" else 0
    return box(
        b"trak",
        tkhd_box(track_id, volume, width, height),
        box(
            b"mdia",
            mdhd_box(timescale),
            hdlr_box(handler, b"VideoHandler" if handler == b"vide" else b"SoundHandler"),
            box(b"minf", media_header, dinf_box(), empty_sample_table(sample_entry)),
        ),
    )


def trex_box(track_id: int, duration: int, flags: int) -> bytes:
    return full_box(b"trex", 0, 0, struct.pack(">IIIII", track_id, 1, duration, 0, flags))


def build_init_segment(rendition: Rendition, *, audio: bool = True) -> bytes:
    """`ftyp` + `moov` for the rendition (uncached: see `init_segment`); without `audio`, the video
    track alone, its `trak` and `trex` byte for byte the ones of the full init (`iframe_init_segment`)."""
    video = trak_box(
        VIDEO_TRACK_ID,
        VIDEO_TIMESCALE,
        b"vide",
        full_box(b"vmhd", 0, VMHD_FLAGS, bytes(8)),
        avc1_sample_entry(rendition, rendition_parameter_sets(rendition)),
        width=rendition.width,
        height=rendition.height,
    )
    tracks, trexes = [video], [trex_box(VIDEO_TRACK_ID, VIDEO_FRAME_TICKS, NON_SYNC_SAMPLE_FLAGS)]
    if audio:
        tracks.append(
            trak_box(AUDIO_TRACK_ID, AUDIO_TIMESCALE, b"soun", full_box(b"smhd", 0, 0, bytes(4)), mp4a_sample_entry())
        )
        trexes.append(trex_box(AUDIO_TRACK_ID, AAC_FRAME_SIZE, SYNC_SAMPLE_FLAGS))
    ftyp = box(b"ftyp", FILE_BRANDS[0], struct.pack(">I", 0), *FILE_BRANDS)
    return ftyp + box(b"moov", mvhd_box(), *tracks, box(b"mvex", *trexes))


@functools.cache
def init_segment(rendition: Rendition) -> bytes:
    """The `EXT-X-MAP` of every fMP4 media playlist of `rendition`: identical bytes every time."""
    return build_init_segment(rendition)


@functools.cache
def iframe_init_segment(rendition: Rendition) -> bytes:
    """The `EXT-X-MAP` of the rendition's fMP4 I-frame playlists: the video track alone.

    I-frame resources carry no audio, and their stream's CODECS names only the video codec; an init
    that also declared the AAC track would announce a stream no I-frame resource feeds. The video
    `trak` (track ID, `avcC`) is the media init's, so the keyframes decode exactly as in the media
    segments, and a player holding either init reads the other's samples the same way.
    """
    return build_init_segment(rendition, audio=False)


# --- media segment ----------------------------------------------------------


@dataclass(frozen=True)
class TrackRun:
    """One track's samples in a fragment, all of one duration (frames on a fixed grid)."""

    track_id: int
    base_decode_time: int
    """Global decode time of the first sample, in the track's timescale (the `tfdt`)."""
    sample_duration: int
    samples: Sequence[bytes]
    sync: Sequence[bool] | None = None
    """Per-sample sync flags (video); None: every sample is a sync sample (audio)."""


def traf_box(run: TrackRun, data_offset: int) -> bytes:
    """`tfhd` + `tfdt` + `trun`: sizes and durations per sample; flags per sample (video) or one default."""
    if run.sync is None:
        tfhd_flags, defaults = TFHD_DEFAULT_BASE_IS_MOOF | TFHD_DEFAULT_SAMPLE_FLAGS_PRESENT, [SYNC_SAMPLE_FLAGS]
        trun_flags = SIZED_SAMPLES
        entries = b"".join(struct.pack(">II", run.sample_duration, len(s)) for s in run.samples)
    else:
        tfhd_flags, defaults = TFHD_DEFAULT_BASE_IS_MOOF, []
        trun_flags = SIZED_SAMPLES | TRUN_SAMPLE_FLAGS_PRESENT
        entries = b"".join(
            struct.pack(">III", run.sample_duration, len(s), SYNC_SAMPLE_FLAGS if sync else NON_SYNC_SAMPLE_FLAGS)
            for s, sync in zip(run.samples, run.sync, strict=True)
        )
    tfhd = full_box(b"tfhd", 0, tfhd_flags, struct.pack(f">{1 + len(defaults)}I", run.track_id, *defaults))
    tfdt = full_box(b"tfdt", TFDT_VERSION_64BIT, 0, struct.pack(">Q", run.base_decode_time))
    trun = full_box(b"trun", 0, trun_flags, struct.pack(">Ii", len(run.samples), data_offset), entries)
    return box(b"traf", tfhd, tfdt, trun)


def moof_box(sequence_number: int, runs: Sequence[TrackRun], data_offsets: Sequence[int]) -> bytes:
    trafs = [traf_box(run, offset) for run, offset in zip(runs, data_offsets, strict=True)]
    return box(b"moof", full_box(b"mfhd", 0, 0, struct.pack(">I", sequence_number)), *trafs)


def media_segment(sequence_number: int, runs: Sequence[TrackRun]) -> bytes:
    """`styp` + `moof` + `mdat`, the tracks' samples one run after another in the `mdat`.

    Each `trun`'s data offset counts from the start of the `moof`
    (default-base-is-moof), so the segment means the same wherever it is loaded.
    """
    if any(not run.samples for run in runs):
        raise CmafError("every track needs at least one sample in a fragment")
    moof_size = len(moof_box(sequence_number, runs, [0] * len(runs)))  # offsets do not change the size
    offsets, position = [], moof_size + 8  # past the mdat header
    for run in runs:
        offsets.append(position)
        position += sum(len(sample) for sample in run.samples)
    styp = box(b"styp", SEGMENT_BRANDS[0], struct.pack(">I", 0), *SEGMENT_BRANDS)
    mdat = box(b"mdat", *(sample for run in runs for sample in run.samples))
    return styp + moof_box(sequence_number, runs, offsets) + mdat


def segment_fragment(spec: SegmentSpec, access_units: Sequence[bytes], aac_frames: Sequence[bytes]) -> bytes:
    """The fMP4 media segment of `spec` from its encoded pictures (Annex B, in decode
    order, one per output frame) and its owned AAC frames (raw, one per grid frame).

    Decode times come from the spec, on the same global clocks as the TS path's
    timestamps; the renderer has checked the packets' own timestamps agree.
    """
    frame_ticks, remainder = divmod(VIDEO_TIMESCALE, spec.fps)
    if remainder:
        raise CmafError(f"{spec.fps} fps is not a whole number of {VIDEO_TIMESCALE} Hz ticks")
    parameter_sets = rendition_parameter_sets(spec.rendition)
    converted = [avcc_sample(unit, parameter_sets) for unit in access_units]
    if not converted or not converted[0][1]:
        raise CmafError(f"segment {spec.index} does not open with an IDR picture")
    video = TrackRun(
        VIDEO_TRACK_ID,
        spec.start_frame * frame_ticks,
        frame_ticks,
        [sample for sample, _ in converted],
        [idr for _, idr in converted],
    )
    audio = TrackRun(AUDIO_TRACK_ID, spec.audio_first_frame * AAC_FRAME_SIZE, AAC_FRAME_SIZE, aac_frames)
    return media_segment(spec.index + 1, [video, audio])


def iframe_fragment(spec: SegmentSpec, access_unit: bytes) -> bytes:
    """The I-frame resource of `spec` in fMP4: `styp` + `moof` + `mdat` holding the segment's opening
    IDR (Annex B in) as the one sample of the video track (Apple HLS authoring 6.10: the keyframe
    comes with its own `moof`).

    Its `tfdt` is the segment's start and the sample lasts the whole segment, until the next
    keyframe, as the I-frame playlist's EXTINF says: read one after another, the I-frame
    resources form a timeline without gaps (Apple 7.3), which ffmpeg and players that open an
    I-frame playlist as a plain media playlist rely on.
    """
    frame_ticks, remainder = divmod(VIDEO_TIMESCALE, spec.fps)
    if remainder:
        raise CmafError(f"{spec.fps} fps is not a whole number of {VIDEO_TIMESCALE} Hz ticks")
    sample, idr = avcc_sample(access_unit, rendition_parameter_sets(spec.rendition))
    if not idr:
        raise CmafError(f"segment {spec.index}: the I-frame is not an IDR picture")
    video = TrackRun(VIDEO_TRACK_ID, spec.start_frame * frame_ticks, spec.frames * frame_ticks, [sample], [True])
    return media_segment(spec.index + 1, [video])
