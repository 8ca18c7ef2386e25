"""The route *template* a request matched, for labels and logs with a bounded set of values."""

from __future__ import annotations

import re

from starlette.routing import Mount
from starlette.types import Scope

CONVERTOR = re.compile(r":[a-z]+}")
"""Starlette's `{index:int}`: the template reads `{index}` without the convertor."""
UNMATCHED_ROUTE = "unmatched"
"""Requests no route matched: one label value however many paths clients make up."""


def route_template(scope: Scope) -> str:
    """`/hls/{plan_id}/{rendition}/{index}.ts` style, read after the router has run.

    Starlette's router records the matched route in the request scope (the same dict the
    middleware holds); a mount is labelled by its prefix.
    """
    route = scope.get("route")
    if route is None:
        return UNMATCHED_ROUTE
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    path = getattr(route, "path", None)
    return CONVERTOR.sub("}", path) if isinstance(path, str) else UNMATCHED_ROUTE
