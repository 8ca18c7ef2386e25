"""Text rasterised once into alpha masks at YUV 4:2:0 resolution.

PyAV's FFmpeg has no drawtext, so Pillow's FreeType renders each distinct
(text, size) once: an anti-aliased fill mask and an outline mask, each with a
luma-resolution and a half-resolution chroma copy, ready to blend straight into
yuv420p planes. A countdown needs one sprite per second shown, so a small LRU
covers every string a workout draws.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SPRITE_CACHE_SIZE = 4096
OUTLINE_DIVISOR = 14
"""Outline width = font size / this: a dark rim that keeps white text legible on any picture."""


@dataclass(frozen=True)
class Mask:
    """An alpha mask with even width and height, and its 2x2-averaged chroma copy."""

    luma: np.ndarray
    chroma: np.ndarray

    @property
    def width(self) -> int:
        return self.luma.shape[1]

    @property
    def height(self) -> int:
        return self.luma.shape[0]


@dataclass(frozen=True)
class TextSprite:
    fill: Mask
    outline: Mask


def to_mask(alpha: np.ndarray) -> Mask:
    height, width = alpha.shape
    padded = np.zeros((height + height % 2, width + width % 2), dtype=np.uint16)
    padded[:height, :width] = alpha
    chroma = (padded[0::2, 0::2] + padded[1::2, 0::2] + padded[0::2, 1::2] + padded[1::2, 1::2] + 2) // 4
    return Mask(padded.astype(np.uint8), chroma.astype(np.uint8))


@functools.lru_cache(maxsize=64)
def font(size: int) -> ImageFont.FreeTypeFont:
    loaded = ImageFont.load_default(size=size)
    if not isinstance(loaded, ImageFont.FreeTypeFont):
        raise RuntimeError("Pillow was built without FreeType: no scalable font to draw overlays with")
    return loaded


def outline_width(size: int) -> int:
    return max(1, round(size / OUTLINE_DIVISOR))


@functools.lru_cache(maxsize=SPRITE_CACHE_SIZE)
def text_box(text: str, size: int) -> tuple[int, int]:
    """Width and height of the sprite `text_sprite` makes, without drawing it."""
    left, top, right, bottom = font(size).getbbox(text, stroke_width=outline_width(size))
    width, height = right - left, bottom - top
    return width + width % 2, height + height % 2


@functools.lru_cache(maxsize=SPRITE_CACHE_SIZE)
def text_sprite(text: str, size: int) -> TextSprite:
    face = font(size)
    stroke = outline_width(size)
    left, top, right, bottom = face.getbbox(text, stroke_width=stroke)
    canvas = (right - left, bottom - top)
    origin = (-left, -top)
    outline = Image.new("L", canvas, 0)
    ImageDraw.Draw(outline).text(origin, text, font=face, fill=255, stroke_width=stroke, stroke_fill=255)
    fill = Image.new("L", canvas, 0)
    ImageDraw.Draw(fill).text(origin, text, font=face, fill=255)
    return TextSprite(fill=to_mask(np.asarray(fill)), outline=to_mask(np.asarray(outline)))


def fitting_size(text: str, size: int, max_width: int) -> int:
    """The largest size up to `size` at which `text` fits in `max_width` pixels."""
    while size > 8 and text_box(text, size)[0] > max_width:
        size = max(8, int(size * 0.9))
    return size
