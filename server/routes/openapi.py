"""The OpenAPI 3.1 description of the public HTTP API, served at GET /openapi.json.

Request bodies come from the pydantic models themselves (`model_json_schema()`), so the bounds
a client reads are the bounds the server enforces. Paths come from the application's routes:
every `Route` appears, and one that `OPERATIONS` does not describe still gets its path
parameters and the error responses (so a new route is never silently missing, only terse).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from assets.records import CATEGORY_ID_PATTERN, DIFFICULTIES, EXERCISE_ID_PATTERN
from assets.repository import MAX_PAGE_LIMIT
from playlists.generator import GenerateRequest
from playlists.plan import PLAN_ID_HEX_DIGITS, Plan
from server.exercises import MAX_CATEGORIES, MAX_DESCRIPTION, MAX_NAME

OPENAPI_VERSION = "3.1.0"
API_TITLE = "Workout HLS streaming server"
API_VERSION = "1.0"
REF = "#/components/schemas/{model}"
PATH_CONVERTER_RE = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?}")
MAX_PICTURE_WIDTH, MIN_PICTURE_WIDTH = 1920, 64
MAX_QUERY_TEXT = 100
MAX_OFFSET = 1_000_000
MAX_INDEX = 100_000
"""A four-hour plan has about 3600 segments; larger indexes are simply 404."""
MAX_SECONDS_TEXT = 19
"""`t` of a thumbnail: up to 9 digits, a point and 9 decimals."""

JSON = "application/json"
PLAYLIST = "application/vnd.apple.mpegurl"


def ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def json_content(schema: dict) -> dict:
    return {JSON: {"schema": schema}}


def binary(media_type: str) -> dict:
    return {media_type: {"schema": {"type": "string", "format": "binary"}}}


def error(description: str) -> dict:
    return {"description": description, "content": json_content(ref("Error"))}


def path_param(name: str, schema: dict, description: str = "") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}


def query_param(name: str, schema: dict, description: str = "", required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


PLAN_ID = path_param("plan_id", {"type": "string", "pattern": f"^[0-9a-f]{{{PLAN_ID_HEX_DIGITS}}}$"}, "content hash")
RENDITION = path_param("rendition", {"type": "string", "maxLength": 16}, "e.g. 720p")
INDEX = path_param("index", {"type": "integer", "minimum": 0, "maximum": MAX_INDEX}, "segment number")
EXERCISE_ID = path_param("exercise_id", {"type": "string", "pattern": EXERCISE_ID_PATTERN})
TOKEN = query_param("token", {"type": "string", "maxLength": 64}, "signed URL token (when HLS_URL_SIGNING_KEY is set)")
WIDTH = query_param("width", {"type": "integer", "minimum": MIN_PICTURE_WIDTH, "maximum": MAX_PICTURE_WIDTH})
ADMIN = [{"adminToken": []}]

NOT_FOUND = {"404": error("no such resource")}
STREAM_ERRORS = {
    "403": error("signed URLs are on and the token is missing, invalid or expired"),
    "404": error("no such plan, rendition or segment"),
    "503": error("overloaded (Retry-After) or a clip is unavailable"),
}
BODY_ERRORS = {
    "400": error("the body is not JSON"),
    "413": error("the body is over 64 KB"),
    "422": error("a field breaks a rule: `fields` names each field and rule"),
}
ADMIN_ERRORS = {"401": error("no bearer token"), "403": error("wrong admin token, or writes are disabled")}
RATE_LIMITED = {"429": error("too many requests from this client (Retry-After)")}


def ok(description: str, content: dict | None = None) -> dict:
    response: dict = {"description": description}
    if content is not None:
        response["content"] = content
    return response


def stream(summary: str, media_type: str, parameters: list[dict]) -> dict:
    return {
        "summary": summary,
        "parameters": [*parameters, TOKEN],
        "responses": {"200": ok(summary, binary(media_type)), "304": ok("not modified"), **STREAM_ERRORS},
    }


def ranged(operation: dict) -> dict:
    """Segments also answer byte ranges."""
    operation["responses"] |= {"206": ok("partial content"), "416": ok("range not satisfiable")}
    return operation


PLAN_DOCUMENT_RESPONSES = {"200": ok("known plan", json_content(ref("PlanDocument")))}

OPERATIONS: dict[tuple[str, str], dict] = {
    ("get", "/health"): {
        "summary": "liveness and warming progress",
        "responses": {"200": ok("alive", json_content({"type": "object"}))},
    },
    ("get", "/ready"): {
        "summary": "readiness: database, clip storage and catalogue reachable",
        "responses": {
            "200": ok("ready", json_content({"type": "object"})),
            "503": ok("not ready, with each failing check", json_content({"type": "object"})),
        },
    },
    ("get", "/metrics"): {
        "summary": "Prometheus metrics",
        "responses": {"200": ok("Prometheus text format", {"text/plain": {"schema": {"type": "string"}}})},
    },
    ("get", "/static/{name}"): {
        "summary": "the web page's script and style sheet",
        "parameters": [
            {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 64}}
        ],
        "responses": {"200": ok("file", {"*/*": {"schema": {"type": "string"}}}), **NOT_FOUND},
    },
    ("get", "/openapi.json"): {
        "summary": "this document",
        "responses": {"200": ok("OpenAPI 3.1", json_content({"type": "object"}))},
    },
    ("get", "/api/music"): {
        "summary": "background music tracks",
        "responses": {"200": ok("tracks", json_content({"type": "object"}))},
    },
    ("post", "/api/plans"): {
        "summary": "store a plan (idempotent: its id is its content hash)",
        "requestBody": {"required": True, "content": json_content(ref("Plan"))},
        "responses": {
            "201": ok("new plan", json_content(ref("PlanDocument"))),
            **PLAN_DOCUMENT_RESPONSES,
            **BODY_ERRORS,
            **RATE_LIMITED,
        },
    },
    ("get", "/api/plans/{plan_id}"): {
        "summary": "a stored plan",
        "parameters": [PLAN_ID],
        "responses": {**PLAN_DOCUMENT_RESPONSES, **NOT_FOUND},
    },
    ("get", "/api/workouts/{plan_id}"): {
        "summary": "a stored plan with its timeline summary",
        "parameters": [PLAN_ID],
        "responses": {**PLAN_DOCUMENT_RESPONSES, **NOT_FOUND},
    },
    ("post", "/api/generate-training"): {
        "summary": "generate and store a plan from a request",
        "requestBody": {"required": True, "content": json_content(ref("GenerateRequest"))},
        "responses": {
            "201": ok("new plan", json_content(ref("PlanDocument"))),
            **PLAN_DOCUMENT_RESPONSES,
            **BODY_ERRORS,
            **RATE_LIMITED,
        },
    },
    ("get", "/api/exercises"): {
        "summary": "browse the catalogue",
        "parameters": [
            query_param("category", {"type": "string", "pattern": CATEGORY_ID_PATTERN}),
            query_param("difficulty", {"type": "string", "enum": list(DIFFICULTIES)}),
            query_param("no_jump", {"type": "string", "enum": ["1", "true", "yes", "0", "false", "no", ""]}),
            query_param("q", {"type": "string", "maxLength": MAX_QUERY_TEXT}),
            query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_LIMIT}),
            query_param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}),
        ],
        "responses": {
            "200": ok("a page of exercises", json_content({"type": "object"})),
            "422": error("a bad parameter"),
        },
    },
    ("post", "/api/exercises"): {
        "summary": "create an exercise (admin)",
        "security": ADMIN,
        "requestBody": {"required": True, "content": json_content(ref("ExerciseFields"))},
        "responses": {
            "201": ok("created", json_content(ref("Exercise"))),
            "409": error("the id exists"),
            **BODY_ERRORS,
            **ADMIN_ERRORS,
        },
    },
    ("get", "/api/categories"): {
        "summary": "categories and their sizes",
        "responses": {"200": ok("categories", json_content({"type": "object"}))},
    },
    ("get", "/api/exercises/{exercise_id}"): {
        "summary": "one exercise",
        "parameters": [EXERCISE_ID],
        "responses": {"200": ok("the exercise", json_content(ref("Exercise"))), **NOT_FOUND},
    },
    ("put", "/api/exercises/{exercise_id}"): {
        "summary": "create or replace an exercise's fields (admin)",
        "security": ADMIN,
        "parameters": [EXERCISE_ID],
        "requestBody": {"required": True, "content": json_content(ref("ExerciseFields"))},
        "responses": {
            "200": ok("replaced", json_content(ref("Exercise"))),
            "201": ok("created", json_content(ref("Exercise"))),
            **BODY_ERRORS,
            **ADMIN_ERRORS,
        },
    },
    ("delete", "/api/exercises/{exercise_id}"): {
        "summary": "delete an exercise no plan uses (admin)",
        "security": ADMIN,
        "parameters": [EXERCISE_ID],
        "responses": {"204": ok("deleted"), "409": error("plans use it"), **NOT_FOUND, **ADMIN_ERRORS},
    },
    ("put", "/api/exercises/{exercise_id}/clip"): {
        "summary": "upload an exercise's clip (admin; checked with PyAV before it is stored)",
        "security": ADMIN,
        "parameters": [EXERCISE_ID],
        "requestBody": {
            "required": True,
            "content": {
                t: {"schema": {"type": "string", "format": "binary"}}
                for t in ("video/mp4", "video/quicktime", "video/webm", "video/x-matroska")
            },
        },
        "responses": {
            "200": ok("stored", json_content(ref("Exercise"))),
            "413": error("over the upload limit"),
            "415": error("not a supported video type"),
            "422": error("not a usable clip"),
            "503": error("storage unavailable"),
            **NOT_FOUND,
            **ADMIN_ERRORS,
        },
    },
    ("get", "/api/exercises/{exercise_id}/clip-url"): {
        "summary": "a download URL for the original clip",
        "parameters": [EXERCISE_ID],
        "responses": {
            "200": ok("URL", json_content({"type": "object"})),
            "503": error("storage unavailable"),
            **NOT_FOUND,
        },
    },
    ("get", "/api/exercises/{exercise_id}/thumbnail.jpg"): {
        "summary": "a still of the exercise's clip",
        "parameters": [EXERCISE_ID, WIDTH],
        "responses": {
            "200": ok("JPEG", binary("image/jpeg")),
            "304": ok("not modified"),
            "422": error("bad width"),
            "503": error("busy or clip unavailable"),
            **NOT_FOUND,
        },
    },
    ("get", "/clips/{key}"): {
        "summary": "an original clip, through a signed URL from clip-url",
        "parameters": [
            path_param("key", {"type": "string", "maxLength": 256}),
            query_param("expires", {"type": "integer", "minimum": 0}),
            query_param("signature", {"type": "string", "maxLength": 128}),
        ],
        "responses": {
            "200": ok("the clip", binary("application/octet-stream")),
            "403": error("unsigned, wrongly signed or expired"),
            **NOT_FOUND,
        },
    },
    ("get", "/"): {
        "summary": "the web page",
        "responses": {"200": ok("HTML", {"text/html": {"schema": {"type": "string"}}})},
    },
    ("get", "/vendor/hls.min.js"): {
        "summary": "hls.js for the web page",
        "responses": {"200": ok("JavaScript", {"text/javascript": {"schema": {"type": "string"}}}), **NOT_FOUND},
    },
    ("get", "/hls/{plan_id}/master.m3u8"): stream("MPEG-TS multivariant playlist", PLAYLIST, [PLAN_ID]),
    ("get", "/hls/{plan_id}/fmp4/master.m3u8"): stream("fMP4 multivariant playlist", PLAYLIST, [PLAN_ID]),
    ("get", "/hls/{plan_id}/fmp4/{rendition}/index.m3u8"): stream(
        "fMP4 media playlist", PLAYLIST, [PLAN_ID, RENDITION]
    ),
    ("get", "/hls/{plan_id}/fmp4/{rendition}/init.mp4"): stream("fMP4 init segment", "video/mp4", [PLAN_ID, RENDITION]),
    ("get", "/hls/{plan_id}/fmp4/{rendition}/{index}.m4s"): ranged(
        stream("fMP4 media segment", "video/mp4", [PLAN_ID, RENDITION, INDEX])
    ),
    ("get", "/hls/{plan_id}/fmp4/{rendition}/iframes.m3u8"): stream(
        "fMP4 I-frame playlist", PLAYLIST, [PLAN_ID, RENDITION]
    ),
    ("get", "/hls/{plan_id}/fmp4/{rendition}/iframe/init.mp4"): stream(
        "fMP4 I-frame init segment (video only)", "video/mp4", [PLAN_ID, RENDITION]
    ),
    ("get", "/hls/{plan_id}/fmp4/{rendition}/iframe/{index}.m4s"): ranged(
        stream("a segment's keyframe alone, fMP4", "video/mp4", [PLAN_ID, RENDITION, INDEX])
    ),
    ("get", "/hls/{plan_id}/{rendition}/index.m3u8"): stream("MPEG-TS media playlist", PLAYLIST, [PLAN_ID, RENDITION]),
    ("get", "/hls/{plan_id}/{rendition}/{index}.ts"): ranged(
        stream("MPEG-TS media segment", "video/mp2t", [PLAN_ID, RENDITION, INDEX])
    ),
    ("get", "/hls/{plan_id}/{rendition}/iframes.m3u8"): stream("I-frame playlist", PLAYLIST, [PLAN_ID, RENDITION]),
    ("get", "/hls/{plan_id}/{rendition}/iframe/{index}.ts"): ranged(
        stream("a segment's keyframe alone", "video/mp2t", [PLAN_ID, RENDITION, INDEX])
    ),
    ("get", "/hls/{plan_id}/poster.jpg"): stream("poster", "image/jpeg", [PLAN_ID, WIDTH]),
    ("get", "/hls/{plan_id}/thumbnail.jpg"): stream(
        "the frame at t seconds",
        "image/jpeg",
        [
            PLAN_ID,
            query_param("t", {"type": "string", "pattern": r"^[0-9]{1,9}(\.[0-9]{1,9})?$"}, "seconds", True),
            WIDTH,
        ],
    ),
    ("get", "/hls/{plan_id}/storyboard.jpg"): stream("storyboard sprite", "image/jpeg", [PLAN_ID]),
    ("get", "/hls/{plan_id}/storyboard.vtt"): stream("storyboard WebVTT track", "text/vtt", [PLAN_ID]),
}
"""Every documented operation, keyed by (method, OpenAPI path)."""

for _path in ("/hls/{plan_id}/poster.jpg", "/hls/{plan_id}/thumbnail.jpg", "/hls/{plan_id}/storyboard.jpg"):
    OPERATIONS[("get", _path)]["responses"] |= {"422": error("a bad query parameter")}
OPERATIONS[("get", "/hls/{plan_id}/thumbnail.jpg")]["responses"]["422"] = error("t or width breaks its rule")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "a stable code, e.g. invalid_plan"},
        "detail": {"type": "string"},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}
EXERCISE_FIELDS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "difficulty", "jump", "categories"],
    "properties": {
        "id": {"type": "string", "pattern": EXERCISE_ID_PATTERN},
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
        "name_fr": {
            "type": ["string", "null"],
            "minLength": 1,
            "maxLength": MAX_NAME,
            "description": "the name French plans draw (null or absent: they draw `name`)",
        },
        "difficulty": {"type": "string", "enum": list(DIFFICULTIES)},
        "jump": {"type": "boolean"},
        "categories": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_CATEGORIES,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": CATEGORY_ID_PATTERN},
        },
        "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
    },
}
EXERCISE_SCHEMA = {
    "type": "object",
    "required": ["id", "name", "difficulty", "jump", "categories", "playable"],
    "properties": {
        **EXERCISE_FIELDS_SCHEMA["properties"],
        "playable": {"type": "boolean"},
        "clip": {"type": ["object", "null"]},
    },
}
PLAN_DOCUMENT_SCHEMA = {
    "type": "object",
    "required": [
        "id",
        "plan",
        "duration_seconds",
        "segment_count",
        "playlist_url",
        "fmp4_playlist_url",
        "media_playlist_urls",
    ],
    "properties": {
        "id": {"type": "string"},
        "plan": {"type": "object"},
        "duration_seconds": {"type": "number"},
        "segment_count": {"type": "integer"},
        "playlist_url": {"type": "string"},
        "fmp4_playlist_url": {"type": "string"},
        "media_playlist_urls": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def openapi_path(route_path: str) -> str:
    """Starlette's `{index:int}` is OpenAPI's `{index}`."""
    return PATH_CONVERTER_RE.sub(r"{\1}", route_path)


def fallback_operation(path: str) -> dict:
    names = re.findall(r"{([^}]+)}", path)
    return {
        "summary": "(not described yet)",
        "parameters": [path_param(name, {"type": "string"}) for name in names],
        "responses": {"200": ok("success"), "default": error("an error")},
    }


def model_schemas() -> dict[str, dict]:
    """The pydantic models' JSON schemas, their nested definitions lifted into components."""
    schemas: dict[str, dict] = {}
    for model in (Plan, GenerateRequest):
        schema = model.model_json_schema(ref_template=REF)
        schemas |= schema.pop("$defs", {})
        schemas[model.__name__] = schema
    return schemas


def build_openapi(routes: list[BaseRoute]) -> dict[str, Any]:
    """The document for these routes (every `Route`, in order; HEAD is implied by GET)."""
    paths: dict[str, dict] = {}
    for route in routes:
        if not isinstance(route, Route):
            continue
        path = openapi_path(route.path)
        for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
            key = (method.lower(), path)
            paths.setdefault(path, {})[key[0]] = OPERATIONS.get(key) or fallback_operation(path)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": API_TITLE, "version": API_VERSION},
        "paths": paths,
        "components": {
            "schemas": {
                **model_schemas(),
                "Error": ERROR_SCHEMA,
                "ExerciseFields": EXERCISE_FIELDS_SCHEMA,
                "Exercise": EXERCISE_SCHEMA,
                "PlanDocument": PLAN_DOCUMENT_SCHEMA,
            },
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }


async def openapi_document(request: Request) -> Response:
    return JSONResponse(build_openapi(request.app.routes))


OPENAPI_ROUTES = [Route("/openapi.json", openapi_document, methods=["GET"])]
