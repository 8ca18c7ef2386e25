"""Request bodies: bounded in size, parsed as JSON, with clear 400/413 answers."""

from __future__ import annotations

import json

from starlette.requests import Request

from server.errors import MalformedJson, PayloadTooLarge, field_error

MAX_JSON_BODY_BYTES = 64 * 1024


async def json_body(request: Request, limit: int = MAX_JSON_BODY_BYTES) -> object:
    """The parsed JSON body; reading stops as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        detail = f"the request body is {declared} bytes; at most {limit} are allowed"
        raise PayloadTooLarge(detail, [field_error(["body"], detail, "too_large")])
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            detail = f"the request body is over {limit} bytes"
            raise PayloadTooLarge(detail, [field_error(["body"], detail, "too_large")])
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        detail = f"the body is not valid JSON: {error}"
        raise MalformedJson(detail, [field_error(["body"], detail, "json_invalid")]) from None
