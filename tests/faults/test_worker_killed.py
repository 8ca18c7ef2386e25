"""Fault: a render worker killed mid-render.

Renders run in child processes. Here the process rendering a segment is sent
SIGKILL (what the kernel's OOM killer sends) or SIGSEGV (a crash in FFmpeg or
x264) half-way through: the request must be retried once on a fresh worker and
answered 200 with the whole segment, the pool must be back to its size, and a
render that dies twice must answer a JSON 500 rather than hang. The renders are
made slow enough to be caught mid-way by a cold frame store: the worker first
decodes the 60 fps clip at 1080p.

With `HLS_RENDER_PROCESSES=0` renders run on server threads; a thread cannot be
killed from outside, so there something that is not an `Exception` is raised
half-way through an encode (in process, through monkeypatch) to end the thread.
"""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from starlette.testclient import TestClient

import segmenter.render
import segmenter.workers
from segmenter.workers import RenderKind
from server.app import create_app
from server.config.settings import Settings

PLAN = {"items": [{"exercise_id": "squat", "work_seconds": 8, "rest_seconds": 0}]}
SLOW_PLAN = {"items": [{"exercise_id": "burpee", "work_seconds": 8, "rest_seconds": 0}]}
FRAMES_BEFORE_DEATH = 10
SEGMENT_FRAMES = 30  # segment 1: the 1 s left of the intro after the 2 s startup segment, at 30 fps
KILL_WITHIN_SECONDS = 30.0


def video_frame_count(data: bytes) -> int:
    with av.open(io.BytesIO(data), format="mpegts") as container:
        return sum(1 for _ in container.decode(video=0))


def plan_segment_url(client: TestClient, plan: dict, rendition: str, index: int) -> str:
    plan_id = client.post("/api/plans", json=plan).json()["id"]
    return f"/hls/{plan_id}/{rendition}/{index}.ts"


# --- render processes (the default) ---------------------------------------------------------------


