"""Rule 18's two boundary tests on simulated streams: one continuous AAC encode versus per-segment encodes.

The per-segment encodes are the two defects the interop notes describe: each segment encoded alone with
its priming frame kept (a gap of a frame at every boundary) or dropped (the decoder overlaps unrelated
frames: a click).
"""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from tests.interop.audio_continuity import boundary_discontinuities, boundary_errors_against_reference

RATE = 48_000
AAC_FRAME = 1024
SEGMENT_FRAMES = 96  # 2.048 s
SECONDS = 8
FADE = 240


def source(start: int, count: int) -> np.ndarray:
    """Quiet two-note 'music' and a 5 ms-faded 880 Hz cue in the first 0.2 s of every second."""
    t = np.arange(start, start + count) / RATE
    music = 0.1 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t)) + 0.05 * np.sin(2 * np.pi * 330 * t + 1)
    local = t % 1.0
    ramp = np.clip(np.minimum(local, 0.2 - local) * RATE / FADE, 0, 1)
    cue = np.where(local < 0.2, 0.5 * np.sin(2 * np.pi * 880 * t) * (0.5 - 0.5 * np.cos(np.pi * ramp)), 0.0)
    return music + cue


def encoded_frames(samples: np.ndarray) -> list[bytes]:
    """ADTS frames of one AAC-LC encode (the encoder's priming frame first)."""
    out = io.BytesIO()
    with av.open(out, "w", format="adts") as container:
        stream = container.add_stream("aac", rate=RATE, layout="stereo")
        stream.bit_rate = 128_000
        for first in range(0, len(samples) - AAC_FRAME + 1, AAC_FRAME):
            chunk = np.repeat(samples[None, first : first + AAC_FRAME], 2, axis=0).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
            frame.sample_rate, frame.pts = RATE, first
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    data, frames, position = out.getvalue(), [], 0
    while position < len(data):
        length = ((data[position + 3] & 0x03) << 11) | (data[position + 4] << 3) | (data[position + 5] >> 5)
        frames.append(data[position : position + length])
        position += length
    return frames


def decoded(frames: list[bytes]) -> np.ndarray:
    """First channel, one decoder over all frames, the first (priming) frame's output dropped."""
    with av.open(io.BytesIO(b"".join(frames)), format="aac") as container:
        samples = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)]).astype(np.float64)
    return samples[AAC_FRAME:]


@pytest.fixture(scope="module")
def streams() -> dict[str, tuple[np.ndarray, list[int]]]:
    """name -> (decoded samples from global sample 0, boundaries as decoded indices)."""
    total = SECONDS * RATE // AAC_FRAME * AAC_FRAME
    signal = source(0, total)
    boundaries = list(range(SEGMENT_FRAMES * AAC_FRAME, total, SEGMENT_FRAMES * AAC_FRAME))
    pieces = [encoded_frames(signal[a:b]) for a, b in zip([0, *boundaries], [*boundaries, total])]
    primed = decoded([frame for piece in pieces for frame in piece])
    # each piece after the first keeps its priming frame: decoded boundary k sits k frames later
    primed_boundaries = [b + AAC_FRAME * k for k, b in enumerate(boundaries, 1)]
    return {
        "continuous": (decoded(encoded_frames(signal)), boundaries),
        "priming dropped": (decoded([f for k, piece in enumerate(pieces) for f in (piece[1:] if k else piece)]), boundaries),
        "priming kept": (primed, primed_boundaries),
    }


def test_a_continuous_encode_passes_the_residual_test(streams):
    samples, boundaries = streams["continuous"]
    problems, measured = boundary_discontinuities(samples, boundaries)
    assert problems == [], measured


@pytest.mark.parametrize("defect", ["priming dropped", "priming kept"])
def test_per_segment_encodes_fail_the_residual_test_at_every_boundary(streams, defect):
    samples, boundaries = streams[defect]
    problems, measured = boundary_discontinuities(samples, boundaries)
    assert len(problems) == len(boundaries), measured


def test_the_reference_comparison_passes_a_continuous_encode_and_fails_a_click(streams):
    samples, boundaries = streams["continuous"]
    problems, measured = boundary_errors_against_reference(samples, 0, boundaries, source)
    assert problems == [], measured
    clicked = samples.copy()
    clicked[boundaries[2] : boundaries[2] + 64] += 0.3
    problems, _ = boundary_errors_against_reference(clicked, 0, boundaries, source)
    assert len(problems) == 1 and f"sample {boundaries[2]}" in problems[0]
