"""Logging set-up: JSON lines (one object per record) or plain text, each record with its request id.

`HLS_LOG_FORMAT=auto` (the default) picks text when stderr is a terminal, where a person reads it,
and JSON otherwise: under Docker, Kubernetes or systemd stderr is a pipe into a log collector, which
wants one parseable object per line. `json` and `text` force either.

uvicorn's own loggers are routed through the same handler (uvicorn is started with `log_config=None`
and without its access log: `server.middleware.request_id` writes one access line per request).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

AUTO, JSON, TEXT = "auto", "json", "text"
LOG_FORMATS = (AUTO, JSON, TEXT)
LOG_LEVELS = ("debug", "info", "warning", "error")
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
ACCESS_LOGGER = "server.access"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
NO_REQUEST = "-"

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the request being handled in this context (set by the request-id middleware)."""

STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
"""A LogRecord's own attributes; anything else on a record came from `extra=` and is logged as a field."""


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id (NO_REQUEST outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get() or NO_REQUEST
        return True


class JsonFormatter(logging.Formatter):
    """{"time", "level", "logger", "message", "request_id", extra fields..., "exception"} on one line."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        document.update((key, value) for key, value in vars(record).items() if key not in STANDARD_ATTRIBUTES)
        if document.get("request_id") == NO_REQUEST:
            del document["request_id"]
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            document["stack"] = self.formatStack(record.stack_info)
        return json.dumps(document, default=str, ensure_ascii=False)


def resolve_format(log_format: str, stream: TextIO) -> str:
    """`auto` becomes text on a terminal, JSON anywhere else."""
    if log_format != AUTO:
        return log_format
    isatty = getattr(stream, "isatty", None)
    return TEXT if isatty is not None and isatty() else JSON


def configure_logging(log_format: str, level: str, stream: TextIO | None = None) -> str:
    """Send the root logger and uvicorn's loggers to one handler on `stream` (stderr); the format used."""
    stream = sys.stderr if stream is None else stream
    chosen = resolve_format(log_format, stream)
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if chosen == JSON else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return chosen