@pytest.fixture
def process_client(new_data_dir, tmp_path: Path) -> Iterator[TestClient]:
    """One render process and a cold frame store, so every render first decodes its clip."""
    settings = Settings(
        data_dir=new_data_dir(),
        frame_store_dir=tmp_path / "frames",
        warm_clips=False,
        render_workers=1,
        look_ahead=0,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def busy_render_process(client: TestClient, not_pid: int | None = None) -> int:
    """The pid of the render process once it is rendering (and is not `not_pid`)."""
    deadline = time.monotonic() + KILL_WITHIN_SECONDS
    while time.monotonic() < deadline:
        health = client.get("/health").json()
        pids = [pid for pid in health["render_processes"] if pid != not_pid]
        if health["renders_running"] and pids:
            return pids[0]
        time.sleep(0.02)
    raise AssertionError("no render started")


def request_in_background(client: TestClient, url: str) -> tuple[threading.Thread, list]:
    answers: list = []
    thread = threading.Thread(target=lambda: answers.append(client.get(url)))
    thread.start()
    return thread, answers


@pytest.mark.parametrize("death", [signal.SIGKILL, signal.SIGSEGV], ids=["sigkill", "sigsegv"])
def test_a_render_process_killed_mid_render_is_replaced_and_the_request_retried_to_a_whole_segment(
    process_client, death
):
    url = plan_segment_url(process_client, SLOW_PLAN, "1080p", 1)
    thread, answers = request_in_background(process_client, url)
    victim = busy_render_process(process_client)
    os.kill(victim, death)
    thread.join(120)
    (response,) = answers
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    assert video_frame_count(response.content) == SEGMENT_FRAMES
    health = process_client.get("/health").json()
    assert health["render_workers"] == 1 and health["render_workers_replaced"] == 1
    assert health["render_retries"] == 1
    assert health["render_processes"] and victim not in health["render_processes"]


def test_a_render_killed_twice_answers_a_json_500_and_the_server_keeps_serving(process_client):
    url = plan_segment_url(process_client, SLOW_PLAN, "1080p", 1)
    thread, answers = request_in_background(process_client, url)
    first = busy_render_process(process_client)
    os.kill(first, signal.SIGKILL)
    os.kill(busy_render_process(process_client, not_pid=first), signal.SIGKILL)
    thread.join(120)
    (failed,) = answers
    assert failed.status_code == 500
    assert failed.json()["error"] == "render_failed"
    assert "killed by SIGKILL" in failed.json()["detail"]
    again = process_client.get(url)  # the failure was not cached: a new request renders it
    assert again.status_code == 200 and video_frame_count(again.content) == SEGMENT_FRAMES
    health = process_client.get("/health").json()
    assert health["render_workers_replaced"] == 2 and len(health["render_processes"]) == 1


def test_a_render_process_that_dies_while_idle_is_replaced_before_the_next_request(process_client):
    (before,) = wait_for_processes(process_client, 1)
    os.kill(before, signal.SIGKILL)
    deadline = time.monotonic() + KILL_WITHIN_SECONDS
    while (pids := process_client.get("/health").json()["render_processes"]) in ([], [before]):
        assert time.monotonic() < deadline, "the dead render process was not replaced"
        time.sleep(0.05)
    assert pids != [before]
    response = process_client.get(plan_segment_url(process_client, PLAN, "360p", 1))
    assert response.status_code == 200 and video_frame_count(response.content) == SEGMENT_FRAMES
    assert process_client.get("/health").json()["render_retries"] == 0


def wait_for_processes(client: TestClient, count: int) -> list[int]:
    deadline = time.monotonic() + KILL_WITHIN_SECONDS
    while len(pids := client.get("/health").json()["render_processes"]) < count:
        assert time.monotonic() < deadline, "render processes did not start"
        time.sleep(0.05)
    return pids


# --- render threads (HLS_RENDER_PROCESSES=0) ------------------------------------------------------


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
def thread_client(new_data_dir) -> Iterator[TestClient]:
    settings = Settings(
        data_dir=new_data_dir(), warm_clips=False, render_workers=2, look_ahead=0, render_processes=False
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_a_render_thread_killed_mid_render_is_replaced_and_the_request_retried(thread_client, monkeypatch):
    frames = DyingFrames(deaths=1)
    monkeypatch.setattr(segmenter.render, "video_frames", frames)
    response = thread_client.get(plan_segment_url(thread_client, PLAN, "360p", 1))
    assert response.status_code == 200
    assert video_frame_count(response.content) == SEGMENT_FRAMES
    assert frames.calls == 2
    health = thread_client.get("/health").json()
    assert health["render_workers"] == 2 and health["render_workers_replaced"] == 1
    assert health["render_retries"] == 1 and health["render_processes"] == []


def test_a_render_thread_killed_twice_answers_a_json_500(thread_client, monkeypatch):
    monkeypatch.setattr(segmenter.render, "video_frames", DyingFrames(deaths=2))
    failed = thread_client.get(plan_segment_url(thread_client, PLAN, "360p", 1))
    assert failed.status_code == 500
    assert failed.json()["error"] == "render_failed" and "WorkerKilled" in failed.json()["detail"]
    assert thread_client.get("/health").json()["render_workers"] == 2


def test_an_unexpected_render_error_is_retried_once_without_losing_the_worker(thread_client, monkeypatch):
    real = segmenter.workers.RENDERERS[RenderKind.SEGMENT]
    calls: list[int] = []

    def flaky(spec, store):
        calls.append(spec.index)
        if len(calls) == 1:
            raise RuntimeError("an internal error in the encoder")
        return real(spec, store)

    monkeypatch.setitem(segmenter.workers.RENDERERS, RenderKind.SEGMENT, flaky)
    response = thread_client.get(plan_segment_url(thread_client, PLAN, "360p", 1))
    assert response.status_code == 200 and video_frame_count(response.content) == SEGMENT_FRAMES
    assert calls == [1, 1]
    health = thread_client.get("/health").json()
    assert health["render_retries"] == 1 and health["render_workers_replaced"] == 0
