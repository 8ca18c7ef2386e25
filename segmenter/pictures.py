"""Still pictures of a presentation: poster, thumbnails and the scrubbing storyboard;
and an exercise's catalogue picture (a clip frame over the backdrop, no overlay).

A still shows exactly what the stream shows at that frame, without rendering
its segment: the segment's spec is cut down to the one frame and handed to the
same `video_frames` the encoder is fed from (same source picture, same
overlay), so a frame costs one copy and one overlay instead of a segment encode.
The yuv420p picture is BT.709 limited range like every rendition, converted to
RGB and scaled by swscale in one pass, then encoded as a baseline JPEG.
"""

from __future__ import annotations

import bisect
import hashlib
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import ColorRange, Interpolation
from PIL import Image

from playlists.presentation import Presentation
from playlists.renditions import Rendition
from playlists.timeline import BlockKind, Timeline
from segmenter.frame_store import FrameStore
from segmenter.frames import OUTPUT_COLORSPACE, pack_yuv420p
from segmenter.spec import ClipRef, SegmentSpec, SpecBuilder
from segmenter.video import PIXEL_FORMAT, FramePool, frame_planes, video_frames

PICTURES_VERSION = "1"
"""Bump when the JPEG bytes change for the same frame and size: part of every picture key."""

JPEG_QUALITY = 85
"""Visually clean for photos of a studio scene at a third of the size of quality 95."""

RGB_FORMAT = "rgb24"
SCALING = Interpolation.BICUBIC | Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
"""FFmpeg's default scaler, with exact rounding and full-resolution chroma, so colours match the decoded stream."""

SCALER_THREADS = 1
"""One thread per still: stills share the machine with segment renders and must not crowd them out."""

SPRITE_BACKGROUND = 0
"""RGB level of the unused tile slots at the end of the storyboard's last row."""

POSTER_SECONDS_IN = 1
"""The poster shows the first work interval this far in: the exercise moving, its name and countdown drawn."""

MILLISECONDS = 1000


class FrameOutOfRange(ValueError):
    """The presentation has no frame at that number (or time)."""


class EmptyStoryboard(ValueError):
    """A storyboard track needs at least one tile, in time order, each starting before the end."""


def segment_index_of(presentation: Presentation, frame: int) -> int:
    """The segment that holds output frame `frame`."""
    if not 0 <= frame < presentation.timeline.total_frames:
        raise FrameOutOfRange(f"frame {frame} is outside 0..{presentation.timeline.total_frames - 1}")
    return bisect.bisect_right(presentation.segments, frame, key=lambda segment: segment.start_frame) - 1


def single_frame_spec(spec: SegmentSpec, frame: int) -> SegmentSpec:
    """The segment's spec cut down to one of its frames.

    The run keeps its block, clip and overlay facts, with its offset moved to
    the frame, so `video_frames` draws the frame exactly as the segment does.
    """
    for run in spec.runs:
        if run.first_frame <= frame < run.first_frame + run.frames:
            offset = run.offset_in_block + frame - run.first_frame
            only = replace(run, first_frame=frame, frames=1, offset_in_block=offset)
            return replace(spec, start_frame=frame, frames=1, runs=(only,))
    raise FrameOutOfRange(f"frame {frame} is not in segment {spec.index} ({spec.start_frame}+{spec.frames})")


def output_frame(
    builder: SpecBuilder, frame: int, library: FrameStore, pool: FramePool | None = None
) -> av.VideoFrame:
    """The encoder's input picture for `frame` at the builder's rendition (from `pool` when given)."""
    spec = builder.spec(segment_index_of(builder.presentation, frame))
    return next(video_frames(single_frame_spec(spec, frame), library, pool))


def picture_at(builder: SpecBuilder, frame: int, library: FrameStore) -> np.ndarray:
    """Packed yuv420p picture of `frame` at the rendition's size, as `segment_pictures` yields it."""
    return pack_yuv420p(*frame_planes(output_frame(builder, frame, library)))


