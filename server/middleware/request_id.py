"""Request ids and the access log.

Each request gets an id: the client's `X-Request-ID` when it is sane (1-128 of letters, digits and
`._:-`, so a log line can never be forged or bloated through it), else a fresh random one. The id is
put in `server.config.logs.REQUEST_ID`, so every log record made while handling the request carries it, and
is sent back as the `X-Request-ID` response header. When the answer is complete, one access line is
logged with method, route template, path (no query string: signed URLs carry tokens there), status,
duration, bytes sent and client address.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.config.logs import ACCESS_LOGGER, REQUEST_ID
from server.middleware.routes import route_template

HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
UNANSWERED_STATUS = 500

access_log = logging.getLogger(ACCESS_LOGGER)


def request_id_from(scope: Scope) -> str:
    """The client's id if it is sane, else a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if SANE_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, access_log_enabled: bool = True) -> None:
        self.app = app
        self.access_log_enabled = access_log_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope)
        # Not reset afterwards: the value lives in this request's own task context, and the server's
        # log of an unhandled error, written after this returns, should still carry it.
        REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status, sent = UNANSWERED_STATUS, 0

        async def send_with_id(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(HEADER, request_id)
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access_log_enabled:
                self._log(scope, status, sent, time.perf_counter() - started)

    @staticmethod
    def _log(scope: Scope, status: int, sent: int, seconds: float) -> None:
        method, path, route = scope["method"], scope["path"], route_template(scope)
        duration_ms = round(seconds * 1000, 2)
        client = scope.get("client")
        access_log.info(
            "%s %s %d %.2f ms %d B",
            method,
            path,
            status,
            duration_ms,
            sent,
            extra={
                "method": method,
                "route": route,
                "path": path,
                "status": status,
                "duration_ms": duration_ms,
                "bytes": sent,
                "client": client[0] if client else None,
            },
        )
