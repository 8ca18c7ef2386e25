"""The pictures of a segment, and the H.264 settings every segment shares.

All segments of a rendition are encoded with identical settings, each by a
fresh encoder that starts with an IDR frame and makes no other keyframe, so
every segment is independently decodable and the decode delay never changes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from fractions import Fraction

import av
import numpy as np
from av.video.frame import PictureType

from playlists.renditions import Rendition
from playlists.timeline import BlockKind
from segmenter.frame_store import FrameStore
from segmenter.frames import pack_yuv420p, unpack_yuv420p
from segmenter.overlays import draw_into, layout, overlay_state
from segmenter.sampling import source_frame_index
from segmenter.spec import FrameRun, SegmentSpec

PIXEL_FORMAT = "yuv420p"
ENCODER_THREADS = 1
"""One x264 thread per segment encode; the render pool runs segments side by side instead.

Measured on the 2-core machine (720p, 120 frames): 1 thread spends 0.21 s of
CPU, 3 frame threads 0.24 s, so whole-machine throughput is best with one
thread per encoder and one encoder per core. With one thread the encoder's
output also cannot depend on the thread count, and the drawing and audio
threads of a render get the other core instead of stealing from the encoder
(`bench/run.py`, pipeline efficiency). A lone segment takes longer in wall time
(about 0.26 s instead of 0.17 s), which the look-ahead pool hides.
"""
NO_KEYFRAME_INTERVAL = 100_000
"""GOP length larger than any segment: the first frame is the only IDR."""


def x264_options(rendition: Rendition) -> dict[str, str]:
    """Encoder options, identical for every segment of a rendition (interop rules 10 and 13)."""
    params = ":".join(
        [
            f"keyint={NO_KEYFRAME_INTERVAL}",
            f"min-keyint={NO_KEYFRAME_INTERVAL}",
            "scenecut=0",
            "bframes=0",
            "open-gop=0",
            # constant rate with filler: every segment carries the declared bit rate (playlists.renditions)
            "nal-hrd=cbr",
            # the pictures are BT.709 (segmenter.frames.OUTPUT_COLORSPACE); say so in the VUI
            "colorprim=bt709",
            "transfer=bt709",
            "colormatrix=bt709",
        ]
    )
    return {
        "preset": rendition.preset,
        "b": str(rendition.video_bitrate),
        "maxrate": str(rendition.video_bitrate),
        "bufsize": str(rendition.video_bufsize),
        "level": rendition.h264_level,
        "x264-params": params,
    }


def configure_video_stream(stream: av.video.stream.VideoStream, rendition: Rendition, fps: int) -> None:
    stream.width = rendition.width
    stream.height = rendition.height
    stream.pix_fmt = PIXEL_FORMAT
    stream.time_base = Fraction(1, fps)
    stream.codec_context.time_base = Fraction(1, fps)
    stream.codec_context.framerate = Fraction(fps)
    stream.codec_context.thread_count = ENCODER_THREADS
    stream.bit_rate = rendition.video_bitrate
    stream.options = x264_options(rendition)


def source_pictures(spec: SegmentSpec, library: FrameStore) -> Iterator[tuple[FrameRun, int, np.ndarray]]:
    """(run, output frame, shared picture under the overlay) for every frame of the segment.

    Work shows the sampled clip frame; intro and rest a dimmed still of the
    exercise coming next; the closing card the plain backdrop.
    """
    for run in spec.runs:
        frames = range(run.first_frame, run.first_frame + run.frames)
        if run.clip is None:
            backdrop = library.background(spec.rendition)
            for frame in frames:
                yield run, frame, backdrop
            continue
        clip_frames = library.clip_frames(run.clip, spec.rendition)
        for frame in frames:
            if run.kind is BlockKind.WORK:
                offset = run.offset_in_block + frame - run.first_frame
                index = source_frame_index(offset, run.speed, run.clip.fps, run.clip.frames, spec.fps)
                yield run, frame, clip_frames.frames[index]
            else:
                yield run, frame, clip_frames.rest_still


def segment_pictures(spec: SegmentSpec, library: FrameStore) -> Iterator[np.ndarray]:
    """The encoder's input pictures as packed yuv420p arrays (for tests and benchmarks)."""
    for frame in video_frames(spec, library):
        yield pack_yuv420p(*frame_planes(frame))


def frame_planes(frame: av.VideoFrame) -> tuple[np.ndarray, ...]:
    """Writable views of a frame's Y, U and V planes (line padding cut off)."""
    return tuple(
        np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
        for plane in frame.planes
    )


class FramePool:
    """Encoder input frames, reused once the encoder is done with them.

    A fresh 720p frame costs about 0.8 ms in page faults on first write, more
    than drawing it; a segment only ever has a handful of frames in flight, so
    recycling them makes that cost vanish. `acquire` never blocks: it allocates
    when nothing is free, so a slow consumer cannot deadlock the producer.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._free: list[av.VideoFrame] = []
        self._lock = threading.Lock()
        self.allocated = 0

    def acquire(self) -> av.VideoFrame:
        with self._lock:
            frame = self._free.pop() if self._free else None
        if frame is None:
            self.allocated += 1
            return av.VideoFrame(self.width, self.height, PIXEL_FORMAT)
        frame.make_writable()  # a no-op unless FFmpeg still holds a reference, then a copy
        return frame

    def release(self, frame: av.VideoFrame) -> None:
        """Hand a frame back once `encode()` has returned for it."""
        with self._lock:
            self._free.append(frame)


def video_frames(spec: SegmentSpec, library: FrameStore, pool: FramePool | None = None) -> Iterator[av.VideoFrame]:
    """Encoder input frames, overlays drawn straight into the frames' own planes,
    stamped on the presentation's global frame clock.

    The source picture is shared by every segment, so it is copied into the
    frame before anything is drawn. Frames come from `pool` when one is given
    (the caller releases each after encoding it), else each is new.
    """
    time_base = Fraction(1, spec.fps)
    width, height = spec.rendition.width, spec.rendition.height
    for run, number, source in source_pictures(spec, library):
        frame = pool.acquire() if pool is not None else av.VideoFrame(width, height, PIXEL_FORMAT)
        planes = frame_planes(frame)
        for target, plane in zip(planes, unpack_yuv420p(source), strict=True):
            target[...] = plane
        draw_into(planes, layout(overlay_state(spec, run, number), width, height))
        frame.pts = number
        frame.time_base = time_base
        frame.pict_type = PictureType.NONE
        yield frame
