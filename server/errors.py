"""Specific exceptions and the JSON answers they become.

Every error body has the same shape: {"error": <code>, "detail": <what is wrong>}
plus, for validation errors, the list of offending fields.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse


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


async def api_error_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers())


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
    HTTPException: http_error_handler,
    Exception: unexpected_error_handler,
}
