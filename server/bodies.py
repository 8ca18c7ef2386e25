"""Request bodies: bounded in size, parsed as JSON, with clear 400/413 answers."""

from __future__ import annotations

import json

from starlette.requests import Request

from server.errors import MalformedJson, PayloadTooLarge

MAX_JSON_BODY_BYTES = 64 * 1024


async def json_body(request: Request, limit: int = MAX_JSON_BODY_BYTES) -> object:
    """The parsed JSON body; reading stops as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the request body is {declared} bytes; at most {limit} are allowed")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body is over {limit} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise MalformedJson(f"the body is not valid JSON: {error}") from None
