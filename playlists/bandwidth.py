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
- **The container** adds a fixed amount per segment and per frame: fMP4 `moof` sample entries; in
  MPEG-TS packet headers, PES headers, the stuffing that ends each PES, one PAT and one PMT, and the
  continuity padding (`segmenter.transport`) that rounds each elementary stream up to a multiple of 16
  packets. The muxer packs up to 17 AAC frames (0.35 s) into one audio PES, so silence costs a packet or
  two per PES instead of a packet per 21 ms frame.

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
TS_PSI_PACKETS = 2
"""The PAT and the PMT, once per segment (their counters follow the segment's index)."""
CONTINUITY_BLOCK = 16
"""Each elementary stream's packets are padded to a multiple of this (`segmenter.transport`)."""
PACKET_COUNT_SPREAD = Fraction(3, 100)
PACKET_COUNT_MIN_SPREAD = 2
"""How far a stream's real packet count strays from its prediction (3 %, at least 2 packets): the
padding is predicted as the mean over that range, so a count near a multiple of 16 is not forced to
either side, and a large stream pays the average 7.5 packets."""
PES_HEADER_BYTES = 14
"""A PES header with a PTS only (no B-frames, so no DTS)."""
ACCESS_UNIT_DELIMITER_BYTES = 6
"""The muxer puts one before every H.264 frame."""
PCR_BYTES_PER_VIDEO_FRAME = 3
"""An 8-byte adaptation field carrying the PCR about every 100 ms (every third frame at 30 fps)."""
MEAN_PES_END_STUFFING = TS_PAYLOAD_BYTES / 2
"""Where frames vary in size by more than a packet, where a PES ends in its last packet is as good as
uniform, and half a packet is stuffed on average."""


def steady_frame_stuffing(rendition: Rendition, fps: int) -> int:
    """Stuffing after each frame once CBR filler holds frames at the bit rate's share (about a second
    after the IDR drained the encoder's buffer): the same every frame, set by that size modulo 184
    (176 bytes at 720p, 140 at the baseline)."""
    frame = round(rendition.video_bitrate / fps / 8) + ACCESS_UNIT_DELIMITER_BYTES + PES_HEADER_BYTES
    return -frame % TS_PAYLOAD_BYTES


def ts_video_overhead_bytes(rendition: Rendition, frames: int, fps: int) -> float:
    """What MPEG-TS adds to a segment's video besides packet headers: PES headers, delimiters and PCRs
    on every frame, and the stuffing that ends each frame's PES: half a packet on average over the
    first second, while frames after the IDR vary in size, then the steady amount (measured: 75-105
    bytes a frame in one-second baseline segments, 125-130 in four-second ones, 150-170 at 720p)."""
    varying = min(frames, fps)
    per_frame = PES_HEADER_BYTES + ACCESS_UNIT_DELIMITER_BYTES + PCR_BYTES_PER_VIDEO_FRAME
    return (
        frames * per_frame
        + varying * MEAN_PES_END_STUFFING
        + (frames - varying) * steady_frame_stuffing(rendition, fps)
    )


AUDIO_FRAMES_PER_PES = 17
"""The muxer closes an audio PES before a frame 0.35 s after its first (`segmenter.render`)."""
AUDIO_PES_MAX_PAYLOAD = 2930
"""... or before a frame that would take it past this (FFmpeg's `pes_payload_size` default)."""
ADTS_HEADER_BYTES = 7
"""MPEG-TS carries AAC in ADTS frames; fMP4 carries the raw frames."""
FMP4_BYTES_PER_VIDEO_FRAME = 12
FMP4_BYTES_PER_AAC_FRAME = 8
"""`trun` entries: duration, size and flags per video sample; duration and size per audio sample."""
FMP4_BYTES_PER_SEGMENT = 256
"""`styp`, `moof`, `mfhd`, two `traf`s with `tfhd`, `tfdt` and `trun` headers, and the `mdat` header."""

SILENT_AAC_FRAME_BYTES = 6
"""What FFmpeg's AAC encoder writes for 1024 samples of digital silence (stereo, 48 kHz)."""
SOUNDING_AAC_RATE = Fraction(106, 100)
SOUNDING_AAC_EXTRA = 2_000
"""What the encoder spends on frames with sound, as a share of the target plus bits per second:
136-143 kbit/s for a 128 kbit/s target, 44-46 for 40, on music and on cue tones alike."""
MUSIC_ONSET_FRAMES = AUDIO_SAMPLE_RATE // AAC_FRAME_SIZE + 1
MUSIC_ONSET_EXTRA = 8_000
"""The first second of music costs the encoder more than the rest (bits per second; measured 5-9
kbit/s more at 40, 48 and 128 kbit/s): without it the one-second startup segment of a plan with
music, a run the peak counts at 2 s targets, came out above its declared rate."""

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
        rate = self.bitrate * SOUNDING_AAC_RATE + SOUNDING_AAC_EXTRA
        return float(rate * AAC_FRAME_SIZE / AUDIO_SAMPLE_RATE / 8)

    def onset_bytes(self, first: int, end: int) -> float:
        """What the music's first second adds to the AAC frames [first, end)."""
        if not self.music:
            return 0.0
        frames = max(0, min(end, MUSIC_ONSET_FRAMES) - first)
        return frames * MUSIC_ONSET_EXTRA * AAC_FRAME_SIZE / AUDIO_SAMPLE_RATE / 8

    def frame_bytes(self, frame: int) -> float:
        """Predicted size of global AAC frame `frame`."""
        size = self.sounding_frame_bytes if self.sounds(frame) else SILENT_AAC_FRAME_BYTES
        return size + self.onset_bytes(frame, frame + 1)

    def sounding_count(self, first: int, end: int) -> int:
        """How many of the global AAC frames [first, end) carry sound."""
        if self.music:
            return end - first
        return bisect.bisect_left(self.sounding, end) - bisect.bisect_left(self.sounding, first)

    def sounds(self, frame: int) -> bool:
        if self.music:
            return True
        at = bisect.bisect_left(self.sounding, frame)
        return at < len(self.sounding) and self.sounding[at] == frame


