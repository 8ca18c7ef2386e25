"""The frame mark must be read back exactly after the scaling and H.264 coding the server applies."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import av
import numpy as np
import pytest
from av.video.frame import VideoFrame
from PIL import Image

from assets.framemark import (
    MARK_CELLS,
    MAX_INDEX,
    FrameMarkError,
    cell_size,
    draw_frame_mark,
    mark_box,
    read_frame_mark,
)

ALL_INDEXES = range(MAX_INDEX + 1)


def backdrop(width: int, height: int, seed: int = 1) -> Image.Image:
    """A busy mid-grey background with noise, so the reader cannot rely on a clean surround."""
    rng = np.random.default_rng(seed)
    gradient = np.linspace(60, 190, width, dtype=np.float32)[None, :, None]
    noise = rng.normal(0, 25, (height, width, 3)).astype(np.float32)
    return Image.fromarray(np.clip(gradient + noise, 0, 255).astype(np.uint8), "RGB")


def luma(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"))


def test_geometry_follows_the_spec() -> None:
    assert [cell_size(h) for h in (1080, 720, 360, 100)] == [40, 27, 13, 8]
    assert mark_box(1080) == (20, 20, 480, 40)
    img = Image.new("RGB", (1920, 1080), (128, 128, 128))
    draw_frame_mark(img, 0b1000000001)
    pixels = img.load()
    assert pixels[19, 20] == (128, 128, 128) and pixels[20, 19] == (128, 128, 128)
    assert pixels[20, 20] == pixels[59, 59] == (255, 255, 255)  # cell 0: white reference
    assert pixels[60, 20] == pixels[99, 59] == (0, 0, 0)  # cell 1: black reference
    assert pixels[100, 20] == (255, 255, 255)  # cell 2: most significant bit
    assert pixels[140, 20] == (0, 0, 0)
    assert pixels[460, 40] == (255, 255, 255)  # cell 11: least significant bit
    assert pixels[500, 40] == (128, 128, 128)
    assert pixels[40, 60] == (128, 128, 128)


def test_every_index_round_trips_at_native_size() -> None:
    img = backdrop(1920, 1080)
    for index in ALL_INDEXES:
        draw_frame_mark(img, index)
        assert read_frame_mark(luma(img)) == index


@pytest.mark.parametrize(
    ("source", "target"),
    [((1920, 1080), (1280, 720)), ((1920, 1080), (640, 360)), ((1280, 720), (640, 360)), ((1280, 720), (960, 540))],
)
@pytest.mark.parametrize("resample", [Image.Resampling.BILINEAR, Image.Resampling.BICUBIC])
def test_every_index_round_trips_after_scaling(
    source: tuple[int, int], target: tuple[int, int], resample: Image.Resampling
) -> None:
    # Only the top-left corner holding the strip is resampled (Pillow's `box` gives exactly
    # that part of the full-frame resize), which keeps 1024 resizes fast.
    scale = Fraction(target[1], source[1])
    assert scale == Fraction(target[0], source[0])
    step = scale.denominator  # source corner sides map to whole target pixels
    corner = (math.ceil(source[0] / 3 / step) * step, math.ceil(source[1] / 9 / step) * step)
    part_size = (int(corner[0] * scale), int(corner[1] * scale))
    img = backdrop(*source)
    frame = np.zeros((target[1], target[0]), np.uint8)
    for index in ALL_INDEXES:
        draw_frame_mark(img, index)
        part = img.resize(part_size, resample, box=(0, 0, *corner))
        frame[: part.height, : part.width] = luma(part)
        assert read_frame_mark(frame) == index, (source, target, index)


def test_full_frame_scaling_agrees_with_the_corner_shortcut() -> None:
    img = backdrop(1920, 1080)
    for index in (0, 1023, 682, 341, 77):
        draw_frame_mark(img, index)
        for size in ((1280, 720), (640, 360)):
            assert read_frame_mark(luma(img.resize(size, Image.Resampling.BICUBIC))) == index


def test_reads_a_clip_placed_inside_a_larger_frame() -> None:
    clip = backdrop(1280, 720)
    draw_frame_mark(clip, 613)
    frame = Image.new("RGB", (1920, 1080), (255, 255, 255))
    rect = (300, 170, 960, 540)
    frame.paste(clip.resize(rect[2:], Image.Resampling.BICUBIC), rect[:2])
    assert read_frame_mark(luma(frame), rect) == 613


def _h264_round_trip(images: list[Image.Image], size: tuple[int, int], crf: int) -> list[np.ndarray]:
    """Scale with swscale, encode with libx264 in memory, decode: the luma planes that come back."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height = size
    encoder.pix_fmt = "yuv420p"
    encoder.time_base = Fraction(1, 30)
    encoder.options = {"crf": str(crf), "preset": "veryfast", "g": "30"}
    packets = []
    for pts, img in enumerate(images):
        frame = VideoFrame.from_ndarray(np.asarray(img), format="rgb24")
        frame = frame.reformat(width=size[0], height=size[1], format="yuv420p")
        frame.pts = pts
        packets.extend(encoder.encode(frame))
    packets.extend(encoder.encode(None))
    decoder = av.CodecContext.create("h264", "r")
    lumas = []
    for packet in [*packets, None]:
        for decoded in decoder.decode(packet):
            lumas.append(decoded.to_ndarray(format="gray"))
    assert len(lumas) == len(images)
    return lumas


@pytest.mark.parametrize("size", [(1280, 720), (640, 360)])
@pytest.mark.parametrize("crf", [23, 28, 30])
def test_survives_scaling_and_h264(size: tuple[int, int], crf: int) -> None:
    rng = random.Random(crf)
    indexes = [0, MAX_INDEX, 0b1010101010, 0b0101010101, *range(100, 116), *rng.sample(ALL_INDEXES, 24)]
    background = backdrop(1920, 1080)
    images = []
    for index in indexes:
        img = background.copy()
        draw_frame_mark(img, index)
        images.append(img)
    lumas = _h264_round_trip(images, size, crf)
    assert [read_frame_mark(plane) for plane in lumas] == indexes


def test_mark_is_opaque_on_transparent_images() -> None:
    img = Image.new("RGBA", (1280, 720), (0, 0, 0, 0))
    draw_frame_mark(img, 1000)
    x, y, w, h = mark_box(720)
    alpha = np.asarray(img)[..., 3]
    assert (alpha[y : y + h, x : x + w] == 255).all()
    assert alpha.sum() == 255 * w * h
    assert read_frame_mark(luma(img)) == 1000
    assert w == MARK_CELLS * cell_size(720)


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_frames_have_no_mark(value: int) -> None:
    with pytest.raises(FrameMarkError):
        read_frame_mark(np.full((720, 1280), value, np.uint8))


def test_unmarked_picture_has_no_mark() -> None:
    with pytest.raises(FrameMarkError):
        read_frame_mark(luma(backdrop(1280, 720)))


@pytest.mark.parametrize("index", [-1, MAX_INDEX + 1])
def test_index_out_of_range(index: int) -> None:
    with pytest.raises(ValueError):
        draw_frame_mark(Image.new("RGB", (64, 64)), index)


def test_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError):
        read_frame_mark(np.zeros((720, 1280, 3), np.uint8))
    with pytest.raises(ValueError):
        read_frame_mark(np.zeros((720, 1280), np.uint8), (1200, 0, 640, 360))
    with pytest.raises(ValueError):
        draw_frame_mark(Image.new("CMYK", (64, 64)), 1)
