"""Uploaded exercise clips: receive the body within a byte limit, then check it before it is stored.

A clip is refused as early and as cheaply as possible: the body stops being
written the moment it passes the byte limit, and a clip's length is judged
from its container header first, so a two-hour file is refused without
reading its packets, let alone decoding them. Only a clip that passes every
check reaches clip storage. The refusal carries the HTTP status the API
answers with, so the API does not have to re-derive it.
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from fractions import Fraction
from http import HTTPStatus
from pathlib import Path

import av
import av.error

from assets.probe import has_alpha

TOO_LARGE = HTTPStatus.REQUEST_ENTITY_TOO_LARGE.value
NOT_A_VIDEO = HTTPStatus.UNSUPPORTED_MEDIA_TYPE.value
OUT_OF_RANGE = HTTPStatus.UNPROCESSABLE_ENTITY.value

ACCEPTED_FORMATS = ("mov", "matroska")
"""Demuxers an upload may be opened with: MP4/MOV (cameras, phones, ProRes) and Matroska/WebM (browsers).
Naming them stops libavformat from probing an upload as something that reads other files or URLs
(an HLS playlist, a concat list)."""

HEADER_DURATION_SLACK_SECONDS = 1.0
"""The header check only refuses clips clearly too long; the exact check is frames / fps, so a clip
whose header rounds its duration up a little is not refused by the header alone."""

UPLOAD_PREFIX = "upload-"
UPLOAD_SUFFIX = ".part"


class ClipRejected(ValueError):
    """An upload that is not accepted as an exercise clip, with the HTTP status to answer."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int = 500 * 2**20
    min_seconds: float = 1
    max_seconds: float = 60
    max_width: int = 3840
    max_height: int = 2160
    min_fps: float = 15
    max_fps: float = 60

    def __post_init__(self) -> None:
        if self.max_bytes <= 0 or not 0 < self.min_seconds <= self.max_seconds or not 0 < self.min_fps <= self.max_fps:
            raise ValueError(f"inconsistent upload limits: {self}")
        if self.max_width <= 0 or self.max_height <= 0:
            raise ValueError(f"inconsistent upload limits: {self}")


@dataclass(frozen=True)
class ClipProbe:
    fps: Fraction
    frames: int
    width: int
    height: int
    alpha: bool
    codec: str
    """Decoder name, e.g. "h264" or "prores"."""
    duration_seconds: float
    """frames / fps: the length of one loop, as the catalogue records it."""
    size_bytes: int


async def receive_upload(chunks: AsyncIterator[bytes], directory: Path, max_bytes: int) -> Path:
    """Stream a request body into a new file in `directory`, chunk by chunk.

    Raises ClipRejected(413) as soon as more than `max_bytes` arrived, so an oversized body is
    never stored whole. The partial file is removed on any failure, including a client that
    disconnects. Writes run in a worker thread so the event loop never waits on the disk.
    """
    directory.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=UPLOAD_PREFIX, suffix=UPLOAD_SUFFIX, dir=directory)
    path = Path(name)
    received = 0
    try:
        with os.fdopen(descriptor, "wb") as file:
            async for chunk in chunks:
                received += len(chunk)
                if received > max_bytes:
                    raise ClipRejected(f"upload is larger than the limit of {max_bytes} bytes", TOO_LARGE)
                if chunk:
                    await asyncio.to_thread(file.write, chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _open_container(path: Path) -> av.container.InputContainer:
    for format_name in ACCEPTED_FORMATS:
        try:
            return av.open(str(path), format=format_name)
        except av.error.InvalidDataError:
            continue
        except (av.error.FFmpegError, OSError) as error:
            raise ClipRejected(f"cannot read the upload as a video file: {error}", NOT_A_VIDEO) from error
    raise ClipRejected("not a video file (MP4, MOV, Matroska or WebM expected)", NOT_A_VIDEO)


def _header_seconds(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    """The duration the header declares, without reading packets; None when it declares none."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _first_frame_and_count(
    container: av.container.InputContainer, stream: av.VideoStream, header_frames: int, max_frames: int
) -> tuple[av.VideoFrame, int]:
    """Decode the first frame (the stream must really decode) and, when the header has no frame count,
    count the stream's packets without decoding them; stop as soon as the count passes `max_frames`."""
    first: av.VideoFrame | None = None
    packets = 0
    try:
        for packet in container.demux(stream):
            if packet.size:
                packets += 1
            if first is None:
                first = next(iter(packet.decode()), None)
            if packets > max_frames or (first is not None and header_frames):
                break
    except av.error.FFmpegError as error:
        raise ClipRejected(f"the video stream cannot be decoded: {error}", NOT_A_VIDEO) from error
    if first is None:
        raise ClipRejected("the video stream has no decodable frames", NOT_A_VIDEO)
    return first, header_frames or packets


def validate_clip(path: Path, limits: UploadLimits = UploadLimits()) -> ClipProbe:
    """Describe `path` if it is an acceptable exercise clip; raise ClipRejected saying why if not.

    Checks, cheapest first: file size (413); a known container with a video stream that decodes (415);
    frame size, frame rate, then the header's duration (422); then the frame count, from the header or
    by counting packets, and the exact loop length frames / fps (422).
    """
    size_bytes = path.stat().st_size
    if size_bytes > limits.max_bytes:
        raise ClipRejected(f"clip is {size_bytes} bytes; the limit is {limits.max_bytes}", TOO_LARGE)
    with _open_container(path) as container:
        if not container.streams.video:
            raise ClipRejected("the file has no video stream", NOT_A_VIDEO)
        stream = container.streams.video[0]
        if stream.codec_context is None or not stream.codec_context.width or not stream.codec_context.height:
            raise ClipRejected("the video stream has no decoder or no frame size", NOT_A_VIDEO)
        width, height = stream.codec_context.width, stream.codec_context.height
        if width > limits.max_width or height > limits.max_height:
            raise ClipRejected(
                f"frame size {width}x{height} exceeds {limits.max_width}x{limits.max_height}", OUT_OF_RANGE
            )
        rate = stream.average_rate or stream.guessed_rate
        if not rate:
            raise ClipRejected("the video stream declares no frame rate", OUT_OF_RANGE)
        fps = Fraction(rate.numerator, rate.denominator)
        if not limits.min_fps <= fps <= limits.max_fps:
            raise ClipRejected(
                f"frame rate {float(fps):.3g} fps is outside {limits.min_fps}..{limits.max_fps}", OUT_OF_RANGE
            )
        header_seconds = _header_seconds(container, stream)
        if header_seconds is not None and header_seconds > limits.max_seconds + HEADER_DURATION_SLACK_SECONDS:
            raise ClipRejected(f"clip lasts {header_seconds:.1f} s; the limit is {limits.max_seconds} s", OUT_OF_RANGE)
        max_frames = math.floor(limits.max_seconds * fps)
        first, frames = _first_frame_and_count(container, stream, max(stream.frames, 0), max_frames)
    if frames > max_frames:
        raise ClipRejected(f"clip lasts more than {limits.max_seconds} s at {fps} fps", OUT_OF_RANGE)
    duration_seconds = float(frames / fps)
    if duration_seconds < limits.min_seconds:
        raise ClipRejected(
            f"clip lasts {duration_seconds:.2f} s ({frames} frames at {fps} fps); the minimum is {limits.min_seconds} s",
            OUT_OF_RANGE,
        )
    return ClipProbe(
        fps=fps,
        frames=frames,
        width=width,
        height=height,
        alpha=has_alpha(first.format.name),
        codec=stream.codec_context.name,
        duration_seconds=duration_seconds,
        size_bytes=size_bytes,
    )
