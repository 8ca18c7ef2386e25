"""JSON and text log lines, request ids on every record, and the auto format choice."""

from __future__ import annotations

import io
import json
import logging

import pytest

from server.config.logs import JSON, REQUEST_ID, TEXT, configure_logging, resolve_format


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_auto_chooses_text_on_a_terminal_and_json_on_a_pipe():
    assert resolve_format("auto", Terminal()) == TEXT
    assert resolve_format("auto", io.StringIO()) == JSON
    assert resolve_format("text", io.StringIO()) == TEXT
    assert resolve_format("json", Terminal()) == JSON


def test_a_json_line_carries_level_logger_message_request_id_and_extra_fields(restore_logging):
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    token = REQUEST_ID.set("abc-123")
    try:
        logging.getLogger("server.test").warning("segment %d late", 7, extra={"route": "/hls/{plan_id}"})
    finally:
        REQUEST_ID.reset(token)
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "warning" and record["logger"] == "server.test"
    assert record["message"] == "segment 7 late"
    assert record["request_id"] == "abc-123" and record["route"] == "/hls/{plan_id}"
    assert record["time"].endswith("+00:00")


def test_a_record_outside_a_request_has_no_request_id_field(restore_logging):
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    logging.getLogger("server.test").info("starting")
    assert "request_id" not in json.loads(stream.getvalue())


def test_an_exception_is_one_json_line_with_its_traceback(restore_logging):
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    try:
        raise ValueError("broken clip")
    except ValueError:
        logging.getLogger("server.test").exception("render failed")
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert "ValueError: broken clip" in record["exception"] and record["level"] == "error"


def test_uvicorn_loggers_go_through_the_same_handler_and_level_filters(restore_logging):
    stream = io.StringIO()
    configure_logging("text", "warning", stream)
    logging.getLogger("uvicorn.error").warning("port busy")
    logging.getLogger("server.test").info("too chatty")
    text = stream.getvalue()
    assert "WARNING uvicorn.error [-] port busy" in text
    assert "too chatty" not in text
