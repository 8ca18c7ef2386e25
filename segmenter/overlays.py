"""Burned-in overlays: what the coach app's screen would show, drawn into every frame.

Three pure steps, so the same instant looks the same whichever segment draws it:
`overlay_state` (what to say at a frame) -> `layout` (where, at a rendition's
size) -> `draw` (blend straight into the yuv420p planes; no RGB round trip).

Layout, at 1280x720 and scaled with the picture height: the countdown at top
right, the exercise name and "Round r/R · Exercise i/N" at bottom left above a
whole-workout progress bar; rest, intro and closing screens put their words in
the middle. The top-left corner stays clear for the clips' frame-index mark.
The words are the plan's language's (`segmenter.captions`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from playlists.plan import DEFAULT_LANGUAGE, LANGUAGES, Language
from playlists.timeline import BlockKind
from segmenter.captions import CAPTIONS
from segmenter.frames import unpack_yuv420p
from segmenter.spec import FrameRun, SegmentSpec
from segmenter.stamp_cache import ByteBoundedCache
from segmenter.text import SPRITE_CACHE_SIZE, Mask, Typeface, fitting_size, text_box, text_sprite

REFERENCE_HEIGHT = 720
MARGIN = 36
BAR_HEIGHT = 10
BAR_GAP = 14
LINE_GAP = 6
OUTLINE_OPACITY = 0.7
TRACK_OPACITY = 0.55

SIZE_COUNTDOWN = 104
SIZE_TITLE = 60
SIZE_SUBTITLE = 34
SIZE_REST = 120
SIZE_NEXT = 56
SIZE_READY = 72
SIZE_READY_DIGIT = 220
SIZE_FIRST = 44
SIZE_DONE = 80
SIZE_DONE_DETAIL = 40
MIN_TEXT_SIZE = 14
"""No text is laid out smaller (pixels): scaled from 720 lines, the small print of the 234-line cellular
baseline would be 10-11 px, a blur once encoded at 60 kbit/s. Every rendition from 360p up is larger."""


@dataclass(frozen=True)
class Colour:
    y: int
    u: int
    v: int

    @classmethod
    def from_rgb(cls, red: int, green: int, blue: int) -> Colour:
        """BT.709, limited range: the matrix every rendition is encoded with."""
        r, g, b = red / 255, green / 255, blue / 255
        luma = 0.2126 * r + 0.7152 * g + 0.0722 * b
        return cls(
            round(16 + 219 * luma), round(128 + 224 * (b - luma) / 1.8556), round(128 + 224 * (r - luma) / 1.5748)
        )


WHITE = Colour.from_rgb(255, 255, 255)
BLACK = Colour.from_rgb(0, 0, 0)
ACCENT = {
    BlockKind.INTRO: Colour.from_rgb(250, 250, 250),
    BlockKind.WORK: Colour.from_rgb(255, 149, 0),
    BlockKind.REST: Colour.from_rgb(0, 190, 170),
    BlockKind.OUTRO: Colour.from_rgb(120, 220, 90),
}


@dataclass(frozen=True)
class OverlayState:
    """Everything the overlay says at one output frame."""

    kind: BlockKind
    seconds_left: int
    exercise: str | None
    """The exercise being done (work) or coming next (intro, rest)."""
    round: int
    rounds: int
    item: int
    """1-based, of the exercise named."""
    items: int
    frame: int
    total_frames: int
    fps: int
    language: Language = DEFAULT_LANGUAGE


def overlay_state(spec: SegmentSpec, run: FrameRun, frame: int) -> OverlayState:
    offset = run.offset_in_block + frame - run.first_frame
    round_no, item = run.round, run.item
    if run.kind is BlockKind.REST:  # a rest announces the exercise that follows it
        item += 1
        if item == spec.items_per_round:
            item, round_no = 0, round_no + 1
    return OverlayState(
        kind=run.kind,
        seconds_left=math.ceil((run.block_frames - offset) / spec.fps),
        exercise=run.clip.name if run.clip is not None else None,
        round=round_no,
        rounds=spec.rounds,
        item=item + 1,
        items=spec.items_per_round,
        frame=frame,
        total_frames=spec.total_frames,
        fps=spec.fps,
        language=spec.language,
    )


def clock(seconds: int) -> str:
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d}"


@dataclass(frozen=True)
class Text:
    text: str
    size: int
    x: int
    y: int
    face: Typeface = Typeface.EMBEDDED

    @property
    def box(self) -> tuple[int, int, int, int]:
        width, height = text_box(self.text, self.size, self.face)
        return self.x, self.y, width, height


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    width: int
    height: int
    colour: Colour
    opacity: float

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.width, self.height


Element = Text | Box


def even(value: float) -> int:
    """Positions snap to even pixels so masks line up with 4:2:0 chroma samples."""
    return int(value) // 2 * 2


class Layout:
    """Positions in a picture of `width` x `height`, scaled from the 720-line reference, of text in `face`."""

    def __init__(self, width: int, height: int, face: Typeface = Typeface.EMBEDDED) -> None:
        self.width, self.height, self.face = width, height, face
        self.scale = height / REFERENCE_HEIGHT
        self.margin = even(MARGIN * self.scale)

    def size(self, reference: int) -> int:
        return max(MIN_TEXT_SIZE, round(reference * self.scale))

    def fitted(self, text: str, reference: int) -> int:
        return fitting_size(text, self.size(reference), self.width - 2 * self.margin, self.face)

    def top_right(self, text: str, reference: int) -> Text:
        size = self.size(reference)
        width, _ = text_box(text, size, self.face)
        return Text(text, size, even(self.width - self.margin - width), self.margin, self.face)

    def centred(self, text: str, reference: int, centre_fraction: float) -> Text:
        size = self.fitted(text, reference)
        width, height = text_box(text, size, self.face)
        x, y = even((self.width - width) / 2), even(self.height * centre_fraction - height / 2)
        return Text(text, size, x, y, self.face)

    def bar_top(self) -> int:
        return self.height - self.margin - even(BAR_HEIGHT * self.scale)

    def bottom_left(self, lines: list[tuple[str, int]]) -> list[Text]:
        """Lines stacked upwards from just above the progress bar, in the left half unless that would
        make them smaller than MIN_TEXT_SIZE."""
        placed, bottom = [], self.bar_top() - even(BAR_GAP * self.scale)
        for text, reference in reversed(lines):
            size = fitting_size(text, self.size(reference), self.width // 2 - self.margin, self.face)
            if size < MIN_TEXT_SIZE:  # a small picture: the line may run under the picture's middle instead
                size = fitting_size(text, self.size(reference), self.width - 2 * self.margin, self.face)
            _, height = text_box(text, size, self.face)
            bottom -= height
            placed.append(Text(text, size, self.margin, even(bottom), self.face))
            bottom -= even(LINE_GAP * self.scale)
        return list(reversed(placed))

    def progress(self, state: OverlayState) -> list[Box]:
        top, height = self.bar_top(), even(BAR_HEIGHT * self.scale)
        width = self.width - 2 * self.margin
        filled = width * (state.frame + 1) // state.total_frames
        return [
            Box(self.margin, top, width, height, BLACK, TRACK_OPACITY),
            Box(self.margin, top, filled, height, ACCENT[state.kind], 1.0),
        ]


def layout(state: OverlayState, width: int, height: int) -> list[Element]:
    """The overlay's elements at one rendition size, worded in the state's language."""
    words = CAPTIONS[state.language]
    at = Layout(width, height, words.typeface)
    where = words.where(state.round, state.rounds, state.item, state.items)
    elements: list[Element] = []
    if state.kind is BlockKind.WORK:
        elements += [at.top_right(clock(state.seconds_left), SIZE_COUNTDOWN)]
        elements += at.bottom_left([(state.exercise or "", SIZE_TITLE), (where, SIZE_SUBTITLE)])
    elif state.kind is BlockKind.REST:
        elements += [at.top_right(clock(state.seconds_left), SIZE_COUNTDOWN)]
        next_up = words.next(state.exercise or "")
        elements += [at.centred(words.rest, SIZE_REST, 0.40), at.centred(next_up, SIZE_NEXT, 0.60)]
        elements += at.bottom_left([(where, SIZE_SUBTITLE)])
    elif state.kind is BlockKind.INTRO:
        elements += [
            at.centred(words.get_ready, SIZE_READY, 0.24),
            at.centred(str(state.seconds_left), SIZE_READY_DIGIT, 0.50),
            at.centred(words.first(state.exercise or ""), SIZE_FIRST, 0.76),
        ]
    else:
        total = clock(round(state.total_frames / state.fps))
        elements += [
            at.centred(words.workout_complete, SIZE_DONE, 0.42),
            at.centred(words.done(total, state.rounds), SIZE_DONE_DETAIL, 0.60),
        ]
    return elements + at.progress(state)


@dataclass(frozen=True)
class Stamp:
    """An element premultiplied for a one-pass blend: plane = (plane * keep + add) >> 8.

    `keep` is how much of the picture shows through (0..256) and `add` the
    element's colour already weighted by its coverage (plus 128 to round), per
    Y, U and V plane. An outlined text (black rim under white fill) is folded
    into one stamp, so each plane is touched once per element with one multiply,
    one add and one shift; the result is within one level of blending the two
    layers one after the other.
    """

    keep: tuple[np.ndarray, np.ndarray, np.ndarray]
    add: tuple[np.ndarray, np.ndarray, np.ndarray]


def fold(layers: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """(keep, add) for coverage masks painted bottom to top: [(alpha 0..255, value), ...]."""
    keep = np.ones(layers[0][0].shape)
    add = np.zeros(layers[0][0].shape)
    for alpha, value in layers:
        coverage = alpha / 255.0
        keep *= 1.0 - coverage
        add = add * (1.0 - coverage) + value * coverage
    return np.rint(keep * 256).astype(np.uint16), (np.rint(add * 256) + 128).astype(np.uint16)


def layers_stamp(masks: list[tuple[Mask, Colour, float]]) -> Stamp:
    luma = fold([(mask.luma * opacity, colour.y) for mask, colour, opacity in masks])
    u = fold([(mask.chroma * opacity, colour.u) for mask, colour, opacity in masks])
    v = fold([(mask.chroma * opacity, colour.v) for mask, colour, opacity in masks])
    return Stamp(keep=(luma[0], u[0], v[0]), add=(luma[1], u[1], v[1]))


def _text_stamp(text: str, size: int, face: Typeface = Typeface.EMBEDDED) -> Stamp:
    """White text on a dark rim: the rim at OUTLINE_OPACITY, the fill opaque."""
    sprite = text_sprite(text, size, face)
    return layers_stamp([(sprite.outline, BLACK, OUTLINE_OPACITY), (sprite.fill, WHITE, 1.0)])


def stamp_bytes(stamp: Stamp) -> int:
    return sum(plane.nbytes for plane in (*stamp.keep, *stamp.add))


STAMP_CACHE_BYTES = 32 << 20
"""Rasterised text one process keeps (`segmenter.stamp_cache`): every distinct text of a few plans at
the whole ladder, a small share of a render process's memory."""
text_stamp = ByteBoundedCache(_text_stamp, stamp_bytes, STAMP_CACHE_BYTES)


