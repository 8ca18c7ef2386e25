"""Pure ASGI middleware (not Starlette's BaseHTTPMiddleware, which breaks streaming answers and
disconnect detection): request ids with the access log, and per-route request metrics."""
