"""Media facts shared by the timeline and the renderer.

Everything about time in this project is counted in whole output frames or
whole AAC frames; these constants are the only place the rates are written.
"""

from __future__ import annotations

OUTPUT_FPS = 30
"""Frame rate of every rendition; the timeline is counted in frames of this rate."""

VIDEO_CLOCK = 90_000
"""MPEG-TS presentation clock (Hz)."""

AUDIO_SAMPLE_RATE = 48_000
AUDIO_CHANNELS = 2
AAC_FRAME_SIZE = 1024
"""Samples per AAC-LC frame: audio is cut on a global grid of these."""

SAMPLES_PER_VIDEO_FRAME = AUDIO_SAMPLE_RATE // OUTPUT_FPS  # 1600

TS_PACKET_SIZE = 188
TS_HEADER_SIZE = 4
"""MPEG-TS packets: the muxer's output (segmenter.transport) and the bandwidth model both count them."""

DEFAULT_SEGMENT_SECONDS = 4
MIN_SEGMENT_SECONDS = 2
MAX_SEGMENT_SECONDS = 6


def owned_aac_frames(start_frame: int, end_frame: int, total_frames: int) -> tuple[int, int]:
    """The AAC frames [first, end) on the global grid that the segment of video frames
    [start_frame, end_frame) carries.

    Each segment starts with the AAC frame that is playing when its video starts
    (at or up to one AAC frame before it), so a player that starts or seeks at a
    segment boundary finds audio buffered from that instant, with no hole. The
    last segment also takes the frame that straddles the end, so the audio lasts
    at least as long as the video. Every AAC frame belongs to exactly one segment.
    """
    first = start_frame * SAMPLES_PER_VIDEO_FRAME // AAC_FRAME_SIZE
    end_samples = end_frame * SAMPLES_PER_VIDEO_FRAME
    if end_frame >= total_frames:
        return first, -(-end_samples // AAC_FRAME_SIZE)
    return first, end_samples // AAC_FRAME_SIZE
