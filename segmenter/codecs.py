"""RFC 6381 CODECS strings read off what the encoder really produces.

The multivariant playlist must name the profile and level in the stream's SPS
(interop rule 6). Rather than guess what x264 picks for a preset, encode one
frame with the rendition's settings and read its SPS.
"""

from __future__ import annotations

import functools
import io

import av
import numpy as np

from playlists.media import OUTPUT_FPS
from playlists.renditions import Rendition
from segmenter.video import PIXEL_FORMAT, configure_video_stream

AAC_LC_CODEC = "mp4a.40.2"
NAL_TYPE_SPS = 7


class CodecProbeError(RuntimeError):
    """The encoder produced no SPS to read the profile and level from."""


def nal_units(annexb: bytes) -> list[bytes]:
    """Split an Annex B byte stream at its start codes."""
    units = []
    for chunk in annexb.split(b"\x00\x00\x01"):
        chunk = chunk.rstrip(b"\x00")
        if chunk:
            units.append(chunk)
    return units


def avc1_codec(annexb: bytes) -> str:
    """'avc1.PPCCLL' from the first SPS: profile_idc, constraint flags, level_idc."""
    for unit in nal_units(annexb):
        if unit[0] & 0x1F == NAL_TYPE_SPS and len(unit) >= 4:
            return f"avc1.{unit[1]:02x}{unit[2]:02x}{unit[3]:02x}"
    raise CodecProbeError("no SPS in the encoded frame")


@functools.cache
def video_codec(rendition: Rendition) -> str:
    container = av.open(io.BytesIO(), "w", format="h264")
    stream = container.add_stream("libx264", rate=OUTPUT_FPS)
    configure_video_stream(stream, rendition, OUTPUT_FPS)
    picture = np.full((rendition.height * 3 // 2, rendition.width), 128, dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(picture, format=PIXEL_FORMAT)
    frame.pts = 0
    data = b"".join(bytes(p) for p in [*stream.encode(frame), *stream.encode(None)])
    container.close()
    return avc1_codec(data)


def codecs_attribute(rendition: Rendition) -> str:
    return f"{video_codec(rendition)},{AAC_LC_CODEC}"
