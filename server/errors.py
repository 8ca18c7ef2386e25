"""Specific exceptions and the JSON answers they become.

Every error body has the same shape: {"error": <code>, "detail": <what is wrong>}
plus, for validation errors, the list of offending fields.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from assets.repository import RepositoryUnavailable


def field_error(loc: list, msg: str, rule: str) -> dict:
    """One entry of `fields`: where (`loc`), what is wrong (`msg`) and the rule broken (`type`)."""
    return {"loc": loc, "msg": msg, "type": rule}


class ApiError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, detail: str, fields: list[dict] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = fields

    def headers(self) -> dict[str, str] | None:
        return None

    def body(self) -> dict:
        body: dict = {"error": self.code, "detail": self.detail}
        if self.fields is not None:
            body["fields"] = self.fields
        return body


class MalformedJson(ApiError):
    status_code = 400
    code = "malformed_json"


class NotFound(ApiError):
    status_code = 404
    code = "not_found"


class Unauthorized(ApiError):
    """No credentials where credentials are needed."""

    status_code = 401
    code = "unauthorized"

    def headers(self) -> dict[str, str] | None:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(ApiError):
    status_code = 403
    code = "forbidden"


class AdminDisabled(Forbidden):
    code = "admin_disabled"


class UrlTokenMissing(Forbidden):
    """A signed stream was asked for without `?token=`."""

    code = "url_token_missing"


class UrlTokenInvalid(Forbidden):
    """The token is malformed, or was made for another plan or with another key."""

    code = "url_token_invalid"


class UrlTokenExpired(Forbidden):
    code = "url_token_expired"


class RateLimited(ApiError):
    """Too many requests from one client; `Retry-After` says when the next one will be accepted."""

    status_code = 429
    code = "rate_limited"

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_seconds)}


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


class InvalidRequest(ApiError):
    """A well-formed request whose values break a rule (field and rule named in `fields`)."""

    status_code = 422
    code = "invalid_request"


class InvalidPlan(ApiError):
    status_code = 422
    code = "invalid_plan"


class UnsupportedMediaType(ApiError):
    status_code = 415
    code = "unsupported_media_type"


class ClipUnavailable(ApiError):
    """An exercise clip cannot be read: the server cannot render, the request was fine."""

    status_code = 503
    code = "clip_unavailable"


class Overloaded(ApiError):
    """More segments wait for a render worker than the queue allows: come back shortly."""

    status_code = 503
    code = "overloaded"
    retry_after_seconds = 2

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_seconds)}


class NotReady(ApiError):
    """A dependency (database, clip storage, catalogue) is not ready: send traffic elsewhere for now."""

    status_code = 503
    code = "not_ready"

    def __init__(self, checks: dict[str, str]) -> None:
        failing = [name for name, result in checks.items() if result != "ok"]
        super().__init__(f"not ready: {', '.join(failing)}")
        self.checks = checks

    def body(self) -> dict:
        return {**super().body(), "checks": self.checks}


class DatabaseUnavailable(ApiError):
    """The database cannot be reached (restarting, say); playback goes on, writes wait."""

    status_code = 503
    code = "database_unavailable"
    retry_after_seconds = 5

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_seconds)}


class ShuttingDown(ApiError):
    """The server is stopping (SIGTERM) and takes no new renders: another node, or this one later."""

    status_code = 503
    code = "shutting_down"
    retry_after_seconds = 1

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_seconds)}


class RenderTimeout(ApiError):
    """The segment was not ready within HLS_RENDER_TIMEOUT_SECONDS; the next request tries afresh."""

    status_code = 504
    code = "render_timeout"
    retry_after_seconds = 2

    def headers(self) -> dict[str, str] | None:
        return {"Retry-After": str(self.retry_after_seconds)}


class RenderFailed(ApiError):
    """A render failed twice for a reason that is not the clip's (a worker died, an internal error)."""

    status_code = 500
    code = "render_failed"


async def api_error_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers())


async def repository_unavailable_handler(request: Request, error: Exception) -> JSONResponse:
    """Any route whose database call failed to connect: 503 with Retry-After, never a 500 or a hang."""
    return await api_error_handler(request, DatabaseUnavailable(f"the database is unavailable: {error}"))


async def http_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own 404/405 answers, in the same JSON shape as ours."""
    assert isinstance(error, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return JSONResponse({"error": code, "detail": error.detail}, status_code=error.status_code, headers=error.headers)


async def unexpected_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Last resort, still JSON; Starlette re-raises the error afterwards so it is logged with its traceback."""
    return JSONResponse({"error": "internal_error", "detail": f"{type(error).__name__}: {error}"}, status_code=500)


EXCEPTION_HANDLERS = {
    ApiError: api_error_handler,
    RepositoryUnavailable: repository_unavailable_handler,
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