@functools.lru_cache(maxsize=SPRITE_CACHE_SIZE)
def box_stamp(width: int, height: int, colour: Colour, opacity: float) -> Stamp:
    alpha = np.full((height, width), 255.0 * opacity)
    chroma = np.full((height // 2, (width + 1) // 2), 255.0 * opacity)
    luma, u, v = fold([(alpha, colour.y)]), fold([(chroma, colour.u)]), fold([(chroma, colour.v)])
    return Stamp(keep=(luma[0], u[0], v[0]), add=(luma[1], u[1], v[1]))


def apply(planes: tuple[np.ndarray, ...], x: int, y: int, stamp: Stamp) -> None:
    """Blend a stamp whose top-left corner is at luma (x, y), clipped to the planes."""
    for plane, keep, add, step in zip(planes, stamp.keep, stamp.add, (1, 2, 2), strict=True):
        left, top = x // step, y // step
        height = min(keep.shape[0], plane.shape[0] - top)
        width = min(keep.shape[1], plane.shape[1] - left)
        if height <= 0 or width <= 0:
            continue
        region = plane[top : top + height, left : left + width]
        mixed = np.multiply(region, keep[:height, :width], dtype=np.uint16)
        mixed += add[:height, :width]
        mixed >>= 8
        region[...] = mixed


def draw(picture: np.ndarray, elements: list[Element]) -> None:
    """Blend the elements into a packed yuv420p picture, in place."""
    draw_into(unpack_yuv420p(picture), elements)


def draw_into(planes: tuple[np.ndarray, ...], elements: list[Element]) -> None:
    """Blend the elements into (Y, U, V) plane arrays, in place (e.g. an encoder frame's own planes)."""
    for element in elements:
        if isinstance(element, Box):
            if element.width > 0 and element.height > 0:
                stamp = box_stamp(element.width, element.height, element.colour, element.opacity)
                apply(planes, element.x, element.y, stamp)
        else:
            apply(planes, element.x, element.y, text_stamp(element.text, element.size, element.face))


WARM_SECONDS = 10
"""Countdowns up to this many seconds are rasterised at start-up: the intro's and the last seconds of
an interval. Longer ones cost about 1.3 ms each when first drawn; warming all 99 took 120 MB per
render process."""


def warm_stamps(width: int, height: int, exercise_names: Mapping[Language, Iterable[str]]) -> int:
    """Rasterise the strings most segments draw (countdowns, intro digits, screen words,
    exercise names) in every language, so a new plan's first segment does not pay for font work.

    `exercise_names` are the catalogue's names as each language's screens show them.
    Returns how many distinct text elements were visited.
    """
    seen: set[tuple[str, int, Typeface]] = set()
    for language in LANGUAGES:
        names = list(exercise_names.get(language, ())) or [""]
        for kind in BlockKind:
            for name in names:
                for seconds_left in range(1, WARM_SECONDS + 1):
                    state = OverlayState(kind, seconds_left, name, 1, 1, 1, 1, 0, 1, 30, language)
                    for element in layout(state, width, height):
                        if isinstance(element, Text) and (element.text, element.size, element.face) not in seen:
                            seen.add((element.text, element.size, element.face))
                            text_stamp(element.text, element.size, element.face)
    return len(seen)
