"""Poster, thumbnails and the scrubbing storyboard of a plan's stream, drawn on request.

GET /hls/{plan_id}/poster.jpg?width=           a second into the first exercise (default 1280 px wide)
GET /hls/{plan_id}/thumbnail.jpg?t=&width=     the frame on screen at t seconds (default 320 px wide)
GET /hls/{plan_id}/storyboard.jpg              one 160 px tile every 5 s, 10 to a row
GET /hls/{plan_id}/storyboard.vtt              WebVTT thumbnail track naming tiles in storyboard.jpg
GET /api/exercises/{exercise_id}/thumbnail.jpg?width=   the middle frame of the exercise's clip over the
                                               backdrop, no overlay (default 320 px wide, at most 640)

Widths are 64..1920 px (exercise thumbnails 64..640); heights keep 16:9 and are even. Pictures are drawn on
worker threads, at most `PICTURE_CONCURRENCY` at a time and only a few waiting
(then 503), so a scrubbing player takes at most one core from the segment
renders, never a queue of them; finished pictures are kept in a small
byte-bounded LRU.
ETags come from the segments' spec keys, so a revalidation is answered without
drawing anything.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from collections.abc import Callable
from fractions import Fraction

import av
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from playlists.presentation import Presentation
from playlists.renditions import Rendition
from segmenter.cache import SegmentCache
from segmenter.frames import ClipDecodeError
from segmenter.pictures import (
    JPEG_QUALITY,
    Tile,
    clip_middle_frame,
    clip_still_jpeg,
    clip_still_key,
    frame_at_time,
    picture_height,
    picture_key,
    picture_rendition,
    poster_frame,
    sprite_jpeg,
    still_jpeg,
    storyboard_tiles,
    storyboard_vtt,
)
from segmenter.spec import SpecBuilder
from server.config.settings import MIB
from server.errors import ClipUnavailable, InvalidRequest, NotFound, Overloaded
from server.middleware.signing import sign_storyboard_for
from server.responses import SEGMENT_CACHE_CONTROL, etag_matches, not_modified
from server.routes.streams import checked_plan_id, service
from server.streaming import StreamingService

MIN_WIDTH = 64
MAX_WIDTH = 1920
DEFAULT_POSTER_WIDTH = 1280
DEFAULT_THUMBNAIL_WIDTH = 320
MAX_EXERCISE_THUMBNAIL_WIDTH = 640
"""A catalogue card's picture: drawn from the narrowest rendition at least that wide (234p frames for the
default 320, 360p for 640), never upscaled."""

STORYBOARD_INTERVAL_SECONDS = Fraction(5)
STORYBOARD_TILE_WIDTH = 160
STORYBOARD_COLUMNS = 10
STORYBOARD_SPRITE = "storyboard.jpg"
"""Relative to the track's own URL, so the track works behind any host or prefix (like the playlists)."""

JPEG_MIME = "image/jpeg"
VTT_MIME = "text/vtt; charset=utf-8"
ETAG_HEX_DIGITS = 32

PICTURE_CONCURRENCY = 1
"""Pictures drawn at once: one core at most, the rest stay with segment renders."""
MAX_PICTURES_PENDING = 8
"""Pictures drawing or waiting to; beyond this a request gets 503 and Retry-After rather than a long wait."""
PICTURE_CACHE_BYTES = 16 * MIB
"""A 10-minute storyboard is ~250 KB and a 320 px thumbnail ~8 KB: room for every recent plan's scrubbing."""

DECIMAL_SECONDS_RE = re.compile(r"^[0-9]{1,9}(\.[0-9]{1,9})?$")
WIDTH_RE = re.compile(r"^[0-9]{1,5}$")
WORKSHOP_STATE = "pictures"


