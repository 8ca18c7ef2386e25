"""Exercise catalogue routes: browse for everyone, write with the admin token.

GET    /api/exercises?category=&difficulty=&no_jump=&q=&limit=&offset=
GET    /api/exercises/{id}
GET    /api/categories
POST   /api/exercises                 admin: create (409 if the id exists)
PUT    /api/exercises/{id}            admin: create or replace the fields, keeping the clip
DELETE /api/exercises/{id}            admin: 204; 409 while saved plans use it
PUT    /api/exercises/{id}/clip       admin: raw clip bytes, checked with PyAV before anything is stored
GET    /api/exercises/{id}/clip-url   a download URL for the original clip, valid for HLS_CLIP_URL_SECONDS
GET    /clips/{key}?expires=&signature=   the original clip, for the local clip store's signed URLs
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from assets.clip_storage import ClipStorageError, InvalidClipKey, LocalClipStorage
from assets.records import DIFFICULTIES, ExerciseInUse, ExerciseQuery
from assets.repository import MAX_PAGE_LIMIT
from assets.uploads import ClipRejected, UploadLimits, receive_upload, validate_clip
from server.auth import require_admin
from server.bodies import json_body
from server.config.settings import MIB, Settings
from server.errors import (
    ApiError,
    ClipUnavailable,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    field_error,
)
from server.exercises import ExerciseCatalogue, ExerciseExists, ExerciseNotFound, InvalidExercise, public_record

CLIP_SUFFIXES = {"video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm", "video/x-matroska": ".mkv"}
MAX_QUERY_TEXT = 100
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes"), ("0", "false", "no", "")


def catalogue(request: Request) -> ExerciseCatalogue:
    return request.app.state.exercises


def settings(request: Request) -> Settings:
    return request.app.state.settings


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        rule = f"{name} must be a whole number {low}..{high}"
        raise InvalidRequest(rule, [field_error(["query", name], rule, "range")])
    return int(text)


def exercise_query(request: Request) -> ExerciseQuery:
    params = request.query_params
    unknown = sorted(set(params) - {"category", "difficulty", "no_jump", "q", "limit", "offset"})
    if unknown:
        raise InvalidRequest(
            "unknown query parameters", [field_error(["query", n], "unknown", "extra_forbidden") for n in unknown]
        )
    difficulty = params.get("difficulty")
    if difficulty is not None and difficulty not in DIFFICULTIES:
        rule = f"difficulty must be one of {', '.join(DIFFICULTIES)}"
        raise InvalidRequest(rule, [field_error(["query", "difficulty"], rule, "enum")])
    no_jump = params.get("no_jump", "").lower()
    if no_jump not in TRUE_WORDS + FALSE_WORDS:
        rule = "no_jump must be true or false"
        raise InvalidRequest(rule, [field_error(["query", "no_jump"], rule, "bool_type")])
    text = params.get("q") or None
    if text is not None and len(text) > MAX_QUERY_TEXT:
        rule = f"q is at most {MAX_QUERY_TEXT} characters"
        raise InvalidRequest(rule, [field_error(["query", "q"], rule, "length")])
    return ExerciseQuery(
        category=params.get("category") or None,
        difficulty=difficulty,
        no_jump=no_jump in TRUE_WORDS,
        text=text,
        limit=_int(request, "limit", 20, 1, MAX_PAGE_LIMIT),
        offset=_int(request, "offset", 0, 0, 1_000_000),
    )


def _translated(error: Exception) -> ApiError:
    if isinstance(error, InvalidExercise):
        return InvalidRequest("the exercise is not valid", error.fields)
    if isinstance(error, ExerciseNotFound):
        return NotFound(str(error))
    if isinstance(error, (ExerciseExists, ExerciseInUse)):
        return Conflict(str(error))
    raise error


async def list_exercises(request: Request) -> Response:
    query = exercise_query(request)
    try:
        page = await catalogue(request).find(query)
    except InvalidExercise as error:
        raise _translated(error) from None
    following = query.offset + len(page.items)
    return JSONResponse(
        {
            "exercises": [public_record(record) for record in page.items],
            "total": page.total,
            "limit": query.limit,
            "offset": query.offset,
            "next_offset": following if following < page.total else None,
        }
    )


async def get_exercise(request: Request) -> Response:
    try:
        record = await catalogue(request).get(request.path_params["exercise_id"])
    except ExerciseNotFound as error:
        raise _translated(error) from None
    return JSONResponse(public_record(record))


async def list_categories(request: Request) -> Response:
    categories = await catalogue(request).repository.categories()
    return JSONResponse({"categories": [{"id": name, "exercises": count} for name, count in categories]})


async def create_exercise(request: Request) -> Response:
    require_admin(request, settings(request).admin_token)
    try:
        record = await catalogue(request).create(await json_body(request))
    except (InvalidExercise, ExerciseExists) as error:
        raise _translated(error) from None
    return JSONResponse(public_record(record), status_code=201)


async def replace_exercise(request: Request) -> Response:
    require_admin(request, settings(request).admin_token)
    try:
        record, created = await catalogue(request).replace(request.path_params["exercise_id"], await json_body(request))
    except InvalidExercise as error:
        raise _translated(error) from None
    return JSONResponse(public_record(record), status_code=201 if created else 200)


async def delete_exercise(request: Request) -> Response:
    require_admin(request, settings(request).admin_token)
    try:
        await catalogue(request).delete(request.path_params["exercise_id"])
    except (ExerciseNotFound, ExerciseInUse) as error:
        raise _translated(error) from None
    return Response(status_code=204)


async def upload_clip(request: Request) -> Response:
    """Stream the body to a temp file (413 past the limit), check it with PyAV, then store it."""
    require_admin(request, settings(request).admin_token)
    exercise_id = request.path_params["exercise_id"]
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    suffix = CLIP_SUFFIXES.get(media_type)
    if suffix is None:
        raise UnsupportedMediaType(f"send the clip as one of {', '.join(CLIP_SUFFIXES)} (got {media_type or 'none'})")
    limits = UploadLimits(max_bytes=settings(request).max_upload_mib * MIB)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise PayloadTooLarge(f"the clip is {declared} bytes; at most {limits.max_bytes} are allowed")
    exercises = catalogue(request)
    try:
        await exercises.get(exercise_id)
    except ExerciseNotFound as error:
        raise _translated(error) from None
    with tempfile.TemporaryDirectory(prefix="upload-", dir=settings(request).data_dir) as scratch:
        try:
            path = await receive_upload(request.stream(), Path(scratch), limits.max_bytes)
            probe = await asyncio.to_thread(validate_clip, path, limits)
        except ClipRejected as error:
            raise _rejection(error) from None
        try:
            record = await exercises.attach_clip(exercise_id, path, probe, suffix)
        except ClipStorageError as error:
            raise ClipUnavailable(f"the clip could not be stored: {error}") from None
    request.app.state.service.prepare_clip(exercise_id)
    return JSONResponse(public_record(record))


def _rejection(error: ClipRejected) -> ApiError:
    kinds = {413: PayloadTooLarge, 415: UnsupportedMediaType}
    api_error = kinds.get(error.status, InvalidRequest)(f"the clip was refused: {error.reason}")
    api_error.status_code = error.status
    return api_error


async def clip_url(request: Request) -> Response:
    try:
        record = await catalogue(request).get(request.path_params["exercise_id"])
    except ExerciseNotFound as error:
        raise _translated(error) from None
    if record.clip is None:
        raise NotFound(f"exercise {record.id!r} has no clip yet")
    lifetime = settings(request).clip_url_seconds
    try:
        url = await asyncio.to_thread(catalogue(request).storage.download_url, record.clip.key, lifetime)
    except ClipStorageError as error:
        raise ClipUnavailable(f"no download URL: {error}") from None
    if url.startswith("/"):  # the local store signs paths on this server
        url = str(request.base_url).rstrip("/") + url
    return JSONResponse({"url": url, "expires_in": lifetime, "version": record.clip.version})


async def serve_clip(request: Request) -> Response:
    """The local clip store's signed download URLs land here; 403 unless signed and unexpired."""
    storage = catalogue(request).storage
    if not isinstance(storage, LocalClipStorage):
        raise NotFound("clips are served by the object store's own URLs")
    key = request.path_params["key"]
    expires, signature = request.query_params.get("expires", ""), request.query_params.get("signature", "")
    try:
        valid = expires.isdigit() and storage.verify(key, int(expires), signature)
    except InvalidClipKey:
        valid = False
    if not valid:
        raise Forbidden("the clip URL is missing its signature, is wrongly signed or has expired")
    path = storage.local_path(key)
    return FileResponse(path, headers={"Cache-Control": "private, max-age=60"})


CATALOGUE_ROUTES = [
    Route("/api/exercises", list_exercises, methods=["GET"]),
    Route("/api/exercises", create_exercise, methods=["POST"]),
    Route("/api/categories", list_categories, methods=["GET"]),
    Route("/api/exercises/{exercise_id}", get_exercise, methods=["GET"]),
    Route("/api/exercises/{exercise_id}", replace_exercise, methods=["PUT"]),
    Route("/api/exercises/{exercise_id}", delete_exercise, methods=["DELETE"]),
    Route("/api/exercises/{exercise_id}/clip", upload_clip, methods=["PUT"]),
    Route("/api/exercises/{exercise_id}/clip-url", clip_url, methods=["GET"]),
    Route("/clips/{key:path}", serve_clip, methods=["GET"]),
]
