"""Renditions: the picture sizes and rate limits each media playlist is encoded at.

The peak-rate bound here is what lets the multivariant playlist declare an
honest BANDWIDTH before any segment exists: x264's VBV caps what any segment
can contain (see `declared_bandwidth`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

VBV_INITIAL_FILL = Fraction(9, 10)
"""x264's default vbv-init: a fresh encoder starts with its buffer 90% full."""

TS_VIDEO_OVERHEAD = Fraction(105, 100)
"""188-byte TS packets carrying 184 payload bytes, PES headers and PCR adaptation fields."""

TS_AUDIO_OVERHEAD = Fraction(125, 100)
"""A ~340-byte AAC frame needs two TS packets plus its PES and ADTS headers."""


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    video_maxrate: int
    """Peak video bit rate (bits/s) enforced by the encoder's VBV."""
    video_bufsize: int
    """VBV buffer (bits)."""
    audio_bitrate: int
    crf: int
    preset: str
    h264_level: str

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


DEFAULT_RENDITIONS: tuple[Rendition, ...] = (
    Rendition(
        name="720p",
        width=1280,
        height=720,
        video_maxrate=3_000_000,
        video_bufsize=3_000_000,
        audio_bitrate=128_000,
        crf=23,
        preset="ultrafast",
        h264_level="3.1",
    ),
)


def declared_bandwidth(rendition: Rendition, shortest_segment: Fraction) -> tuple[int, int]:
    """(BANDWIDTH, AVERAGE-BANDWIDTH) in bits/s that no rendered segment can exceed.

    A segment of d seconds holds at most maxrate*d + initial VBV fill bits of
    video, so the peak per-segment rate is bounded by the shortest segment. The
    long-run average cannot exceed maxrate, which bounds AVERAGE-BANDWIDTH.
    """
    video_peak = rendition.video_maxrate + VBV_INITIAL_FILL * rendition.video_bufsize / shortest_segment
    audio = rendition.audio_bitrate * TS_AUDIO_OVERHEAD
    peak = video_peak * TS_VIDEO_OVERHEAD + audio
    average = rendition.video_maxrate * TS_VIDEO_OVERHEAD + audio
    return math.ceil(peak), math.ceil(average)
