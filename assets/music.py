"""A sample background music loop, synthesised, so plans can ask for music offline.

An 8-second, 120 bpm groove (kick, off-beat hats, bass and a chord pad over
four chords) written as 48 kHz stereo FLAC. Every note's tail is wrapped
around the end of the buffer, so the loop repeats without a seam.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 48_000
BPM = 120
BEATS = 16
LOOP_SAMPLES = BEATS * 60 * SAMPLE_RATE // BPM  # 8 s
CHORDS_HZ = ((110.0, 220.0, 261.63, 329.63), (87.31, 174.61, 220.0, 261.63),
             (130.81, 261.63, 329.63, 392.0), (98.0, 196.0, 246.94, 293.66))
"""A minor, F major, C major, G major: root (bass) then the pad's three notes."""
SEED = 2026

MUSIC_TRACKS = (
    {"id": "groove", "name": "Studio groove", "file": "groove.flac"},
)


def _add_wrapped(buffer: np.ndarray, start: int, sound: np.ndarray) -> None:
    """Add `sound` at `start`, wrapping what runs past the end to the beginning."""
    indices = (start + np.arange(sound.shape[-1])) % buffer.shape[-1]
    np.add.at(buffer, (slice(None), indices) if buffer.ndim == 2 else indices, sound)


def _decay(seconds: float, rate: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return t, np.exp(-t * rate)


def groove() -> np.ndarray:
    """(2, LOOP_SAMPLES) float32 in [-1, 1]."""
    rng = np.random.default_rng(SEED)
    beat = LOOP_SAMPLES // BEATS
    left, right = np.zeros(LOOP_SAMPLES), np.zeros(LOOP_SAMPLES)
    mono = np.zeros(LOOP_SAMPLES)
    t, env = _decay(0.35, 12)
    kick = np.sin(2 * np.pi * (50 + 80 * np.exp(-t * 30)) * t) * env
    t, env = _decay(0.06, 60)
    hat = rng.uniform(-1, 1, t.size) * env
    hat = np.diff(hat, prepend=0.0)  # brighter
    for b in range(BEATS):
        _add_wrapped(mono, b * beat, 0.8 * kick)
        _add_wrapped(left, b * beat + beat // 2, 0.18 * hat)
        _add_wrapped(right, b * beat + beat // 2 + 90, 0.14 * hat)
    for bar, (root, *pad) in enumerate(CHORDS_HZ):
        t, env = _decay(4 * beat / SAMPLE_RATE, 0.6)
        chord = sum(np.sin(2 * np.pi * f * t) for f in pad) / len(pad) * env * 0.22
        _add_wrapped(left, bar * 4 * beat, chord)
        _add_wrapped(right, bar * 4 * beat + 240, chord)
        for step in range(4):
            t, env = _decay(0.45, 5)
            bass = np.sign(np.sin(2 * np.pi * root / 2 * t)) * env * 0.12
            _add_wrapped(mono, (bar * 4 + step) * beat, bass)
    stereo = np.vstack([left + mono, right + mono])
    return (stereo / np.abs(stereo).max() * 0.9).astype(np.float32)


def write_track(samples: np.ndarray, path: Path) -> None:
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    try:
        with av.open(str(partial), "w", format="flac") as container:
            stream = container.add_stream("flac", rate=SAMPLE_RATE, layout="stereo")
            frame_size = 4096
            for start in range(0, samples.shape[1], frame_size):
                chunk = np.ascontiguousarray((samples[:, start : start + frame_size] * 32767).astype(np.int16).T)
                frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="stereo")
                frame.sample_rate = SAMPLE_RATE
                frame.pts = start
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def generate_music(music_dir: Path) -> list[dict]:
    """Write the sample tracks (unless present) and return their catalogue entries."""
    music_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for track in MUSIC_TRACKS:
        path = music_dir / track["file"]
        if not path.is_file():
            write_track(groove(), path)
        entries.append({**track, "file": f"{music_dir.name}/{track['file']}", "loop_seconds": LOOP_SAMPLES / SAMPLE_RATE})
    return entries