def ts_pes_packets(pes_bytes: float) -> float:
    """Packets one PES takes: it starts a packet, and its last one is stuffed (half of one on average)."""
    if pes_bytes <= TS_PAYLOAD_BYTES:
        return 1.0
    return pes_bytes / TS_PAYLOAD_BYTES + 0.5


def ts_audio_packets(audio: AudioModel, first: int, end: int) -> float:
    """Packets of the AAC frames [first, end) as the muxer packs them: ADTS frames gathered into PESs of
    at most AUDIO_FRAMES_PER_PES frames and AUDIO_PES_MAX_PAYLOAD bytes."""
    packets, payload, frames = 0.0, 0.0, 0
    for frame in range(first, end):
        size = audio.frame_bytes(frame) + ADTS_HEADER_BYTES
        if frames and (frames == AUDIO_FRAMES_PER_PES or payload + size > AUDIO_PES_MAX_PAYLOAD):
            packets += ts_pes_packets(payload + PES_HEADER_BYTES)
            payload, frames = 0.0, 0
        payload += size
        frames += 1
    return packets + (ts_pes_packets(payload + PES_HEADER_BYTES) if frames else 0.0)


def _ceil_block_integral(count: float) -> float:
    """Integral from 0 to `count` of the count rounded up to a whole CONTINUITY_BLOCK."""
    blocks = math.floor(count / CONTINUITY_BLOCK)
    whole = CONTINUITY_BLOCK * CONTINUITY_BLOCK * blocks * (blocks + 1) / 2
    return whole + CONTINUITY_BLOCK * (blocks + 1) * (count - CONTINUITY_BLOCK * blocks)


def padded_packets(predicted: float) -> float:
    """A stream's packets after continuity padding: its predicted count rounded up to a multiple of 16,
    averaged over the count's spread (PACKET_COUNT_SPREAD)."""
    spread = _spread(predicted)
    low, high = max(0.0, predicted - spread), predicted + spread
    return (_ceil_block_integral(high) - _ceil_block_integral(low)) / (high - low)


UNFILLED_VBV_SHARE = float(1 - VBV_INITIAL_FILL)


def video_payload_bytes(rendition: Rendition, frames: int, fps: int) -> float:
    """CBR with HRD filler: the rate over the segment, less what the encoder's buffer did not start with."""
    return (rendition.video_bitrate * frames / fps - UNFILLED_VBV_SHARE * rendition.video_bufsize) / 8


def _spread(predicted: float) -> float:
    return max(PACKET_COUNT_MIN_SPREAD, float(PACKET_COUNT_SPREAD) * predicted)


def ts_stream_packets(
    rendition: Rendition, frames: int, fps: int, audio: AudioModel, first: int, end: int
) -> tuple[float, float]:
    """Predicted MPEG-TS packets of a segment's video (`frames` frames) and audio (AAC frames [first,
    end)), before continuity padding."""
    video = video_payload_bytes(rendition, frames, fps) + ts_video_overhead_bytes(rendition, frames, fps)
    return video / TS_PAYLOAD_BYTES, ts_audio_packets(audio, first, end)


def ts_packet_targets(
    rendition: Rendition, frames: int, fps: int, audio: AudioModel, first: int, end: int
) -> tuple[int, int]:
    """Video and audio packet counts a `fixed_ts_sizes` rendition pads a segment to: each stream's
    prediction plus its spread, rounded up to a whole continuity step."""

    def whole_steps(packets: float) -> int:
        return CONTINUITY_BLOCK * math.ceil((packets + _spread(packets)) / CONTINUITY_BLOCK)

    video, sound = ts_stream_packets(rendition, frames, fps, audio, first, end)
    return whole_steps(video), whole_steps(sound)


def segment_bytes(
    segment: Segment, total_frames: int, rendition: Rendition, audio: AudioModel, container: str
) -> float:
    """Predicted size of one rendered segment in `container` ("ts" or "fmp4")."""
    first, end = owned_aac_frames(segment.start_frame, segment.end_frame, total_frames)
    if container == "fmp4":
        sounding = audio.sounding_count(first, end)
        silent = end - first - sounding
        video = video_payload_bytes(rendition, segment.frames, segment.fps)
        sound = sounding * audio.sounding_frame_bytes + silent * SILENT_AAC_FRAME_BYTES + audio.onset_bytes(first, end)
        return (
            video
            + sound
            + FMP4_BYTES_PER_SEGMENT
            + FMP4_BYTES_PER_VIDEO_FRAME * segment.frames
            + FMP4_BYTES_PER_AAC_FRAME * (end - first)
        )
    if rendition.fixed_ts_sizes:
        targets = ts_packet_targets(rendition, segment.frames, segment.fps, audio, first, end)
        return (TS_PSI_PACKETS + sum(targets)) * TS_PACKET_BYTES
    streams = ts_stream_packets(rendition, segment.frames, segment.fps, audio, first, end)
    return (TS_PSI_PACKETS + sum(padded_packets(packets) for packets in streams)) * TS_PACKET_BYTES


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