class PictureWorkshop:
    """Draws pictures on worker threads behind a small semaphore, and remembers them.

    Concurrent requests for the same picture draw it once: the second finds it
    cached when its turn comes. A thread cannot be stopped, so a picture keeps
    its slot until its thread ends, even if the request that asked for it is
    gone, and the result is cached all the same.
    """

    def __init__(self, concurrency: int, max_pending: int, cache_bytes: int) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self.max_pending = max_pending
        self.pending = 0
        """Pictures drawing or waiting for a slot."""
        self.cache = SegmentCache(cache_bytes)  # the same byte-bounded LRU as segments

    async def produce(self, key: str, draw: Callable[[], bytes]) -> bytes:
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        if self.pending >= self.max_pending:
            raise Overloaded(f"{self.pending} pictures are already being drawn or waiting; try again shortly")
        self.pending += 1
        try:
            await self._slots.acquire()
        except BaseException:
            self.pending -= 1
            raise
        cached = self.cache.get(key)
        if cached is not None:
            self._done()
            return cached
        job = asyncio.ensure_future(asyncio.to_thread(draw))
        job.add_done_callback(functools.partial(self._drawn, key))
        return await asyncio.shield(job)

    def _drawn(self, key: str, job: asyncio.Future[bytes]) -> None:
        self._done()
        if not job.cancelled() and job.exception() is None:
            self.cache.put(key, job.result())

    def _done(self) -> None:
        self._slots.release()
        self.pending -= 1


def workshop(request: Request) -> PictureWorkshop:
    """The application's workshop, made on first use (on the running loop, which its semaphore belongs to)."""
    state = request.app.state
    found = getattr(state, WORKSHOP_STATE, None)
    if found is None:
        found = PictureWorkshop(PICTURE_CONCURRENCY, MAX_PICTURES_PENDING, PICTURE_CACHE_BYTES)
        setattr(state, WORKSHOP_STATE, found)
    return found


def width_param(request: Request, default: int, largest: int = MAX_WIDTH) -> int:
    text = request.query_params.get("width")
    if text is None:
        return default
    if not WIDTH_RE.match(text) or not MIN_WIDTH <= int(text) <= largest:
        raise InvalidRequest(
            f"width must be a whole number of pixels {MIN_WIDTH}..{largest}",
            [{"loc": ["query", "width"], "msg": text, "type": "range"}],
        )
    return int(text)


def time_param(request: Request, presentation: Presentation) -> Fraction:
    """`t` in decimal seconds, 0 <= t < the workout's duration."""
    text = request.query_params.get("t")
    duration = presentation.timeline.duration
    rule = f"t must be decimal seconds with 0 <= t < {float(duration):g}"
    if text is None or not DECIMAL_SECONDS_RE.match(text) or not Fraction(text) < duration:
        raise InvalidRequest(
            rule, [{"loc": ["query", "t"], "msg": "missing" if text is None else text, "type": "range"}]
        )
    return Fraction(text)


def etag_of(key: str) -> str:
    return f'"{key[:ETAG_HEX_DIGITS]}"'


async def picture_answer(request: Request, key: str, media_type: str, draw: Callable[[], bytes]) -> Response:
    """304 when the client holds this picture, else the picture, drawn only if it is not cached."""
    etag = etag_of(key)
    if etag_matches(request, etag):
        return not_modified(etag, SEGMENT_CACHE_CONTROL)
    data = await workshop(request).produce(key, draw)
    return Response(data, media_type=media_type, headers={"ETag": etag, "Cache-Control": SEGMENT_CACHE_CONTROL})


async def plan_presentation(request: Request) -> tuple[StreamingService, Presentation]:
    streaming = service(request)
    return streaming, await streaming.presentation(checked_plan_id(request))


async def still(
    request: Request, streaming: StreamingService, presentation: Presentation, frame: int, width: int
) -> Response:
    rendition = picture_rendition(presentation.renditions, width)
    height = picture_height(width, rendition)
    builder = streaming.spec_builder(presentation, rendition)
    key = picture_key(builder, [frame], "still", width, height, JPEG_QUALITY)
    draw = functools.partial(still_jpeg, builder, frame, streaming.engine.frames, width, height)
    return await picture_answer(request, key, JPEG_MIME, draw)


async def poster(request: Request) -> Response:
    streaming, presentation = await plan_presentation(request)
    width = width_param(request, DEFAULT_POSTER_WIDTH)
    return await still(request, streaming, presentation, poster_frame(presentation.timeline), width)


async def thumbnail(request: Request) -> Response:
    streaming, presentation = await plan_presentation(request)
    seconds = time_param(request, presentation)
    width = width_param(request, DEFAULT_THUMBNAIL_WIDTH)
    return await still(request, streaming, presentation, frame_at_time(seconds, presentation.timeline), width)


