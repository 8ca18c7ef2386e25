"""Renditions: the ladder of picture sizes and bit rates a presentation is offered at.

Every rendition is encoded at a constant bit rate with HRD filler (x264
`nal-hrd=cbr`, `vbv-maxrate = bitrate`), so what the multivariant playlist
declares before any segment exists is what every segment then carries, whatever
the picture shows (`playlists.bandwidth` predicts each segment's size). Capped VBR
would save bits on static screens, but its actual rate cannot be known up
front, and players choose renditions by the declared numbers.

Audio is muxed into every rendition (the same cue track and music, stereo AAC-LC
at 48 kHz in each, at a lower rate in the cellular baseline): every client plays
muxed TS and fMP4, and switching video never switches the audio's format.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

IFRAME_TS_OVERHEAD = Fraction(104, 100)
"""An I-frame segment is one keyframe in MPEG-TS: 188-byte packets carrying 184 payload bytes, plus its
PES header and the PAT and PMT."""
IFRAME_FMP4_BYTES = 160
"""An I-frame segment is one keyframe in fMP4: `styp` 20, `moof` 100 (`mfhd`, one `traf` with `tfhd`,
`tfdt` and a one-sample `trun`), the `mdat` header 8, and 4-byte NAL lengths where Annex B has 3- or
4-byte start codes; whatever the keyframe's size (`segmenter.cmaf.iframe_fragment`)."""

START_RENDITION = "720p"
"""Listed first in the multivariant playlist: the variant players start with before they measure anything."""


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    video_bitrate: int
    """Constant video bit rate (bits/s), enforced with HRD filler."""
    video_bufsize: int
    """VBV buffer (bits): one second of video, which bounds a segment's rate over any stretch."""
    audio_bitrate: int
    preset: str
    h264_level: str
    """Level for the picture size and rate; Apple devices play constrained baseline at these levels."""
    fixed_ts_sizes: bool = False
    """Pad each MPEG-TS segment's streams to the packet counts `playlists.bandwidth` predicts, rounded up to
    the continuity padding's next 16-packet step, instead of just to that step: every segment then weighs
    exactly what the multivariant playlist was computed from. For the cellular baseline, where one step
    is 7 % of a two-second segment and the declared peak must stay within 3-10 % of the measured one."""

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


def _rung(name: str, width: int, height: int, video_bitrate: int, level: str) -> Rendition:
    return Rendition(
        name=name,
        width=width,
        height=height,
        video_bitrate=video_bitrate,
        video_bufsize=video_bitrate,
        audio_bitrate=128_000,
        preset="ultrafast",
        h264_level=level,
    )


CELLULAR_BASELINE_LIMIT = 192_000
"""App Store rule 9.4 (Apple QA1767): an app that streams video over cellular for more than 10 minutes
must offer a variant whose measured bit rate, container included, is at most this (bits/s)."""

CELLULAR_BASELINE = Rendition(
    name="234p",
    width=416,
    height=234,
    video_bitrate=60_000,
    video_bufsize=60_000,
    audio_bitrate=48_000,
    preset="superfast",
    h264_level="1.3",
    fixed_ts_sizes=True,
)
"""The rendition a player falls back to on a poor network, under CELLULAR_BASELINE_LIMIT in both
containers. MPEG-TS is what binds: at these rates its container is 25-35 % of the bytes (fMP4 carries
the same encode in 120 kbit/s where TS takes 160-171, bench/baseline_rates.py), and its segments grow in steps of 16 packets per stream (`segmenter.transport`), so
a one-second segment fits 7 steps (171.5 kbit/s) but not 8 (195.5). 60 kbit/s of video (about 55 TS
packets in a one-second segment, 4 steps) and 48 kbit/s stereo AAC-LC (about 40 packets with music, 3
steps) keep the one-second segment at 7 steps and every longer one under the limit
(tests/playlists/test_bandwidth.py walks every segment length). Apple's smallest size (416x234); the
`superfast` preset adds CABAC and deblocking to what `ultrafast` does (legible text at 60 kbit/s) and,
unlike the slower presets with a look-ahead, still hits the CBR rate exactly in one-second
segments (`veryfast` overshot them by 15-20 %). Level 1.3, the lowest H.264 Table A-1 allows for 416x234 at
30 fps and this rate (Apple authoring 1.11)."""

DEFAULT_RENDITIONS: tuple[Rendition, ...] = (
    _rung("720p", 1280, 720, 3_000_000, "3.1"),
    CELLULAR_BASELINE,
    _rung("360p", 640, 360, 800_000, "3.0"),
    _rung("540p", 960, 540, 1_600_000, "3.1"),
    _rung("1080p", 1920, 1080, 5_500_000, "4.0"),
)
"""The default ladder, START_RENDITION first (bit rates after Apple's HLS authoring table, for 30 fps)."""


def rendition_named(name: str, renditions: tuple[Rendition, ...] = DEFAULT_RENDITIONS) -> Rendition:
    for rendition in renditions:
        if rendition.name == name:
            return rendition
    raise KeyError(name)


VBV_INITIAL_FILL = Fraction(9, 10)
"""x264's default vbv-init: a fresh encoder starts with its buffer 90 % full, all of which its IDR may use."""


def declared_iframe_bandwidth(rendition: Rendition, shortest_interval: Fraction, fps: int, container: str = "ts") -> int:
    """BANDWIDTH of the I-frame stream in `container` ("ts" or "fmp4"): no keyframe can exceed the initial
    VBV fill plus one frame's share of the rate, and the shortest interval between keyframes makes that
    the highest rate. MPEG-TS packetising costs a share of the keyframe, fMP4 boxes a fixed few bytes."""
    keyframe_bits = VBV_INITIAL_FILL * rendition.video_bufsize + Fraction(rendition.video_bitrate, fps)
    if container == "fmp4":
        resource_bits = keyframe_bits + 8 * IFRAME_FMP4_BYTES
    else:
        resource_bits = keyframe_bits * IFRAME_TS_OVERHEAD
    return math.ceil(resource_bits / shortest_interval)
