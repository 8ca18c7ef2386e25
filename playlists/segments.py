"""Frame-exact segment cut points, computed once per timeline.

Rules (see docs in README): every block boundary starts a segment; a block of
F frames is split into n = max(1, round_half_up(F / target)) segments whose
frame counts differ by at most one, so there is never a runt tail segment.
The one exception is the startup segment: the presentation opens with a
two-second segment, so a player can start after rendering 60 frames instead
of a whole first block (it was one second until VLC showed that too short:
see STARTUP_SEGMENT_SECONDS).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from playlists.timeline import Timeline

STARTUP_SEGMENT_SECONDS = 2
"""Length of segment 0 when the first block is longer (players start as soon as it arrives).

Segment 0 must last longer than VLC's default input buffering (`network-caching`,
1000 ms of PCR): VLC 3's adaptive logic starts on the lowest variant and switches
up after segment 0, and with a one-second segment 0 its MPEG-TS input was still
buffering when the new rendition's video decoder replaced the old one, so it logged
`main decoder error: buffer deadlock prevented` (the ffmpeg CLI's own ladder did the
same with `-hls_init_time 1`, and nothing at 2 s; docs/interop.md). Two seconds is
the shortest whole number of seconds that fills that buffer with room to spare.
"""


@dataclass(frozen=True)
class Segment:
    index: int
    start_frame: int
    frames: int
    fps: int

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.frames

    @property
    def duration(self) -> Fraction:
        return Fraction(self.frames, self.fps)

    @property
    def start_time(self) -> Fraction:
        return Fraction(self.start_frame, self.fps)


def round_half_up(value: Fraction) -> int:
    """Round like the HLS spec does (Python's round() is half-to-even)."""
    return math.floor(value + Fraction(1, 2))


def split_frames(frames: int, parts: int) -> list[int]:
    """`parts` near-equal frame counts summing to `frames`, longer ones first."""
    base, extra = divmod(frames, parts)
    return [base + 1 if i < extra else base for i in range(parts)]


def cut_segments(timeline: Timeline, target_seconds: Fraction | float) -> tuple[Segment, ...]:
    target_frames = Fraction(target_seconds) * timeline.fps
    segments: list[Segment] = []
    startup_frames = STARTUP_SEGMENT_SECONDS * timeline.fps
    for block in timeline.blocks:
        start, frames_left = block.start_frame, block.frames
        if not segments and frames_left > startup_frames:
            segments.append(Segment(0, start, startup_frames, timeline.fps))
            start, frames_left = start + startup_frames, frames_left - startup_frames
        parts = max(1, round_half_up(Fraction(frames_left) / target_frames))
        for frames in split_frames(frames_left, parts):
            segments.append(Segment(len(segments), start, frames, timeline.fps))
            start += frames
    return tuple(segments)


def target_duration(segments: tuple[Segment, ...]) -> int:
    """EXT-X-TARGETDURATION: the longest segment rounded half-up (RFC 8216 4.3.3.1)."""
    return max(round_half_up(segment.duration) for segment in segments)
