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

DEFAULT_SEGMENT_SECONDS = 4
MIN_SEGMENT_SECONDS = 2
MAX_SEGMENT_SECONDS = 6


def aac_frame_at_or_after_video_frame(frame: int) -> int:
    """Index of the first AAC frame that starts at or after video frame `frame`.

    Segment k owns AAC frames [first(f0), first(f1)) where [f0, f1) are its video
    frames, so every AAC frame belongs to exactly one segment and the audio of a
    segment starts less than one AAC frame after its video.
    """
    samples = frame * SAMPLES_PER_VIDEO_FRAME
    return -(-samples // AAC_FRAME_SIZE)
