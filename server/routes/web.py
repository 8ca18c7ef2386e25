"""The web player page and its files, with the security headers a page needs.

GET /                    the page (server/web/index.html)
GET /static/{name}       app.js and style.css, from a fixed allow-list (no path is ever joined from the URL)
GET /vendor/hls.min.js   hls.js from node_modules (HLS_HLSJS_PATH); 404 JSON while it is missing, and the
                         page then falls back to the browser's own HLS or explains how to install it

Every answer carries a strong ETag (the content's hash) and `Cache-Control: no-cache`: the URLs carry no
version, so a browser revalidates each load (a 304, no body) and never runs an old app.js with a new page.
Text is gzipped for clients that accept it. The Content-Security-Policy allows only this origin: scripts
from files here (no inline script), media from here or `blob:` (MediaSource), hls.js's worker from `blob:`.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from server.config.settings import Settings
from server.errors import NotFound
from server.responses import etag_matches

WEB_DIR = Path(__file__).parents[1] / "web"
PAGE_FILE = "index.html"
HTML_MIME = "text/html; charset=utf-8"
STATIC_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
"""Everything /static/ serves: a name not listed here is a 404, whatever it contains."""
JS_MIME = STATIC_FILES["app.js"]
WEB_CACHE_CONTROL = "no-cache"
ETAG_HEX_DIGITS = 32
GZIP_MIN_BYTES = 1024

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "worker-src 'self' blob:",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class WebFile:
    """A file's bytes as served: plain and gzipped, each with its own strong ETag."""

    body: bytes
    etag: str
    gzipped: bytes
    gzip_etag: str


@functools.lru_cache(maxsize=16)
def _load(path: str, size: int, mtime_ns: int) -> WebFile:
    """Read, hash and gzip once per file version (size and mtime are part of the cache key)."""
    body = Path(path).read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:ETAG_HEX_DIGITS]
    return WebFile(body, f'"{digest}"', gzip.compress(body, mtime=0), f'"{digest}-gz"')


def web_file(path: Path) -> WebFile:
    """The file as served; OSError when it is missing."""
    stat = path.stat()
    return _load(str(path), stat.st_size, stat.st_mtime_ns)


def file_response(request: Request, path: Path, media_type: str) -> Response:
    """200 with the file (gzipped if accepted and worth it), or 304 when the client holds this version."""
    try:
        served = web_file(path)
    except FileNotFoundError:
        raise NotFound(f"{path.name} is not installed on this server") from None
    use_gzip = len(served.body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", "")
    etag = served.gzip_etag if use_gzip else served.etag
    headers = {**SECURITY_HEADERS, "ETag": etag, "Cache-Control": WEB_CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    return Response(served.gzipped if use_gzip else served.body, media_type=media_type, headers=headers)


async def page(request: Request) -> Response:
    return file_response(request, WEB_DIR / PAGE_FILE, HTML_MIME)


async def static_file(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise NotFound(f"no static file {name!r}")
    return file_response(request, WEB_DIR / name, media_type)


async def hlsjs(request: Request) -> Response:
    """hls.js as npm installed it. Missing: 404, so the page knows to fall back (see the module docstring)."""
    settings: Settings = request.app.state.settings
    try:
        return file_response(request, settings.hlsjs_path, JS_MIME)
    except NotFound:
        raise NotFound(
            "hls.js is not installed on this server: run `npm ci --omit=dev` at the repository root "
            "or set HLS_HLSJS_PATH"
        ) from None


WEB_ROUTES = [
    Route("/", page, methods=["GET"]),
    Route("/static/{name}", static_file, methods=["GET"]),
    Route("/vendor/hls.min.js", hlsjs, methods=["GET"]),
]
