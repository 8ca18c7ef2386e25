"""A visible frame-index mark drawn into every sample frame, and its reader.

Tests decode what the server streams (the clip scaled, composited and
re-encoded) and need to know which source frame is on screen; a mark drawn
into the pixels survives every stage that metadata would not.

Spec (the drawer and the reader must agree):

- For a clip of height ``H``: ``cell = max(8, round(H / 27))`` px square cells
  in a horizontal strip of 12 cells at the top-left corner, ``cell // 2`` px
  from the left and top edges.
- Cell 0 is a white reference (RGB 255, luma ~235), cell 1 a black reference
  (RGB 0), cells 2..11 the 10 bits of the frame index, most significant bit
  first, white = 1, black = 0. Indexes are 0..1023.
- The strip is fully opaque (alpha 255) even in clips with an alpha channel.

The reader gets the luma plane of a decoded frame and the rectangle the clip
occupies in it. It derives the geometry from the rectangle's height like the
drawer does from the clip height, but without rounding (``cell = h / 27``,
``margin = cell / 2``), because the source height is unknown after scaling: a
1080-line clip read at 720 or 360 lines then lands exactly on its cells, and
a clip whose cell was rounded (720 lines: 27 px instead of 26.67) drifts by at
most ~13% of a cell at the last one. It averages the central 50% of every cell
(away from blurred edges and chroma/DCT ringing) and thresholds each bit at the
midpoint of the two reference cells, so brightness and range changes do not
matter. Reliable down to clips shown at 360 lines and H.264 at crf 30.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

MARK_CELLS = 12
MARK_BITS = 10
MAX_INDEX = (1 << MARK_BITS) - 1
CELL_DIVISOR = 27
"""Cell size is the clip height over this: 40 px at 1080 lines, 27 px at 720."""
MIN_CELL = 8
WHITE_CELL = 0
BLACK_CELL = 1
FIRST_BIT_CELL = 2
MIN_CONTRAST = 60
"""Reference cells closer than this in mean luma mean there is no mark."""
SAMPLED_FRACTION = 0.5
"""Central part of each cell that the reader averages, per axis."""

_WHITE = {"RGB": (255, 255, 255), "RGBA": (255, 255, 255, 255), "L": 255}
_BLACK = {"RGB": (0, 0, 0), "RGBA": (0, 0, 0, 255), "L": 0}


class FrameMarkError(ValueError):
    """The frame carries no readable mark (the reference cells do not contrast)."""


def cell_size(height: int) -> int:
    """Side of one mark cell, in px, for a clip of this height."""
    return max(MIN_CELL, round(height / CELL_DIVISOR))


def mark_box(height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the whole strip in a clip of this height."""
    cell = cell_size(height)
    margin = cell // 2
    return margin, margin, MARK_CELLS * cell, cell


def _check_index(index: int) -> None:
    if not 0 <= index <= MAX_INDEX:
        raise ValueError(f"frame index {index} does not fit in {MARK_BITS} bits (0..{MAX_INDEX})")


def mark_cells(index: int) -> list[bool]:
    """White (True) or black per cell, left to right: the two references, then the bits."""
    _check_index(index)
    bits = [bool(index >> (MARK_BITS - 1 - bit) & 1) for bit in range(MARK_BITS)]
    return [True, False, *bits]


def draw_frame_mark(img: Image.Image, index: int) -> None:
    """Draw the mark for `index` into `img` in place (mode RGB, RGBA or L)."""
    if img.mode not in _WHITE:
        raise ValueError(f"cannot draw a frame mark on a {img.mode} image")
    cells = mark_cells(index)
    cell = cell_size(img.height)
    margin = cell // 2
    draw = ImageDraw.Draw(img)
    for position, white in enumerate(cells):
        left = margin + position * cell
        colour = _WHITE[img.mode] if white else _BLACK[img.mode]
        draw.rectangle((left, margin, left + cell - 1, margin + cell - 1), fill=colour)


def _cell_means(luma: np.ndarray, rect: tuple[int, int, int, int]) -> list[float]:
    x, y, _, height = rect
    cell = max(float(MIN_CELL), height / CELL_DIVISOR)
    margin = cell / 2
    half = cell * SAMPLED_FRACTION / 2
    centre_y = y + margin + cell / 2
    top, bottom = round(centre_y - half), round(centre_y + half)
    bottom = max(bottom, top + 1)
    means = []
    for position in range(MARK_CELLS):
        centre_x = x + margin + (position + 0.5) * cell
        left, right = round(centre_x - half), round(centre_x + half)
        right = max(right, left + 1)
        if top < 0 or left < 0 or bottom > luma.shape[0] or right > luma.shape[1]:
            raise ValueError(f"mark cell {position} of rect {rect} lies outside the {luma.shape} frame")
        means.append(float(luma[top:bottom, left:right].mean()))
    return means


def read_frame_mark(luma: np.ndarray, rect: tuple[int, int, int, int] | None = None) -> int:
    """The frame index marked in `luma` (2-D uint8 Y plane); `rect` = (x, y, w, h) of the clip in it."""
    if luma.ndim != 2:
        raise ValueError(f"expected a 2-D luma plane, got shape {luma.shape}")
    if rect is None:
        rect = (0, 0, luma.shape[1], luma.shape[0])
    means = _cell_means(luma, rect)
    white, black = means[WHITE_CELL], means[BLACK_CELL]
    if white - black < MIN_CONTRAST:
        raise FrameMarkError(f"no frame mark: reference cells differ by {white - black:.1f} (< {MIN_CONTRAST})")
    threshold = (white + black) / 2
    index = 0
    for mean in means[FIRST_BIT_CELL:]:
        index = index << 1 | (mean > threshold)
    return index
