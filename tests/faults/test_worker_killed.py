"""Fault: a render worker killed mid-render.

Renders run on threads, which cannot be killed from outside; what can happen
to one is that something which is not an ordinary `Exception` escapes the
render half-way through an encode and ends the thread. Here a frame source
raises such an exception after a few frames have gone into the encoder (in
process, through monkeypatch). The request must be retried once on a live
worker, the pool must be back to its size, and a render that fails twice must
answer a JSON 500 rather than hang.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import av
import pytest
from starlette.testclient import TestClient

import segmenter.render
import server.streaming
from server.app import create_app
from server.config import Settings

PLAN = {"items": [{"exercise_id": "squat", "work_seconds": 8, "rest_seconds": 0}]}
FRAMES_BEFORE_DEATH = 10
SEGMENT_FRAMES = 60  # segment 1: the 2 s left of the intro after the 1 s startup segment, at 30 fps


class WorkerKilled(BaseException):
    """What ends a thread mid-render without being an ordinary error."""


class DyingFrames:
    """Wraps the encoder's frame source: the first `deaths` renders die after a few frames."""

    def __init__(self, deaths: int) -> None:
        self.deaths = deaths
        self.calls = 0
        self.real = segmenter.render.video_frames

    def __call__(self, *args, **kwargs) -> Iterator[av.VideoFrame]:
        self.calls += 1
        dying = self.calls <= self.deaths
        for count, frame in enumerate(self.real(*args, **kwargs)):
            if dying and count == FRAMES_BEFORE_DEATH:
                raise WorkerKilled(f"render {self.calls} killed after {count} frames")
            yield frame


@pytest.fixture
def client(new_data_dir):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, render_workers=2, look_ahead=0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def segment_url(client: TestClient, index: int) -> str:
    plan_id = client.post("/api/plans", json=PLAN).json()["id"]
    return f"/hls/{plan_id}/360p/{index}.ts"


def video_frame_count(data: bytes) -> int:
    with av.open(io.BytesIO(data), format="mpegts") as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_worker_killed_mid_render_is_replaced_and_the_request_retried_to_a_whole_segment(client, monkeypatch):
    frames = DyingFrames(deaths=1)
    monkeypatch.setattr(segmenter.render, "video_frames", frames)
    response = client.get(segment_url(client, 1))
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    assert video_frame_count(response.content) == SEGMENT_FRAMES
    assert frames.calls == 2
    health = client.get("/health").json()
    assert health["render_workers"] == 2 and health["render_workers_replaced"] == 1
    assert health["render_retries"] == 1


def test_a_render_killed_twice_answers_a_json_500_and_the_server_keeps_serving(client, monkeypatch):
    frames = DyingFrames(deaths=2)
    monkeypatch.setattr(segmenter.render, "video_frames", frames)
    url = segment_url(client, 1)
    failed = client.get(url)
    assert failed.status_code == 500
    assert failed.json()["error"] == "render_failed"
    assert "WorkerKilled" in failed.json()["detail"]
    assert client.get("/health").json()["render_workers"] == 2
    again = client.get(url)  # the failure was not cached: a new request renders it
    assert again.status_code == 200 and video_frame_count(again.content) == SEGMENT_FRAMES
    assert client.get("/health").json()["render_workers_replaced"] == 2


def test_an_unexpected_render_error_is_retried_once_without_losing_the_worker(client, monkeypatch):
    real = server.streaming.render_segment
    calls: list[int] = []

    def flaky(spec, library):
        calls.append(spec.index)
        if len(calls) == 1:
            raise RuntimeError("an internal error in the encoder")
        return real(spec, library)

    monkeypatch.setattr(server.streaming, "render_segment", flaky)
    response = client.get(segment_url(client, 1))
    assert response.status_code == 200 and video_frame_count(response.content) == SEGMENT_FRAMES
    assert calls == [1, 1]
    health = client.get("/health").json()
    assert health["render_retries"] == 1 and health["render_workers_replaced"] == 0
