"""Decoded source frames, ready to encode: the expensive part of a cold segment.

Each clip is decoded once per rendition size, scaled, composited over the
background if it has alpha, and packed as yuv420p (`segmenter.frame_store`
keeps them on disk). A segment then only copies arrays into encoder frames.
"""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np
from av.video.reformatter import Colorspace

BACKGROUND_TOP_RGB = (28, 36, 58)
BACKGROUND_BOTTOM_RGB = (10, 12, 20)
REST_DIM = 0.45
"""How much of the next exercise's still shows through on the rest screen."""

YUV_BLACK_Y = 16
YUV_NEUTRAL_C = 128

OUTPUT_COLORSPACE = Colorspace.ITU709
"""Every rendition is HD-style BT.709 (and tagged so by the encoder)."""

HD_HEIGHT = 720
SWS_COLORSPACE_OF_AVCOL_SPC = {
    1: Colorspace.ITU709,  # AVCOL_SPC_BT709
    4: Colorspace.FCC,
    5: Colorspace.ITU601,  # BT470BG
    6: Colorspace.ITU601,  # SMPTE170M
    7: Colorspace.SMPTE240M,
    9: Colorspace.BT2020,  # BT2020_NCL
    10: Colorspace.BT2020,  # BT2020_CL
}


def source_colorspace(frame: av.VideoFrame) -> Colorspace:
    """The matrix a clip's YUV was made with: its tag, else what players assume (HD 709, SD 601)."""
    tagged = SWS_COLORSPACE_OF_AVCOL_SPC.get(int(frame.colorspace))
    if tagged is not None:
        return tagged
    return Colorspace.ITU709 if frame.height >= HD_HEIGHT else Colorspace.ITU601


def plane_array(plane: av.video.plane.VideoPlane) -> np.ndarray:
    """A plane's visible pixels as a 2-D uint8 array (line padding removed), copied."""
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, : plane.width].copy()


def pack_yuv420p(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Planes as one (h*3/2, w) array: the layout `VideoFrame.from_ndarray` takes for yuv420p."""
    height, width = y.shape
    return np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(height * 3 // 2, width)


def unpack_yuv420p(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    height = packed.shape[0] * 2 // 3
    width = packed.shape[1]
    flat = packed.ravel()
    y_size, c_size = height * width, (height // 2) * (width // 2)
    y = flat[:y_size].reshape(height, width)
    u = flat[y_size : y_size + c_size].reshape(height // 2, width // 2)
    v = flat[y_size + c_size :].reshape(height // 2, width // 2)
    return y, u, v


def make_background(width: int, height: int) -> np.ndarray:
    """A vertical gradient studio backdrop, packed yuv420p."""
    ramp = np.linspace(0.0, 1.0, height)[:, np.newaxis, np.newaxis]
    top = np.array(BACKGROUND_TOP_RGB, dtype=np.float64)
    bottom = np.array(BACKGROUND_BOTTOM_RGB, dtype=np.float64)
    rgb = (top + (bottom - top) * ramp).repeat(width, axis=1).round().astype(np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p", dst_colorspace=OUTPUT_COLORSPACE)
    return pack_yuv420p(*(plane_array(p) for p in frame.planes))


def blend(background: np.ndarray, source: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Straight-alpha 'over' of one plane, in integers."""
    bg = background.astype(np.int32)
    return (bg + ((source.astype(np.int32) - bg) * alpha.astype(np.int32) + 127) // 255).astype(np.uint8)


def composite_over(frame: av.VideoFrame, background: np.ndarray) -> np.ndarray:
    """A yuva420p frame over a packed yuv420p background."""
    y, u, v, a = (plane_array(p) for p in frame.planes)
    bg_y, bg_u, bg_v = unpack_yuv420p(background)
    a_chroma = a[::2, ::2]
    return pack_yuv420p(blend(bg_y, y, a), blend(bg_u, u, a_chroma), blend(bg_v, v, a_chroma))


def dimmed(packed: np.ndarray, keep: float) -> np.ndarray:
    """Fade a picture towards black, as the backdrop of the rest screen."""
    y, u, v = unpack_yuv420p(packed)
    y2 = (YUV_BLACK_Y + (y.astype(np.float32) - YUV_BLACK_Y) * keep).round()
    u2 = (YUV_NEUTRAL_C + (u.astype(np.float32) - YUV_NEUTRAL_C) * keep).round()
    v2 = (YUV_NEUTRAL_C + (v.astype(np.float32) - YUV_NEUTRAL_C) * keep).round()
    return pack_yuv420p(y2.astype(np.uint8), u2.astype(np.uint8), v2.astype(np.uint8))


class ClipDecodeError(RuntimeError):
    """A clip could not be decoded into the frames its catalogue entry promises (missing, garbage,
    truncated): the renderer stops rather than send a segment with missing pictures."""

    def __init__(self, exercise_id: str, detail: str) -> None:
        super().__init__(detail)
        self.exercise_id = exercise_id

    def __reduce__(self):  # travels from a render process to the server intact
        return (type(self), (self.exercise_id, str(self)))


def has_alpha(pixel_format: av.VideoFormat) -> bool:
    return any(component.is_alpha for component in pixel_format.components)


def decoded_pictures(
    path: str, width: int, height: int, background: np.ndarray, *, from_frame: int | None = None, fps=None
) -> Iterator:
    """A clip's frames one at a time, scaled to `width`x`height`, packed yuv420p in BT.709, alpha
    composited over `background`. With `from_frame` (and the clip's `fps`): (index, picture) pairs
    from the keyframe at or before that frame, the index read from each frame's timestamp."""
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        origin = stream.start_time or 0
        if from_frame:
            container.seek(origin + int(from_frame / fps / stream.time_base), stream=stream, backward=True)
        for number, decoded in enumerate(container.decode(stream)):
            alpha = has_alpha(decoded.format)
            scaled = decoded.reformat(
                width,
                height,
                format="yuva420p" if alpha else "yuv420p",
                src_colorspace=source_colorspace(decoded),
                dst_colorspace=OUTPUT_COLORSPACE,
            )
            picture = (
                composite_over(scaled, background) if alpha else pack_yuv420p(*(plane_array(p) for p in scaled.planes))
            )
            if from_frame is None:
                yield picture
            elif not from_frame:
                yield number, picture
            elif decoded.pts is None:
                yield None, picture  # no timestamp to place it by: the caller reads from the start
            else:
                yield round((decoded.pts - origin) * stream.time_base * fps), picture
