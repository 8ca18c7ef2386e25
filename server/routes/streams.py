"""HTTP routes. URL scheme:

GET  /health
GET  /api/music
POST /api/plans                              -> 201 new / 200 known, {id, urls...}
GET  /api/plans/{plan_id}
GET  /hls/{plan_id}/master.m3u8               multivariant playlist
GET  /hls/{plan_id}/{rendition}/index.m3u8    media playlist
GET  /hls/{plan_id}/{rendition}/{index}.ts    media segment, rendered on request
GET  /hls/{plan_id}/{rendition}/iframes.m3u8  I-frame playlist (trick play)
GET  /hls/{plan_id}/fmp4/master.m3u8          the same presentation as fMP4/CMAF: master, then
GET  /hls/{plan_id}/fmp4/{rendition}/index.m3u8, init.mp4 (EXT-X-MAP), {index}.m4s
GET  /hls/{plan_id}/{rendition}/iframe/{index}.ts  segment `index`'s keyframe alone

The catalogue's routes are in `server.routes.catalogue`, workouts in `server.routes.workouts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from dataclasses import asdict

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from playlists.plan import PLAN_ID_HEX_DIGITS, Plan
from playlists.presentation import FMP4, TS, Presentation
from server.bodies import json_body
from server.errors import InvalidPlan, NotFound
from server.middleware.rate_limit import enforce_rate_limit
from server.middleware.signing import sign_playlist_for, url_signing_for
from server.responses import MP4_SEGMENT_MIME, TS_SEGMENT_MIME, segment_response
from server.responses import playlist_response as unsigned_playlist_response
from server.streaming import StreamingService

PLAN_ID_RE = re.compile(rf"^[0-9a-f]{{{PLAN_ID_HEX_DIGITS}}}$")
DISCONNECT_POLL_SECONDS = 0.2
CLIENT_CLOSED_REQUEST = 499
"""nginx's status for a client that went away: logged, never seen by anyone."""


def playlist_response(request: Request, text: str) -> Response:
    """A playlist as this request may see it: with its URL token carried to every URI when signing is on."""
    return unsigned_playlist_response(request, sign_playlist_for(request, text))


def service(request: Request) -> StreamingService:
    return request.app.state.service


def checked_plan_id(request: Request) -> str:
    identifier = request.path_params["plan_id"]
    if not PLAN_ID_RE.match(identifier):
        raise NotFound(f"no plan with id {identifier!r}")
    return identifier


def validation_fields(error: ValidationError) -> list[dict]:
    """Pydantic's errors, trimmed to what a client needs: where and why."""
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]


def plan_document(request: Request, identifier: str, presentation: Presentation) -> dict:
    signed = url_signing_for(request, identifier)
    multivariant = signed(str(request.url_for("multivariant_playlist", plan_id=identifier)))
    fmp4 = signed(str(request.url_for("fmp4_multivariant_playlist", plan_id=identifier)))
    media = {
        r.name: signed(str(request.url_for("media_playlist", plan_id=identifier, rendition=r.name)))
        for r in presentation.renditions
    }
    return {
        "id": identifier,
        "plan": presentation.plan.model_dump(mode="json"),
        "duration_seconds": float(presentation.timeline.duration),
        "segment_count": len(presentation.segments),
        "playlist_url": multivariant,
        "fmp4_playlist_url": fmp4,
        "media_playlist_urls": media,
    }


async def health(request: Request) -> Response:
    """Alive, plus start-up warming progress and render counts (until /metrics exists)."""
    streaming = service(request)
    prepared, total = streaming.clips_prepared()
    engine = streaming.engine
    progress = engine.preparation()
    body = {
        "status": "ok",
        "clips_prepared": prepared,
        "clips_total": total,
        "preparation": {
            "pending": progress.pending,
            "prepared": progress.prepared,
            "failed": progress.failed,
            "skipped": progress.skipped,
        },
        "segments_rendered": engine.rendered,
        "renders_cancelled": engine.pool.cancelled,
        "render_workers": engine.pool.workers,
        "render_processes": engine.pool.worker_pids(),
        "render_workers_replaced": engine.pool.replaced,
        "renders_running": engine.pool.running(),
        "renders_overrunning": engine.pool.overrunning(engine.render_timeout),
        "render_retries": engine.render_retries,
        "render_timeouts": engine.render_timeouts,
        "clips_broken": sorted(streaming.exercises.broken_clips),
        "segment_cache": {"bytes": engine.segments.nbytes, "budget": engine.segments.budget},
        "frame_store": {
            "bytes": engine.frames.nbytes,
            "budget": engine.frames.budget,
            "files": engine.frames.prepared,
        },
    }
    if engine.flight is not None:
        body["shared_store"] = engine.flight.shared.counters()
        body["cluster_renders"] = {**asdict(engine.flight.counts()), "leases": engine.flight.leases is not None}
    return JSONResponse(body)


