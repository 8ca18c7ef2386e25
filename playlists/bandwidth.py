"""BANDWIDTH and AVERAGE-BANDWIDTH of a variant, from a model of what each of its segments will weigh.

Segments are rendered when players ask for them, so the multivariant playlist cannot measure them; yet
Apple's authoring rules want the measured peak and average within 10 % of what is declared (and RFC 8216
4.3.4.2 wants the peak never above it). Every input that sets a segment's size is fixed before any segment
exists, so the sizes can be predicted closely instead:

- **Video** is CBR with HRD filler (`playlists.renditions`). A fresh encoder starts with its VBV buffer
  90 % full and filler keeps it from overflowing, so a segment of t seconds carries
  `bitrate * t - 10 % of the buffer` (measured within 0.3 % at every rung, 1 % at worst).
- **Audio** is the plan's cue track, optionally over music. FFmpeg's AAC encoder spends about its target
  rate on any sound and next to nothing on silence, and where the cues sound is known from the timeline.
- **The container** adds a fixed amount per segment and per frame: MPEG-TS packet headers, PES headers,
  stuffing, PSI and continuity padding (`segmenter.transport`); fMP4 `moof` sample entries. MPEG-TS
  costs most for audio: every 21 ms AAC frame is a PES of its own, so even silence takes a packet
  (70 kbit/s) and a sounding frame two or three.

From the predicted sizes, the peak and average are computed as RFC 8216 defines them, then raised by a
small margin so the measured rates stay at or under the declared ones.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from playlists.cues import Cue
from playlists.media import AAC_FRAME_SIZE, AUDIO_SAMPLE_RATE, TS_HEADER_SIZE, TS_PACKET_SIZE, owned_aac_frames
from playlists.renditions import VBV_INITIAL_FILL, Rendition
from playlists.segments import Segment

TS_PACKET_BYTES = TS_PACKET_SIZE
TS_PAYLOAD_BYTES = TS_PACKET_SIZE - TS_HEADER_SIZE
TS_BYTES_PER_SEGMENT = 47 * TS_PACKET_BYTES
"""The PAT and the PMT, written once and repeated to 16 packets each so continuity counters wrap, plus
on average 7.5 continuity-padding packets on each of the two elementary streams."""
PES_HEADER_BYTES = 14
"""A PES header with a PTS only (no B-frames, so no DTS)."""
TS_BYTES_PER_VIDEO_FRAME = PES_HEADER_BYTES + 6 + 180
"""Each frame's PES header, its access unit delimiter (6 bytes), and the
stuffing that pads the packet where its PES ends: at most 183 bytes, and as much as 140 on average
when CBR frames are all about the same size (it depends on that size modulo 184), so it is counted
near its worst; PCR adaptation fields (8 bytes about every 100 ms) round this up."""
ADTS_HEADER_BYTES = 7
"""MPEG-TS carries AAC in ADTS frames; fMP4 carries the raw frames."""
FMP4_BYTES_PER_VIDEO_FRAME = 12
FMP4_BYTES_PER_AAC_FRAME = 8
"""`trun` entries: duration, size and flags per video sample; duration and size per audio sample."""
FMP4_BYTES_PER_SEGMENT = 256
"""`styp`, `moof`, `mfhd`, two `traf`s with `tfhd`, `tfdt` and `trun` headers, and the `mdat` header."""

SILENT_AAC_FRAME_BYTES = 6
"""What FFmpeg's AAC encoder writes for 1024 samples of digital silence (stereo, 48 kHz)."""
SOUNDING_AAC_RATE = Fraction(108, 100)
"""Of the target bit rate, what the encoder spends on frames with sound: 136-143 kbit/s for a 128 kbit/s
target, on music and on cue tones alike."""

DECLARED_MARGIN = Fraction(103, 100)
"""Above the predicted rates, so the measured ones stay under them: rendered segments came within -2.4 %
and +1 % of their prediction (tests/segmenter/test_ladder.py holds them to 3 %), and declared rates may
be at most 10 % above the measured ones."""


@dataclass(frozen=True)
class DeclaredBandwidth:
    """Both attributes of one variant, in bits per second."""

    peak: int
    average: int


