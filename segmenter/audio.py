"""The cue track: synthesised on the global sample grid and encoded gaplessly.

Samples are a pure function of their global index, so a beep that spans a
segment boundary is the same wave on both sides. Each segment encodes its own
AAC frames plus pre- and post-roll and keeps only the packets it owns; a player
decoding the segments one after another then hears one continuous encode.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np

from playlists.media import AAC_FRAME_SIZE, AUDIO_CHANNELS, AUDIO_SAMPLE_RATE
from segmenter.spec import Cue, SegmentSpec

AUDIO_TIME_BASE = Fraction(1, AUDIO_SAMPLE_RATE)
BEEP_HZ = 880.0
BEEP_AMPLITUDE = 0.5
BEEP_FADE_SAMPLES = 240
"""5 ms raised-cosine fade at each end, so a beep never clicks."""


def synthesize(first_sample: int, count: int, cues: tuple[Cue, ...]) -> np.ndarray:
    """Planar float32 samples, shape (channels, count), for global samples [first, first+count)."""
    mono = np.zeros(count, dtype=np.float64)
    indices = np.arange(first_sample, first_sample + count)
    for cue in cues:
        local = indices - cue.start_sample
        inside = (local >= 0) & (local < cue.length_samples)
        if not inside.any():
            continue
        t = local[inside]
        wave = np.sin(2 * np.pi * BEEP_HZ * t / AUDIO_SAMPLE_RATE)
        ramp = np.minimum(1.0, np.minimum(t, cue.length_samples - 1 - t) / BEEP_FADE_SAMPLES)
        envelope = 0.5 - 0.5 * np.cos(np.pi * ramp)
        mono[inside] += BEEP_AMPLITUDE * wave * envelope
    return np.repeat(mono[np.newaxis, :].astype(np.float32), AUDIO_CHANNELS, axis=0)


def audio_frames(spec: SegmentSpec) -> Iterator[av.AudioFrame]:
    """Every AAC frame the encoder is fed for this segment, pre- and post-roll included."""
    for j in spec.encoded_audio_frames:
        first = j * AAC_FRAME_SIZE
        samples = synthesize(first, AAC_FRAME_SIZE, spec.cues)
        if first < 0:
            samples[:] = 0  # nothing sounds before the workout starts
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_SAMPLE_RATE
        frame.pts = first
        frame.time_base = AUDIO_TIME_BASE
        yield frame


def owns_packet(spec: SegmentSpec, packet: av.Packet) -> bool:
    """True for the packets of the AAC frames this segment owns (pts on the global grid)."""
    if packet.pts is None:
        return False
    return spec.audio_first_frame * AAC_FRAME_SIZE <= packet.pts < spec.audio_end_frame * AAC_FRAME_SIZE
