"""Background music tracks, decoded once into 48 kHz stereo float samples."""

from __future__ import annotations

import functools

import av
import numpy as np

from playlists.media import AUDIO_SAMPLE_RATE
from segmenter.spec import MusicRef


class MusicDecodeError(RuntimeError):
    """A music track could not be decoded."""


@functools.lru_cache(maxsize=8)
def _decode(path: str, version: str) -> np.ndarray:
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_SAMPLE_RATE)
    chunks = []
    try:
        with av.open(path) as container:
            for frame in container.decode(audio=0):
                chunks.extend(f.to_ndarray() for f in resampler.resample(frame))
            chunks.extend(f.to_ndarray() for f in resampler.resample(None))
    except (av.FFmpegError, IndexError) as error:
        raise MusicDecodeError(f"cannot decode music {path}: {error}") from error
    if not chunks:
        raise MusicDecodeError(f"music {path} has no audio")
    samples = np.concatenate(chunks, axis=1)
    samples.flags.writeable = False
    return samples


def music_samples(music: MusicRef | None) -> np.ndarray | None:
    """(2, n) float32 samples of the track, or None for no music."""
    if music is None:
        return None
    return _decode(music.path, music.version)
