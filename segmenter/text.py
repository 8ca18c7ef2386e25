"""Text rasterised once into alpha masks at YUV 4:2:0 resolution.

PyAV's FFmpeg has no drawtext, so Pillow's FreeType renders each distinct
(text, size) once: an anti-aliased fill mask and an outline mask, each with a
luma-resolution and a half-resolution chroma copy, ready to blend straight into
yuv420p planes. A countdown needs one sprite per second shown, so a small LRU
covers every string a workout draws.

Two typefaces, both Aileron Regular: Pillow's built-in subset (ASCII only) draws
English as it always has, and the whole font shipped in `segmenter/fonts` draws
French (accents, « », no-break spaces).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SPRITE_CACHE_SIZE = 4096
SPRITE_MASK_CACHE_SIZE = 64
"""Masks are only read to build a stamp (`segmenter.overlays`, cached by bytes): keep a few."""
OUTLINE_DIVISOR = 14
"""Outline width = font size / this: a dark rim that keeps white text legible on any picture."""
FONTS_DIR = Path(__file__).resolve().parent / "fonts"
AILERON_FILE = FONTS_DIR / "Aileron-Regular.ttf"


class Typeface(StrEnum):
    """Which font file draws a string (part of every sprite's cache key)."""

    EMBEDDED = "embedded"
    """Pillow's `load_default()`: an ASCII-only subset of Aileron. English captions keep it, so English
    segments stay byte-identical to those already cached under the same keys."""
    AILERON = "aileron"
    """The whole Aileron Regular (Latin-1, typographic spaces): every character French captions use."""


class FontUnavailable(RuntimeError):
    """No scalable font to draw overlays with (Pillow without FreeType, or the font file is missing)."""


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
def font(size: int, face: Typeface = Typeface.EMBEDDED) -> ImageFont.FreeTypeFont:
    if face is Typeface.AILERON:
        try:
            # The basic layout, like load_default(): whole-pixel advances whether or not libraqm is there.
            return ImageFont.truetype(str(AILERON_FILE), size, layout_engine=ImageFont.Layout.BASIC)
        except OSError as error:
            raise FontUnavailable(f"cannot load the overlay font {AILERON_FILE}: {error}") from error
    loaded = ImageFont.load_default(size=size)
    if not isinstance(loaded, ImageFont.FreeTypeFont):
        raise FontUnavailable("Pillow was built without FreeType: no scalable font to draw overlays with")
    return loaded


def outline_width(size: int) -> int:
    return max(1, round(size / OUTLINE_DIVISOR))


@functools.lru_cache(maxsize=SPRITE_CACHE_SIZE)
def text_box(text: str, size: int, face: Typeface = Typeface.EMBEDDED) -> tuple[int, int]:
    """Width and height of the sprite `text_sprite` makes, without drawing it."""
    left, top, right, bottom = font(size, face).getbbox(text, stroke_width=outline_width(size))
    width, height = right - left, bottom - top
    return width + width % 2, height + height % 2


@functools.lru_cache(maxsize=SPRITE_MASK_CACHE_SIZE)
def text_sprite(text: str, size: int, face: Typeface = Typeface.EMBEDDED) -> TextSprite:
    """Fill and outline masks cropped to the outlined text's box (accents and descenders included)."""
    loaded = font(size, face)
    stroke = outline_width(size)
    left, top, right, bottom = loaded.getbbox(text, stroke_width=stroke)
    canvas = (right - left, bottom - top)
    origin = (-left, -top)
    outline = Image.new("L", canvas, 0)
    ImageDraw.Draw(outline).text(origin, text, font=loaded, fill=255, stroke_width=stroke, stroke_fill=255)
    fill = Image.new("L", canvas, 0)
    ImageDraw.Draw(fill).text(origin, text, font=loaded, fill=255)
    return TextSprite(fill=to_mask(np.asarray(fill)), outline=to_mask(np.asarray(outline)))


def fitting_size(text: str, size: int, max_width: int, face: Typeface = Typeface.EMBEDDED) -> int:
    """The largest size up to `size` at which `text` fits in `max_width` pixels."""
    while size > 8 and text_box(text, size, face)[0] > max_width:
        size = max(8, int(size * 0.9))
    return size
