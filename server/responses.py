"""HLS responses: the MIME types, validators and cache headers an HLS origin sends,
so a CDN in front can cache, revalidate and serve byte ranges."""

from __future__ import annotations

import gzip
import hashlib
import re

from starlette.requests import Request
from starlette.responses import Response

PLAYLIST_MIME = "application/vnd.apple.mpegurl"
TS_SEGMENT_MIME = "video/mp2t"
MP4_SEGMENT_MIME = "video/mp4"
PLAYLIST_CACHE_CONTROL = "public, max-age=300"
SEGMENT_CACHE_CONTROL = "public, max-age=86400"
"""A day, not "immutable": replacing an exercise clip changes a segment's bytes (and ETag) at the same URL."""
GZIP_MIN_BYTES = 1024
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def etag_matches(request: Request, etag: str) -> bool:
    candidates = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    return etag in candidates or "*" in candidates


def not_modified(etag: str, cache_control: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})


def playlist_response(request: Request, text: str) -> Response:
    """A playlist, gzipped when the client accepts it and it is worth it (Apple HLS authoring 10.4)."""
    body = text.encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()[:32]
    gzipped = len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", "")
    # A different representation needs its own strong tag; a cache (a CDN, a browser) revalidates the
    # representation it holds with that tag, so the tag compared is the one this request would get.
    etag = f'"{digest}-gz"' if gzipped else f'"{digest}"'
    if etag_matches(request, etag):
        return not_modified(etag, PLAYLIST_CACHE_CONTROL)
    headers = {"Cache-Control": PLAYLIST_CACHE_CONTROL, "Vary": "Accept-Encoding", "ETag": etag}
    if gzipped:
        body = gzip.compress(body, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=PLAYLIST_MIME, headers=headers)


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single `bytes=` range, None if unsatisfiable or malformed."""
    match = RANGE_RE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first_text, last_text = match.groups()
    if first_text == "":  # suffix: the last N bytes
        length = int(last_text)
        return (max(0, size - length), size - 1) if length > 0 else None
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    return (first, last) if first <= last and first < size else None


def segment_response(request: Request, data: bytes, key: str, media_type: str = TS_SEGMENT_MIME) -> Response:
    """A media segment with a strong ETag (its content key); honours If-None-Match and Range."""
    etag = f'"{key[:32]}"'
    if etag_matches(request, etag):
        return not_modified(etag, SEGMENT_CACHE_CONTROL)
    headers = {"Cache-Control": SEGMENT_CACHE_CONTROL, "ETag": etag, "Accept-Ranges": "bytes"}
    requested = request.headers.get("range", "")
    if not RANGE_RE.match(requested.strip()) or request.headers.get("if-range") not in (None, etag):
        # no range, one we do not serve (several ranges, other units), or an outdated If-Range: whole body
        return Response(data, media_type=media_type, headers=headers)
    span = byte_range(requested, len(data))
    if span is None:
        headers["Content-Range"] = f"bytes */{len(data)}"
        return Response(status_code=416, headers=headers)
    first, last = span
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(data[first : last + 1], status_code=206, media_type=media_type, headers=headers)
