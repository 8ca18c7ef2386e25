"""Who may change the catalogue: holders of the admin bearer token.

The token comes from `HLS_ADMIN_TOKEN`. Comparison is constant-time
(`hmac.compare_digest`) so response timing says nothing about how much of a
guess was right. No token configured means catalogue writes are switched off.
"""

from __future__ import annotations

import hmac

from starlette.requests import Request

from server.errors import AdminDisabled, Forbidden, Unauthorized

BEARER = "bearer "


def require_admin(request: Request, admin_token: str | None) -> None:
    """Return if the request carries the admin token; raise 401, 403 or 403 (disabled) otherwise."""
    if not admin_token:
        raise AdminDisabled("catalogue writes are disabled: the server has no HLS_ADMIN_TOKEN")
    header = request.headers.get("authorization", "")
    if not header.lower().startswith(BEARER):
        raise Unauthorized("catalogue writes need 'Authorization: Bearer <admin token>'")
    offered = header[len(BEARER) :].strip().encode()
    if not hmac.compare_digest(offered, admin_token.encode()):
        raise Forbidden("the admin token is not valid")