async def list_music(request: Request) -> Response:
    tracks = [track.public() for track in service(request).catalogue.music.values()]
    return JSONResponse({"music": tracks})


async def create_plan(request: Request) -> Response:
    enforce_rate_limit(request)
    document = await json_body(request)
    try:
        plan = Plan.model_validate(document)
    except ValidationError as error:
        raise InvalidPlan("the plan is not valid", validation_fields(error)) from None
    streaming = service(request)
    identifier, created = await streaming.create_plan(plan)
    presentation = await streaming.presentation(identifier)
    return JSONResponse(plan_document(request, identifier, presentation), status_code=201 if created else 200)


async def get_plan(request: Request) -> Response:
    identifier = checked_plan_id(request)
    presentation = await service(request).presentation(identifier)
    return JSONResponse(plan_document(request, identifier, presentation))


async def multivariant_playlist(request: Request) -> Response:
    text = await service(request).multivariant_playlist(checked_plan_id(request))
    return playlist_response(request, text)


async def media_playlist(request: Request) -> Response:
    text = await service(request).media_playlist(checked_plan_id(request), request.path_params["rendition"])
    return playlist_response(request, text)


async def iframe_playlist(request: Request) -> Response:
    text = await service(request).iframe_playlist(checked_plan_id(request), request.path_params["rendition"])
    return playlist_response(request, text)


async def iframe(request: Request) -> Response:
    streaming = service(request)
    data, key = await streaming.iframe(
        checked_plan_id(request), request.path_params["rendition"], request.path_params["index"]
    )
    return segment_response(request, data, key)


async def media_segment(request: Request) -> Response:
    return await serve_segment(request, TS)


async def fmp4_media_segment(request: Request) -> Response:
    return await serve_segment(request, FMP4)


async def serve_segment(request: Request, container: str) -> Response:
    """Waits for the segment, but stops waiting if the player hangs up, so a render
    nobody wants any more can be dropped from the queue."""
    identifier, rendition, index = (
        checked_plan_id(request),
        request.path_params["rendition"],
        request.path_params["index"],
    )
    media_type = MP4_SEGMENT_MIME if container == FMP4 else TS_SEGMENT_MIME
    hit = service(request).cached_segment(identifier, rendition, index, container)
    if hit is not None:
        return segment_response(request, *hit, media_type)
    waiting = asyncio.ensure_future(service(request).segment(identifier, rendition, index, container))
    while not waiting.done():
        await asyncio.wait({waiting}, timeout=DISCONNECT_POLL_SECONDS)
        if not waiting.done() and await request.is_disconnected():
            waiting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await waiting
            return Response(status_code=CLIENT_CLOSED_REQUEST)
    data, key = waiting.result()
    return segment_response(request, data, key, media_type)


async def fmp4_multivariant_playlist(request: Request) -> Response:
    text = await service(request).multivariant_playlist(checked_plan_id(request), FMP4)
    return playlist_response(request, text)


async def fmp4_media_playlist(request: Request) -> Response:
    text = await service(request).media_playlist(checked_plan_id(request), request.path_params["rendition"], FMP4)
    return playlist_response(request, text)


async def fmp4_init(request: Request) -> Response:
    data = await service(request).init_segment(checked_plan_id(request), request.path_params["rendition"])
    return segment_response(request, data, hashlib.sha256(data).hexdigest(), MP4_SEGMENT_MIME)


ROUTES = [
    Route("/health", health, methods=["GET"]),
    Route("/api/music", list_music, methods=["GET"]),
    Route("/api/plans", create_plan, methods=["POST"]),
    Route("/api/plans/{plan_id}", get_plan, methods=["GET"]),
    Route("/hls/{plan_id}/master.m3u8", multivariant_playlist, methods=["GET"]),
    Route("/hls/{plan_id}/fmp4/master.m3u8", fmp4_multivariant_playlist, methods=["GET"]),
    Route("/hls/{plan_id}/fmp4/{rendition}/index.m3u8", fmp4_media_playlist, methods=["GET"]),
    Route("/hls/{plan_id}/fmp4/{rendition}/init.mp4", fmp4_init, methods=["GET"]),
    Route("/hls/{plan_id}/fmp4/{rendition}/{index:int}.m4s", fmp4_media_segment, methods=["GET"]),
    Route("/hls/{plan_id}/{rendition}/index.m3u8", media_playlist, methods=["GET"]),
    Route("/hls/{plan_id}/{rendition}/{index:int}.ts", media_segment, methods=["GET"]),
    Route("/hls/{plan_id}/{rendition}/iframes.m3u8", iframe_playlist, methods=["GET"]),
    Route("/hls/{plan_id}/{rendition}/iframe/{index:int}.ts", iframe, methods=["GET"]),
]
