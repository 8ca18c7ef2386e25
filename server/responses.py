"""HLS responses: the MIME types and cache headers an HLS origin sends."""

from __future__ import annotations

import gzip

from starlette.requests import Request
from starlette.responses import Response

PLAYLIST_MIME = "application/vnd.apple.mpegurl"
TS_SEGMENT_MIME = "video/mp2t"
PLAYLIST_CACHE_CONTROL = "public, max-age=300"
SEGMENT_CACHE_CONTROL = "public, max-age=86400"
GZIP_MIN_BYTES = 1024


def playlist_response(request: Request, text: str) -> Response:
    """A playlist, gzipped when the client accepts it and it is worth it (Apple HLS authoring 10.4)."""
    body = text.encode("utf-8")
    headers = {"Cache-Control": PLAYLIST_CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        body = gzip.compress(body, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=PLAYLIST_MIME, headers=headers)


def segment_response(data: bytes) -> Response:
    return Response(data, media_type=TS_SEGMENT_MIME, headers={"Cache-Control": SEGMENT_CACHE_CONTROL})