def storyboard_rendition(presentation: Presentation) -> Rendition:
    return picture_rendition(presentation.renditions, STORYBOARD_TILE_WIDTH)


def presentation_tiles(presentation: Presentation) -> tuple[Tile, ...]:
    """Where every storyboard tile goes: one per interval, as tall as the rendition's aspect makes it."""
    tile_height = picture_height(STORYBOARD_TILE_WIDTH, storyboard_rendition(presentation))
    return storyboard_tiles(
        presentation.timeline, STORYBOARD_INTERVAL_SECONDS, STORYBOARD_TILE_WIDTH, tile_height, STORYBOARD_COLUMNS
    )


def sprite_layout(builder: SpecBuilder) -> tuple[tuple[Tile, ...], str]:
    """The tiles and the sprite's key: a key per segment, a thread's work on a long plan, not the event loop's."""
    tiles = presentation_tiles(builder.presentation)
    geometry = (STORYBOARD_INTERVAL_SECONDS, STORYBOARD_TILE_WIDTH, STORYBOARD_COLUMNS, JPEG_QUALITY)
    return tiles, picture_key(builder, [tile.frame for tile in tiles], "storyboard", *geometry)


def track_text(presentation: Presentation) -> bytes:
    return storyboard_vtt(presentation_tiles(presentation), STORYBOARD_SPRITE, presentation.timeline.duration).encode()


async def storyboard_sprite(request: Request) -> Response:
    streaming, presentation = await plan_presentation(request)
    builder = streaming.spec_builder(presentation, storyboard_rendition(presentation))
    tiles, key = await asyncio.to_thread(sprite_layout, builder)
    draw = functools.partial(sprite_jpeg, builder, streaming.engine.frames, tiles)
    return await picture_answer(request, key, JPEG_MIME, draw)


async def storyboard_track(request: Request) -> Response:
    """The track is arithmetic on the timeline (no clip is read, nothing drawn); its ETag is its content's hash.

    Off the event loop all the same: a four-hour plan has 2880 cues.
    """
    _, presentation = await plan_presentation(request)
    body = sign_storyboard_for(request, (await asyncio.to_thread(track_text, presentation)).decode()).encode()
    etag = etag_of(hashlib.sha256(body).hexdigest())
    if etag_matches(request, etag):
        return not_modified(etag, SEGMENT_CACHE_CONTROL)
    return Response(body, media_type=VTT_MIME, headers={"ETag": etag, "Cache-Control": SEGMENT_CACHE_CONTROL})


async def exercise_thumbnail(request: Request) -> Response:
    """The catalogue card's picture: the exercise mid-movement, as the work screen shows the clip.

    No overlay: at card size the countdown and captions would be noise, and the
    page writes the name beside it. Only playable exercises (with a clip) have one.
    """
    streaming = service(request)
    exercise_id = request.path_params["exercise_id"]
    if exercise_id not in streaming.catalogue:
        raise NotFound(f"no exercise {exercise_id!r} with a clip")
    width = width_param(request, DEFAULT_THUMBNAIL_WIDTH, MAX_EXERCISE_THUMBNAIL_WIDTH)
    clip = streaming.clip_ref(exercise_id)  # ClipUnavailable when the file is gone
    rendition = picture_rendition(streaming.renditions, width)
    height = picture_height(width, rendition)
    frame = clip_middle_frame(clip)
    key = clip_still_key(clip, rendition, frame, width, height)
    draw = functools.partial(clip_still_jpeg, clip, rendition, frame, streaming.engine.frames, width, height)
    try:
        return await picture_answer(request, key, JPEG_MIME, draw)
    except (av.FFmpegError, ClipDecodeError, OSError) as error:
        raise ClipUnavailable(f"the clip of exercise {exercise_id!r} cannot be read: {error}") from error


PICTURE_ROUTES = [
    Route("/api/exercises/{exercise_id}/thumbnail.jpg", exercise_thumbnail, methods=["GET"]),
    Route("/hls/{plan_id}/poster.jpg", poster, methods=["GET"]),
    Route("/hls/{plan_id}/thumbnail.jpg", thumbnail, methods=["GET"]),
    Route("/hls/{plan_id}/storyboard.jpg", storyboard_sprite, methods=["GET"]),
    Route("/hls/{plan_id}/storyboard.vtt", storyboard_track, methods=["GET"]),
]