def rfc_peak_and_average(durations: Sequence[Fraction], sizes: Sequence[int], target: int) -> tuple[float, float]:
    """RFC 8216 4.3.4.2: the peak is the largest bit rate of any contiguous run of segments lasting 0.5 to
    1.5 times the target duration; the average is over the whole presentation.

    Durations are counted in integer ticks of their common denominator, so a run lasting exactly half
    or one and a half target durations is judged exactly.
    """
    exact = [d if isinstance(d, Fraction) else Fraction(d) for d in durations]
    denominator = math.lcm(*(d.denominator for d in exact))
    ticks = [d.numerator * (denominator // d.denominator) for d in exact]
    shortest, longest = target * denominator, 3 * target * denominator  # twice the bounds, in ticks
    peak = 0.0
    for first in range(len(sizes)):
        run, bits = 0, 0
        for last in range(first, len(sizes)):
            run += ticks[last]
            bits += sizes[last] * 8
            if 2 * run > longest:
                break
            if 2 * run >= shortest:
                peak = max(peak, bits * denominator / run)
    return peak, sum(sizes) * 8 * denominator / sum(ticks)


def sounding_aac_frames(cues: Sequence[Cue]) -> tuple[int, ...]:
    """Global AAC frame numbers that a cue sounds in, in order (the rest of a cue-only track is silence)."""
    frames: set[int] = set()
    for cue in cues:
        first = cue.start_sample // AAC_FRAME_SIZE
        end = -(-(cue.start_sample + cue.length_samples) // AAC_FRAME_SIZE)
        frames.update(range(first, end))
    return tuple(sorted(frames))


@dataclass(frozen=True)
class AudioModel:
    """Predicted AAC frames per segment: every frame sounds under music, only cue frames without."""

    bitrate: int
    music: bool
    sounding: tuple[int, ...]
    """Global AAC frames a cue sounds in, in order (`sounding_aac_frames`)."""

    @functools.cached_property
    def sounding_frame_bytes(self) -> float:
        return float(self.bitrate * SOUNDING_AAC_RATE * AAC_FRAME_SIZE / AUDIO_SAMPLE_RATE / 8)

    def sounding_count(self, first: int, end: int) -> int:
        """How many of the global AAC frames [first, end) carry sound."""
        if self.music:
            return end - first
        return bisect.bisect_left(self.sounding, end) - bisect.bisect_left(self.sounding, first)


def ts_audio_frame_bytes(payload: float) -> float:
    """One AAC frame in MPEG-TS: FFmpeg's muxer gives each frame a PES of its own (ADTS and PES headers
    around it), which starts a packet and is stuffed to fill its last one."""
    pes = payload + ADTS_HEADER_BYTES + PES_HEADER_BYTES
    if pes <= TS_PAYLOAD_BYTES:
        return TS_PACKET_BYTES
    return TS_PACKET_BYTES * (pes / TS_PAYLOAD_BYTES + 0.5)


UNFILLED_VBV_SHARE = float(1 - VBV_INITIAL_FILL)


def video_payload_bytes(rendition: Rendition, frames: int, fps: int) -> float:
    """CBR with HRD filler: the rate over the segment, less what the encoder's buffer did not start with."""
    return (rendition.video_bitrate * frames / fps - UNFILLED_VBV_SHARE * rendition.video_bufsize) / 8


def segment_bytes(
    segment: Segment, total_frames: int, rendition: Rendition, audio: AudioModel, container: str
) -> float:
    """Predicted size of one rendered segment in `container` ("ts" or "fmp4")."""
    first, end = owned_aac_frames(segment.start_frame, segment.end_frame, total_frames)
    sounding = audio.sounding_count(first, end)
    silent = end - first - sounding
    video = video_payload_bytes(rendition, segment.frames, segment.fps)
    if container == "fmp4":
        sound = sounding * audio.sounding_frame_bytes + silent * SILENT_AAC_FRAME_BYTES
        return (
            video
            + sound
            + FMP4_BYTES_PER_SEGMENT
            + FMP4_BYTES_PER_VIDEO_FRAME * segment.frames
            + FMP4_BYTES_PER_AAC_FRAME * (end - first)
        )
    sound = sounding * ts_audio_frame_bytes(audio.sounding_frame_bytes) + silent * ts_audio_frame_bytes(
        SILENT_AAC_FRAME_BYTES
    )
    return (
        video * TS_PACKET_BYTES / TS_PAYLOAD_BYTES
        + TS_BYTES_PER_VIDEO_FRAME * segment.frames
        + sound
        + TS_BYTES_PER_SEGMENT
    )


def declared_bandwidth(
    segments: Sequence[Segment],
    target: int,
    rendition: Rendition,
    audio: AudioModel,
    container: str,
) -> DeclaredBandwidth:
    """BANDWIDTH and AVERAGE-BANDWIDTH for one variant of one presentation."""
    total_frames = segments[-1].end_frame
    sizes = [segment_bytes(s, total_frames, rendition, audio, container) for s in segments]
    peak, average = rfc_peak_and_average([s.duration for s in segments], [math.ceil(b) for b in sizes], target)
    margin = float(DECLARED_MARGIN)
    return DeclaredBandwidth(math.ceil(peak * margin), math.ceil(average * margin))