def picture_rendition(renditions: Iterable[Rendition], width: int) -> Rendition:
    """The rendition a still of `width` pixels is drawn from: the narrowest at least that wide, else the widest.

    Scaling down from the next size up is sharp and never upscales; drawing at
    the smallest size that suffices costs the least (a 640x360 copy and overlay
    instead of a 1920x1080 one); and its clips are already decoded, because the
    same rendition streams. Its overlay is that rendition's own layout, so a
    still matches what a player on that rendition shows.
    """
    by_width = sorted(renditions, key=lambda rendition: rendition.width)
    if not by_width:
        raise ValueError("no renditions to draw a picture from")
    return next((rendition for rendition in by_width if rendition.width >= width), by_width[-1])


def picture_height(width: int, rendition: Rendition) -> int:
    """Height that keeps the rendition's aspect (16:9) at `width`, rounded to an even number of rows."""
    return max(2, 2 * round(width * rendition.height / (2 * rendition.width)))


def frame_at_time(seconds: Fraction, timeline: Timeline) -> int:
    """The frame on screen at `seconds` (exact: 0.1 s is frame 3 at 30 fps, never 2.9999)."""
    if not 0 <= seconds < timeline.duration:
        raise FrameOutOfRange(f"{float(seconds)} s is outside 0 <= t < {float(timeline.duration)} s")
    return math.floor(seconds * timeline.fps)


def poster_frame(timeline: Timeline) -> int:
    """A second into the first work interval (its last frame if it is shorter); the intro if there is no work."""
    work = next((block for block in timeline.blocks if block.kind is BlockKind.WORK), timeline.blocks[0])
    return min(work.start_frame + POSTER_SECONDS_IN * timeline.fps, work.end_frame - 1)


