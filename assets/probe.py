"""What a clip file really holds, read with PyAV: size, rate, frame count, alpha, codec.

The catalogue is built from probed facts rather than from what the generator
meant to write, so a clip replaced by hand is described correctly. Frames are
counted by decoding: container frame counts are missing or estimated in some
formats, and a loop's length must be exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.error


class ClipProbeError(ValueError):
    """The file cannot be opened as a video clip, or has no video stream."""


@dataclass(frozen=True)
class ClipInfo:
    width: int
    height: int
    fps: Fraction
    frames: int
    duration_seconds: float
    """frames / fps: the length of one loop."""
    alpha: bool
    codec: str
    """Decoder name, e.g. "h264" or "prores"."""
    pix_fmt: str
    """Pixel format of the decoded frames, e.g. "yuv420p" or "yuva444p10le"."""


def has_alpha(pix_fmt: str) -> bool:
    """Whether frames of this pixel format carry an alpha channel."""
    return any(component.is_alpha for component in av.VideoFormat(pix_fmt).components)


def check_clip(path: Path) -> None:
    """The cheap check run on every catalogue clip when the catalogue is loaded: the file opens as a
    container with a video stream whose first frame decodes (milliseconds, unlike a full probe).
    Damage further into a file is found when a render decodes it (503 clip_unavailable)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ClipProbeError(f"{path} has no video stream")
            for _ in container.decode(video=0):
                return
    except (av.error.FFmpegError, OSError) as error:
        raise ClipProbeError(f"cannot read {path} as a video clip: {error}") from error
    raise ClipProbeError(f"{path} has no decodable video frame")


def probe_clip(path: Path) -> ClipInfo:
    """Open, decode and describe the first video stream of `path`."""
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as error:
        raise ClipProbeError(f"cannot open {path} as a video clip: {error}") from error
    with container:
        if not container.streams.video:
            raise ClipProbeError(f"{path} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise ClipProbeError(f"{path} has no frame rate")
        frames = 0
        pix_fmt = ""
        width = height = 0
        try:
            for frame in container.decode(stream):
                if not frames:
                    pix_fmt, width, height = frame.format.name, frame.width, frame.height
                frames += 1
        except av.error.FFmpegError as error:
            raise ClipProbeError(f"cannot decode {path}: {error}") from error
        if not frames:
            raise ClipProbeError(f"{path} has a video stream without decodable frames")
        fps = Fraction(rate.numerator, rate.denominator)
        return ClipInfo(
            width=width,
            height=height,
            fps=fps,
            frames=frames,
            duration_seconds=float(frames / fps),
            alpha=has_alpha(pix_fmt),
            codec=stream.codec_context.name,
            pix_fmt=pix_fmt,
        )
