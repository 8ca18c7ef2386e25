"""Signed, expiring URLs for a plan's stream (optional: on when `HLS_URL_SIGNING_KEY` is set).

A token is `<expiry>.<mac>`: the expiry in Unix seconds and HMAC-SHA256(key, plan id + expiry),
truncated to `MAC_BYTES` and base64url-encoded without padding. It opens every URL under
`/hls/{plan_id}/` of that one plan until it expires; checking it needs no storage, so any node
holding the key verifies tokens made by any other.

Players only ever get the multivariant playlist's URL, so a token must travel to everything a
playlist names: `signed_playlist` appends it to every URI of a playlist served with a token (a
pure text rewrite, the same bytes for the same token), and `signed_storyboard_track` does the
same for the storyboard sprite named by the WebVTT track. `playlists/` stays unaware of tokens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from server.errors import ApiError, UrlTokenExpired, UrlTokenInvalid, UrlTokenMissing

TOKEN_PARAM = "token"
SIGNER_STATE = "url_signer"
MAC_BYTES = 16
"""128 bits of HMAC: far beyond guessing, and a token stays short (33 characters)."""
MAX_TOKEN_CHARS = 64
"""Longer query values are refused before any decoding."""
TOKEN_RE = re.compile(r"^([0-9]{1,12})\.([A-Za-z0-9_-]{1,43})$")
HLS_PATH_RE = re.compile(r"^/hls/([^/]+)/")
URI_ATTRIBUTE_RE = re.compile(r'URI="([^"]*)"')
VTT_CUE_URL_RE = re.compile(r"^([^#\s]+)(#.*)?$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class UrlSigner:
    """Makes and checks the tokens of one key; `clock` is injectable so tests can move time."""

    def __init__(self, key: bytes, ttl_seconds: int, clock: Callable[[], float] = time.time) -> None:
        if not key:
            raise ValueError("a URL signing key cannot be empty")
        self._key = key
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def _mac(self, plan_id: str, expiry: int) -> bytes:
        message = f"{plan_id}.{expiry}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()[:MAC_BYTES]

    def token(self, plan_id: str) -> str:
        """A fresh token for `plan_id`, valid for `ttl_seconds` from now."""
        expiry = int(self._clock()) + self.ttl_seconds
        return f"{expiry}.{_b64(self._mac(plan_id, expiry))}"

    def verify(self, plan_id: str, token: str | None) -> None:
        """Return if `token` opens `plan_id` now; raise UrlTokenMissing, UrlTokenInvalid or UrlTokenExpired."""
        if not token:
            raise UrlTokenMissing(f"this stream needs a signed URL: add ?{TOKEN_PARAM}= from the plan document")
        match = TOKEN_RE.match(token) if len(token) <= MAX_TOKEN_CHARS else None
        if match is None:
            raise UrlTokenInvalid("the URL token is malformed")
        expiry = int(match.group(1))
        try:
            offered = _unb64(match.group(2))
        except (binascii.Error, ValueError):
            raise UrlTokenInvalid("the URL token is malformed") from None
        if not hmac.compare_digest(offered, self._mac(plan_id, expiry)):
            raise UrlTokenInvalid("the URL token was not made for this plan or by this server")
        if expiry <= int(self._clock()):
            raise UrlTokenExpired("the URL token has expired: fetch the plan again for a fresh one")


def with_token(uri: str, token: str) -> str:
    """`uri` with the token added to its query (keeping any fragment at the end)."""
    path, hash_sign, fragment = uri.partition("#")
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}{TOKEN_PARAM}={token}{hash_sign}{fragment}"


def signed_playlist(text: str, token: str) -> str:
    """Every URI of an M3U8 playlist carrying `token`: URI lines and every URI="..." attribute."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("#"):
            line = URI_ATTRIBUTE_RE.sub(lambda m: f'URI="{with_token(m.group(1), token)}"', line)
        elif line.strip():
            line = with_token(line, token)
        lines.append(line)
    return "\n".join(lines)


def signed_storyboard_track(text: str, token: str) -> str:
    """The WebVTT storyboard with `token` on each cue's image URL (the line after a timing line)."""
    lines = text.split("\n")
    for number in range(1, len(lines)):
        if "-->" in lines[number - 1] and VTT_CUE_URL_RE.match(lines[number]):
            lines[number] = with_token(lines[number], token)
    return "\n".join(lines)


def query_token(query_string: bytes) -> str | None:
    """The first `token` value of a raw query string, percent-decoded."""
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name == TOKEN_PARAM:
            return value
    return None


class UrlTokenGuard:
    """ASGI middleware: every request under /hls/{plan_id}/ needs a valid token for that plan (403 JSON)."""

    def __init__(self, app: ASGIApp, signer: UrlSigner) -> None:
        self.app = app
        self.signer = signer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") != "OPTIONS":
            match = HLS_PATH_RE.match(scope["path"])
            if match is not None:
                try:
                    self.signer.verify(match.group(1), query_token(scope.get("query_string", b"")))
                except ApiError as error:
                    await _send_error(send, error)
                    return
        await self.app(scope, receive, send)


async def _send_error(send: Send, error: ApiError) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(name.lower().encode(), value.encode()) for name, value in (error.headers() or {}).items()]
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def request_signer(request: Request) -> UrlSigner | None:
    return getattr(request.app.state, SIGNER_STATE, None)


def request_token(request: Request) -> str | None:
    """The token this (already verified) stream request carries, None when signing is off."""
    if request_signer(request) is None:
        return None
    return request.query_params.get(TOKEN_PARAM)


def sign_playlist_for(request: Request, text: str) -> str:
    """The playlist as served for this request: with its token on every URI when it came with one."""
    token = request_token(request)
    return text if token is None else signed_playlist(text, token)


def sign_storyboard_for(request: Request, text: str) -> str:
    token = request_token(request)
    return text if token is None else signed_storyboard_track(text, token)


def url_signing_for(request: Request, plan_id: str) -> Callable[[str], str]:
    """What a plan document does to its stream URLs: add one fresh token for `plan_id` when signing is on."""
    signer = request_signer(request)
    if signer is None:
        return str
    token = signer.token(plan_id)
    return lambda url: with_token(url, token)
