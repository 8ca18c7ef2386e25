"""H.264 as MP4 stores it: length-prefixed NAL units (AVCC), parameter sets out of band.

x264 writes Annex B (start codes) with SPS/PPS in front of each IDR when no
muxer asks it for a global header, as on the TS path. For fMP4 the same encode
is repackaged: the SPS/PPS move to the init segment's `avcC` (14496-15
5.3.3.1), the rest of each access unit gets 4-byte NAL lengths. The init's
parameter sets come from encoding one frame with the rendition's settings; every
segment render checks its encoder wrote exactly those.
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Iterable
from dataclasses import dataclass

import av
import numpy as np

from playlists.media import OUTPUT_FPS
from playlists.renditions import Rendition
from segmenter.codecs import nal_units
from segmenter.video import PIXEL_FORMAT, configure_video_stream

ENCODER_HOST_FORMAT = "null"
"""Muxer that only hosts encoders: like MPEG-TS it asks for no global header, so
x264 writes SPS/PPS in-band exactly as on the TS path, and nothing is written."""

NAL_LENGTH_SIZE = 4
NAL_TYPE_MASK = 0x1F
NAL_TYPE_IDR = 5
NAL_TYPE_SPS = 7
NAL_TYPE_PPS = 8
NAL_TYPE_AUD = 9
OUT_OF_BAND_NAL_TYPES = frozenset({NAL_TYPE_SPS, NAL_TYPE_PPS, NAL_TYPE_AUD})
"""Dropped from samples: parameter sets live in `avcC`, and MP4 needs no delimiters."""

AVCC_VERSION = 1
PROFILES_WITH_CHROMA_INFO = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
"""profile_idc values whose SPS carries chroma_format_idc and bit depths (H.264 7.3.2.1.1)."""
AVCC_HIGH_PROFILES = frozenset({100, 110, 122, 144})
"""profile_idc values whose `avcC` carries the chroma and bit-depth extension (14496-15 5.3.3.1.2)."""
CHROMA_444 = 3
"""chroma_format_idc of 4:4:4, the one followed by separate_colour_plane_flag."""


class AvccError(ValueError):
    """Encoded H.264 that cannot be stored as the init segment declares."""


class ParameterSetMismatch(AvccError):
    """A segment's encoder wrote SPS/PPS that differ from the shared init segment's."""


@dataclass(frozen=True)
class ParameterSets:
    """The one SPS and PPS every segment of a rendition is encoded with (NAL units, no start codes)."""

    sps: bytes
    pps: bytes


def nal_type(unit: bytes) -> int:
    return unit[0] & NAL_TYPE_MASK


def length_prefixed(units: Iterable[bytes]) -> bytes:
    return b"".join(len(unit).to_bytes(NAL_LENGTH_SIZE, "big") + unit for unit in units)


def avcc_sample(access_unit: bytes, parameter_sets: ParameterSets) -> tuple[bytes, bool]:
    """(AVCC sample, is IDR) from an Annex B access unit.

    SPS and PPS are dropped, after checking they are the init segment's: a
    player decodes every segment with the init's `avcC`.
    """
    kept = []
    idr = False
    for unit in nal_units(access_unit):
        kind = nal_type(unit)
        if kind == NAL_TYPE_SPS and unit != parameter_sets.sps:
            raise ParameterSetMismatch("the encoder wrote an SPS that differs from the init segment's")
        if kind == NAL_TYPE_PPS and unit != parameter_sets.pps:
            raise ParameterSetMismatch("the encoder wrote a PPS that differs from the init segment's")
        if kind not in OUT_OF_BAND_NAL_TYPES:
            kept.append(unit)
            idr = idr or kind == NAL_TYPE_IDR
    if not kept:
        raise AvccError("an access unit without a picture")
    return length_prefixed(kept), idr


def parameter_sets_of(annexb: bytes) -> ParameterSets:
    units = nal_units(annexb)
    sps = [u for u in units if nal_type(u) == NAL_TYPE_SPS]
    pps = [u for u in units if nal_type(u) == NAL_TYPE_PPS]
    if len(sps) != 1 or len(pps) != 1:
        raise AvccError(f"expected one SPS and one PPS, found {len(sps)} and {len(pps)}")
    return ParameterSets(sps[0], pps[0])


@functools.cache
def rendition_parameter_sets(rendition: Rendition) -> ParameterSets:
    """Encode one grey frame with the rendition's settings and keep its SPS/PPS.

    x264 fixes them when the encoder opens, from the settings alone, so every
    segment's encoder writes the same ones (and each render checks: `avcc_sample`).
    """
    host = av.open(io.BytesIO(), "w", format=ENCODER_HOST_FORMAT)
    try:
        stream = host.add_stream("libx264", rate=OUTPUT_FPS)
        configure_video_stream(stream, rendition, OUTPUT_FPS)
        picture = np.full((rendition.height * 3 // 2, rendition.width), 128, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format=PIXEL_FORMAT)
        frame.pts = 0
        data = b"".join(bytes(packet) for packet in [*stream.encode(frame), *stream.encode(None)])
    finally:
        host.close()
    return parameter_sets_of(data)


class BitReader:
    """Exp-Golomb reads over an RBSP, enough for the first fields of an SPS."""

    def __init__(self, rbsp: bytes) -> None:
        self.bits = np.unpackbits(np.frombuffer(rbsp, dtype=np.uint8))
        self.position = 0

    def bit(self) -> int:
        if self.position >= len(self.bits):
            raise AvccError("SPS ended early")
        value = int(self.bits[self.position])
        self.position += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bit() == 0:
            zeros += 1
        value = 0
        for _ in range(zeros):
            value = value << 1 | self.bit()
        return (1 << zeros) - 1 + value


def rbsp(unit: bytes) -> bytes:
    """A NAL unit's payload with emulation-prevention bytes (00 00 03) removed."""
    out, zeros = bytearray(), 0
    for byte in unit[1:]:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def chroma_and_bit_depths(sps: bytes) -> tuple[int, int, int]:
    """(chroma_format_idc, bit_depth_luma_minus8, bit_depth_chroma_minus8); 4:2:0 8-bit unless the SPS says."""
    if sps[1] not in PROFILES_WITH_CHROMA_INFO:
        return 1, 0, 0
    reader = BitReader(rbsp(sps)[3:])  # after profile_idc, constraint flags, level_idc
    reader.ue()  # seq_parameter_set_id
    chroma_format = reader.ue()
    if chroma_format == CHROMA_444:
        reader.bit()  # separate_colour_plane_flag
    return chroma_format, reader.ue(), reader.ue()


def decoder_configuration_record(parameter_sets: ParameterSets) -> bytes:
    """AVCDecoderConfigurationRecord (the `avcC` payload), 4-byte NAL lengths (lengthSizeMinusOne = 3)."""
    sps, pps = parameter_sets.sps, parameter_sets.pps
    record = bytes([AVCC_VERSION, sps[1], sps[2], sps[3], 0xFC | (NAL_LENGTH_SIZE - 1), 0xE0 | 1])
    record += struct.pack(">H", len(sps)) + sps + bytes([1]) + struct.pack(">H", len(pps)) + pps
    if sps[1] in AVCC_HIGH_PROFILES:
        chroma, luma_depth, chroma_depth = chroma_and_bit_depths(sps)
        record += bytes([0xFC | chroma, 0xF8 | luma_depth, 0xF8 | chroma_depth, 0])  # no SPS extensions
    return record
