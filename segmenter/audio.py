"""The cue track: synthesised on the global sample grid and encoded gaplessly.

Samples are a pure function of their global index, so a tone that spans a
segment boundary is the same wave on both sides, and looped music is indexed
modulo its length. Each segment encodes its own AAC frames plus pre- and
post-roll and keeps only the packets it owns; a player decoding the segments
one after another then hears one continuous encode.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np

from playlists.cues import Cue
from playlists.media import AAC_FRAME_SIZE, AUDIO_CHANNELS, AUDIO_SAMPLE_RATE
from segmenter.spec import SegmentSpec

AUDIO_TIME_BASE = Fraction(1, AUDIO_SAMPLE_RATE)
CUE_AMPLITUDE = 0.5
CUE_FADE_SAMPLES = 240
"""5 ms raised-cosine fade at each end, so a tone never clicks."""
MUSIC_GAIN = 0.25
"""Music sits well under the cues (about -12 dB)."""


def synthesize(
    first_sample: int, count: int, cues: tuple[Cue, ...], music: np.ndarray | None = None
) -> np.ndarray:
    """Planar float32 samples, shape (channels, count), for global samples [first, first+count).

    Nothing sounds before sample 0 (the pre-roll of the first segment).
    """
    indices = np.arange(first_sample, first_sample + count)
    mono = np.zeros(count, dtype=np.float64)
    for cue in cues:
        local = indices - cue.start_sample
        inside = (local >= 0) & (local < cue.length_samples)
        if not inside.any():
            continue
        t = local[inside]
        wave = np.sin(2 * np.pi * cue.frequency * t / AUDIO_SAMPLE_RATE)
        ramp = np.minimum(1.0, np.minimum(t, cue.length_samples - 1 - t) / CUE_FADE_SAMPLES)
        mono[inside] += CUE_AMPLITUDE * wave * (0.5 - 0.5 * np.cos(np.pi * ramp))
    samples = np.repeat(mono[np.newaxis, :], AUDIO_CHANNELS, axis=0)
    if music is not None:
        samples += MUSIC_GAIN * music[:, indices % music.shape[1]]
    samples[:, indices < 0] = 0.0
    return samples.astype(np.float32)


def audio_frames(spec: SegmentSpec, music: np.ndarray | None = None) -> Iterator[av.AudioFrame]:
    """Every AAC frame the encoder is fed for this segment, pre- and post-roll included."""
    for j in spec.encoded_audio_frames:
        first = j * AAC_FRAME_SIZE
        frame = av.AudioFrame.from_ndarray(
            synthesize(first, AAC_FRAME_SIZE, spec.cues, music), format="fltp", layout="stereo"
        )
        frame.sample_rate = AUDIO_SAMPLE_RATE
        frame.pts = first
        frame.time_base = AUDIO_TIME_BASE
        yield frame


def owns_packet(spec: SegmentSpec, packet: av.Packet) -> bool:
    """True for the packets of the AAC frames this segment owns (pts on the global grid)."""
    if packet.pts is None:
        return False
    return spec.audio_first_frame * AAC_FRAME_SIZE <= packet.pts < spec.audio_end_frame * AAC_FRAME_SIZE
