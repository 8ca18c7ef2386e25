"""X-Request-ID: taken when sane, made otherwise, echoed, on every log record, and one access line."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from server.config.logs import configure_logging
from server.middleware.request_id import RequestIdMiddleware
from tests.conftest import running_server


async def item(request: Request) -> PlainTextResponse:
    logging.getLogger("server.test").info("handling item %s", request.path_params["item_id"])
    return PlainTextResponse("hello")


@pytest.fixture
def log_stream():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture
def client():
    app = Starlette(routes=[Route("/items/{item_id}", item)], middleware=[Middleware(RequestIdMiddleware)])
    with TestClient(app) as test_client:
        yield test_client


def test_a_sane_client_request_id_is_echoed_and_on_every_log_line(client, log_stream):
    response = client.get("/items/42", headers={"X-Request-ID": "player-7.seg:0012"})
    assert response.headers["x-request-id"] == "player-7.seg:0012"
    handled, access = (line for line in lines(log_stream) if line["logger"] in ("server.test", "server.access"))
    assert handled["message"] == "handling item 42" and handled["request_id"] == "player-7.seg:0012"
    assert access["request_id"] == "player-7.seg:0012"


@pytest.mark.parametrize("bad", ["a" * 129, "two words", "<script>", "line\tbreak", ""])
def test_an_unsafe_or_oversized_request_id_is_replaced_by_a_fresh_one(client, bad):
    response = client.get("/items/1", headers={"X-Request-ID": bad})
    assert response.headers["x-request-id"] != bad
    assert len(response.headers["x-request-id"]) == 32


def test_requests_without_an_id_get_distinct_ids(client):
    first, second = (client.get("/items/1").headers["x-request-id"] for _ in range(2))
    assert first != second


def test_the_access_line_has_method_route_template_status_duration_and_bytes(client, log_stream):
    client.get("/items/42?token=secret")
    (access,) = (line for line in lines(log_stream) if line["logger"] == "server.access")
    assert access["method"] == "GET" and access["route"] == "/items/{item_id}" and access["path"] == "/items/42"
    assert access["status"] == 200 and access["bytes"] == len("hello") and access["duration_ms"] >= 0
    assert "secret" not in json.dumps(access)


def test_a_server_process_writes_json_lines_with_the_request_id_it_answered(tmp_path, sample_clips_dir):
    env = {"HLS_LOG_FORMAT": "json", "HLS_WARM_CLIPS": "0"}
    with running_server(tmp_path / "solo", sample_clips_dir, env) as node:
        response = httpx.get(node.url("/api/music"), headers={"X-Request-ID": "probe-1"}, timeout=10)
    assert response.headers["x-request-id"] == "probe-1"
    records = [json.loads(line) for line in (tmp_path / "solo" / "server.log").read_text().splitlines() if line]
    access = [r for r in records if r["logger"] == "server.access" and r.get("request_id") == "probe-1"]
    assert len(access) == 1 and access[0]["route"] == "/api/music" and access[0]["status"] == 200
    assert any(r["logger"].startswith("uvicorn") for r in records)  # uvicorn's own lines are JSON too
