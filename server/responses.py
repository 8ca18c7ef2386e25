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
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


def etag_matches(request: Request, etag: str) -> bool:
    candidates = [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]
    return etag in candidates or "*" in candidates


def not_modified(etag: str, cache_control: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})


def playlist_response(request: Request, text: str) -> Response:
    """A playlist, gzipped whenever the client accepts it, however short: Apple's HLS authoring 10.1 says
    playlists MUST be delivered with gzip content-encoding, with no size below which it may not be."""
    body = text.encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()[:32]
    zipped = "gzip" in request.headers.get("accept-encoding", "")
    etag = f'"{digest}-gz"' if zipped else f'"{digest}"'  # a different representation needs its own strong tag
    if etag_matches(request, etag):  # the tag of the representation this client would get
        return not_modified(etag, PLAYLIST_CACHE_CONTROL)
    headers = {"Cache-Control": PLAYLIST_CACHE_CONTROL, "Vary": "Accept-Encoding", "ETag": etag}
    if zipped:
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
