"""What one fetched segment really contains, read once with PyAV in-process and kept as plain facts.

Demuxing (not decoding) gives every packet's timestamps; the H.264 NAL units in each video packet give
IDR-ness and slice types without decoding pictures. Only the few things that need pixels or samples
(the picture size, I-frame resources, the continuous audio of rule 18) are decoded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

from tests.mediainspect import (
    NAL_IDR,
    NAL_SLICE,
    NAL_SPS,
    MalformedMediaError,
    annexb_units,
    avcc_record,
    length_prefixed_units,
    slice_type,
)

TS = "ts"
FMP4 = "fmp4"
DEMUXER = {TS: "mpegts", FMP4: "mp4"}


@dataclass(frozen=True)
class Picture:
    """One video packet, in decode order."""

    pts: Fraction
    dts: Fraction
    idr: bool
    slice_type: int | None
    """slice_type % 5 of the picture's first slice (0 P, 1 B, 2 I); None if it has no slice."""


@dataclass(frozen=True)
class AudioFacts:
    codec: str
    profile: str | None
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class SegmentProbe:
    pictures: tuple[Picture, ...]
    audio_pts: tuple[Fraction, ...]
    """Start of every AAC frame, in seconds."""
    audio_frame_seconds: Fraction
    video_streams: int
    audio_streams: int
    audio: AudioFacts | None
    sps: bytes | None
    """The first SPS the segment carries in-band (MPEG-TS) or the init's avcC declares (fMP4)."""


class ProbeError(RuntimeError):
    """A segment PyAV cannot demux."""


def seconds(value: int, time_base: Fraction) -> Fraction:
    return Fraction(value) * Fraction(time_base)


def _units(data: bytes, container: str, length_size: int) -> list[bytes]:
    return length_prefixed_units(data, length_size) if container == FMP4 else annexb_units(data)


def _picture(data: bytes, container: str, length_size: int, pts: Fraction, dts: Fraction) -> tuple[Picture, bytes | None]:
    units = _units(data, container, length_size)
    slices = [u for u in units if u and u[0] & 0x1F in (NAL_SLICE, NAL_IDR)]
    sps = next((u for u in units if u and u[0] & 0x1F == NAL_SPS), None)
    kind = slice_type(slices[0]) if slices else None
    idr = any(u[0] & 0x1F == NAL_IDR for u in slices)
    return Picture(pts, dts, idr, kind), sps


def avcc_sps_and_length_size(init: bytes) -> tuple[bytes, int]:
    record = avcc_record(init)
    length_size = (record[4] & 0x03) + 1
    sps_length = int.from_bytes(record[6:8], "big")
    return record[8 : 8 + sps_length], length_size


def probe_segment(data: bytes, container: str, init: bytes = b"") -> SegmentProbe:
    """Demux one media segment (after its init for fMP4) and read every packet's facts."""
    sps, length_size = avcc_sps_and_length_size(init) if container == FMP4 else (None, 4)
    pictures: list[Picture] = []
    audio_pts: list[Fraction] = []
    audio_frame = Fraction(0)
    try:
        with av.open(io.BytesIO(init + data), format=DEMUXER[container]) as demuxer:
            video_streams, audio_streams = len(demuxer.streams.video), len(demuxer.streams.audio)
            audio = None
            if demuxer.streams.audio:
                context = demuxer.streams.audio[0].codec_context
                audio = AudioFacts(context.name, context.profile, context.sample_rate, context.channels)
            for packet in demuxer.demux():
                if not packet.size or packet.pts is None:
                    continue
                pts, dts = seconds(packet.pts, packet.time_base), seconds(packet.dts, packet.time_base)
                if packet.stream.type == "video" and packet.stream.index == demuxer.streams.video[0].index:
                    picture, found_sps = _picture(bytes(packet), container, length_size, pts, dts)
                    pictures.append(picture)
                    sps = sps or found_sps
                elif packet.stream.type == "audio" and packet.stream.index == demuxer.streams.audio[0].index:
                    audio_pts.append(pts)
                    if packet.duration:
                        audio_frame = seconds(packet.duration, packet.time_base)
    except (av.error.FFmpegError, MalformedMediaError, StopIteration, IndexError) as error:
        raise ProbeError(f"cannot demux: {error}") from error
    if audio is not None and not audio_frame:
        audio_frame = Fraction(1024, audio.sample_rate)
    return SegmentProbe(tuple(pictures), tuple(audio_pts), audio_frame, video_streams, audio_streams, audio, sps)


@dataclass(frozen=True)
class DecodedPicture:
    pts: Fraction
    key_frame: bool
    width: int
    height: int


def decode_pictures(data: bytes, container: str, init: bytes = b"", limit: int | None = None) -> list[DecodedPicture]:
    """Decode the video of a resource (at most `limit` pictures)."""
    found: list[DecodedPicture] = []
    try:
        with av.open(io.BytesIO(init + data), format=DEMUXER[container]) as demuxer:
            for frame in demuxer.decode(video=0):
                found.append(DecodedPicture(seconds(frame.pts, frame.time_base), frame.key_frame, frame.width, frame.height))
                if limit is not None and len(found) >= limit:
                    break
    except av.error.FFmpegError as error:
        raise ProbeError(f"cannot decode: {error}") from error
    return found


def decode_audio(data: bytes, container: str) -> tuple[Fraction, int, np.ndarray]:
    """Decode all audio with one decoder, as a player does: (start in seconds, sample rate, (channels, n) samples)."""
    chunks, start, rate = [], None, 0
    try:
        with av.open(io.BytesIO(data), format=DEMUXER[container]) as demuxer:
            for frame in demuxer.decode(audio=0):
                if start is None:
                    start, rate = seconds(frame.pts, frame.time_base), frame.sample_rate
                chunks.append(frame.to_ndarray())
    except av.error.FFmpegError as error:
        raise ProbeError(f"cannot decode audio: {error}") from error
    if start is None:
        raise ProbeError("no audio decoded")
    return start, rate, np.concatenate(chunks, axis=1).astype(np.float64)