def scaled_rgb(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """A BT.709 limited-range yuv420p frame as full-range RGB at width x height."""
    rgb = frame.reformat(
        width=width,
        height=height,
        format=RGB_FORMAT,
        src_colorspace=OUTPUT_COLORSPACE,
        src_color_range=ColorRange.MPEG,
        dst_color_range=ColorRange.JPEG,
        interpolation=SCALING,
        threads=SCALER_THREADS,
    )
    return rgb.to_ndarray()


def encode_jpeg(rgb: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """Baseline (not progressive) JPEG: every decoder shows it top to bottom at once."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality, progressive=False)
    return buffer.getvalue()


def jpeg_of(picture: np.ndarray, width: int, height: int, quality: int = JPEG_QUALITY) -> bytes:
    """A packed yuv420p picture (as `picture_at` returns) as a width x height JPEG."""
    frame = av.VideoFrame.from_ndarray(picture, format=PIXEL_FORMAT)
    return encode_jpeg(scaled_rgb(frame, width, height), quality)


def still_jpeg(builder: SpecBuilder, frame: int, library: FrameStore, width: int, height: int) -> bytes:
    """`frame` as a JPEG, scaled straight from the encoder-input frame (no packed copy in between)."""
    return encode_jpeg(scaled_rgb(output_frame(builder, frame, library), width, height))


@dataclass(frozen=True)
class Tile:
    """One storyboard picture: from `start` seconds until the next tile's start, at (x, y) in the sprite."""

    start: Fraction
    frame: int
    x: int
    y: int
    width: int
    height: int


def storyboard_tiles(
    timeline: Timeline, interval_seconds: Fraction, tile_width: int, tile_height: int, columns: int
) -> tuple[Tile, ...]:
    """One tile every `interval_seconds` from 0 to the end, laid out row by row, `columns` to a row.

    Each tile shows the frame on screen at its start time, the same frame a
    thumbnail of that time shows.
    """
    count = math.ceil(timeline.duration / interval_seconds)
    tiles = []
    for index in range(count):
        start = index * interval_seconds
        row, column = divmod(index, columns)
        tiles.append(
            Tile(start, frame_at_time(start, timeline), column * tile_width, row * tile_height, tile_width, tile_height)
        )
    return tuple(tiles)


def sprite_size(tiles: tuple[Tile, ...]) -> tuple[int, int]:
    """(width, height) of the smallest sprite that holds every tile."""
    return max(tile.x + tile.width for tile in tiles), max(tile.y + tile.height for tile in tiles)


def storyboard(
    builder: SpecBuilder, library: FrameStore, interval_seconds: Fraction, tile_width: int, columns: int
) -> tuple[bytes, tuple[Tile, ...]]:
    """The storyboard sprite (one JPEG) and its tiles, drawn at the builder's rendition."""
    height = picture_height(tile_width, builder.rendition)
    tiles = storyboard_tiles(builder.presentation.timeline, interval_seconds, tile_width, height, columns)
    return sprite_jpeg(builder, library, tiles), tiles


def sprite_jpeg(builder: SpecBuilder, library: FrameStore, tiles: tuple[Tile, ...]) -> bytes:
    """Every tile's frame scaled into its place in one picture, as a JPEG.

    The encoder-input frames come from one recycled pool: a fresh frame per
    tile would cost more in page faults than drawing it.
    """
    width, height = sprite_size(tiles)
    sprite = np.full((height, width, 3), SPRITE_BACKGROUND, dtype=np.uint8)
    pool = FramePool(builder.rendition.width, builder.rendition.height)
    for tile in tiles:
        frame = output_frame(builder, tile.frame, library, pool)
        sprite[tile.y : tile.y + tile.height, tile.x : tile.x + tile.width] = scaled_rgb(frame, tile.width, tile.height)
        pool.release(frame)
    return encode_jpeg(sprite)


def vtt_timestamp(seconds: Fraction) -> str:
    """WebVTT's HH:MM:SS.mmm, rounded to the millisecond."""
    milliseconds = round(seconds * MILLISECONDS)
    whole, millis = divmod(milliseconds, MILLISECONDS)
    minutes, secs = divmod(whole, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def storyboard_vtt(tiles: tuple[Tile, ...], sprite_url: str, duration: Fraction) -> str:
    """The WebVTT thumbnail track players scrub with: one cue per tile, pointing into the sprite.

    Each cue ends where the next begins and the last at `duration`, so the cues
    tile the presentation with no gap or overlap.
    """
    starts = [tile.start for tile in tiles]
    if not tiles or starts != sorted(set(starts)) or starts[-1] >= duration:
        raise EmptyStoryboard(f"{len(tiles)} tiles cannot cover 0..{float(duration)} s in order")
    ends = [*starts[1:], duration]
    lines = ["WEBVTT", ""]
    for tile, end in zip(tiles, ends, strict=True):
        lines += [
            f"{vtt_timestamp(tile.start)} --> {vtt_timestamp(end)}",
            f"{sprite_url}#xywh={tile.x},{tile.y},{tile.width},{tile.height}",
            "",
        ]
    return "\n".join(lines)


def picture_key(builder: SpecBuilder, frames: Iterable[int], *parameters: object) -> str:
    """Content key of a still or sprite: the spec keys of the segments its frames come from, the frames
    and the output parameters (strong ETag, cache key). Computed without drawing anything."""
    presentation = builder.presentation
    digest = hashlib.sha256(f"{PICTURES_VERSION}|{parameters!r}".encode())
    for frame in frames:
        digest.update(f"|{frame}:{builder.key(segment_index_of(presentation, frame))}".encode())
    return digest.hexdigest()


def clip_middle_frame(clip: ClipRef) -> int:
    """The clip frame an exercise's catalogue thumbnail shows: the middle of its loop, mid-movement."""
    return clip.frames // 2


def clip_still_key(clip: ClipRef, rendition: Rendition, frame: int, width: int, height: int) -> str:
    """Content key of a clip frame's still (strong ETag, cache key): the clip's version, the frame, the size."""
    parameters = ("clip", clip.exercise_id, clip.version, rendition.name, frame, width, height, JPEG_QUALITY)
    return hashlib.sha256(f"{PICTURES_VERSION}|{parameters!r}".encode()).hexdigest()


def clip_still_jpeg(
    clip: ClipRef, rendition: Rendition, frame: int, library: FrameStore, width: int, height: int
) -> bytes:
    """Clip frame `frame` as the stream's work screen shows it, over the backdrop, without overlays.

    Drawn from the library's decoded frames at `rendition` (alpha clips already
    composited over the backdrop), the same frames segments are encoded from.
    """
    return jpeg_of(library.clip_frames(clip, rendition).frames[frame], width, height)
