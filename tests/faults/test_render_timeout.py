"""Fault: a render that exceeds its time limit (HLS_RENDER_TIMEOUT_SECONDS).

A slow render is injected in process (renders on server threads,
`render_processes=False`): the renderer blocks until the test lets it go. The waiting request must get 504 `render_timeout` with Retry-After, the
single-flight entry must be cleared so the next request renders afresh, and
the abandoned render's late result still lands in the cache. The stuck render
keeps its worker: /health counts it as
overrunning, and requests queued behind it are bounded by the same limit.
"""

from __future__ import annotations

import threading
import time

import pytest
from starlette.testclient import TestClient

import segmenter.workers
from segmenter.workers import RenderKind
from server.app import create_app
from server.config.settings import Settings

PLAN = {"items": [{"exercise_id": "push_up", "work_seconds": 12, "rest_seconds": 0}]}
TIME_LIMIT_SECONDS = 5.0
"""Far above a 360p render of a prepared clip, so only the held render can run out of time."""
HELD_INDEX = 2
WARM_INDEX = 3
"""Rendered first, to decode the clip before the timed requests (decoding alone can take seconds)."""
HELD_SECONDS = 60.0
"""The longest the injected render blocks if the test never releases it (then the test has failed)."""
POLL_SECONDS = 0.05
CACHE_WAIT_SECONDS = 60.0


class HeldRenders:
    """Wraps the renderer: the first render of segment HELD_INDEX blocks until `release` is set."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.release = threading.Event()
        self.real = segmenter.workers.RENDERERS[RenderKind.SEGMENT]

    def __call__(self, spec, library) -> bytes:
        self.calls.append(spec.index)
        if spec.index == HELD_INDEX and self.calls.count(HELD_INDEX) == 1:
            self.release.wait(HELD_SECONDS)
        return self.real(spec, library)


@pytest.fixture
def held(monkeypatch):
    renders = HeldRenders()
    monkeypatch.setitem(segmenter.workers.RENDERERS, RenderKind.SEGMENT, renders)
    yield renders
    renders.release.set()


def app_client(new_data_dir, workers: int) -> TestClient:
    settings = Settings(
        data_dir=new_data_dir(),
        warm_clips=False,
        render_workers=workers,
        look_ahead=0,
        render_timeout_seconds=TIME_LIMIT_SECONDS,
        render_processes=False,
    )
    return TestClient(create_app(settings))


def plan_id(client: TestClient) -> str:
    """A new plan whose clip is already decoded."""
    identifier = client.post("/api/plans", json=PLAN).json()["id"]
    assert client.get(f"/hls/{identifier}/360p/{WARM_INDEX}.ts").status_code == 200
    return identifier


def assert_render_timeout(response) -> None:
    assert response.status_code == 504
    assert response.json()["error"] == "render_timeout"
    assert response.headers["retry-after"].isdigit()


def test_a_render_past_the_limit_answers_504_and_the_next_request_renders_afresh(new_data_dir, held):
    with app_client(new_data_dir, workers=2) as client:
        url = f"/hls/{plan_id(client)}/360p/{HELD_INDEX}.ts"
        assert_render_timeout(client.get(url))
        health = client.get("/health").json()
        assert health["render_timeouts"] == 1
        assert health["renders_overrunning"] == 1  # the held render still occupies its worker
        again = client.get(url)  # not joined to the abandoned render: a new one, on the other worker
        assert again.status_code == 200 and again.content[0] == 0x47
        assert held.calls == [WARM_INDEX, HELD_INDEX, HELD_INDEX]
        held.release.set()  # before shutdown, which waits a bounded time for running renders


def test_the_abandoned_render_still_lands_in_the_cache_when_it_finishes(new_data_dir, held):
    with app_client(new_data_dir, workers=1) as client:
        segments = client.app.state.service.engine.segments
        url = f"/hls/{plan_id(client)}/360p/{HELD_INDEX}.ts"
        assert_render_timeout(client.get(url))
        cached_before = segments.nbytes
        held.release.set()
        deadline = time.monotonic() + CACHE_WAIT_SECONDS
        while segments.nbytes == cached_before and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        response = client.get(url)
        assert response.status_code == 200
        assert held.calls == [WARM_INDEX, HELD_INDEX]  # served from what the late render stored


def test_requests_queued_behind_a_stuck_render_are_bounded_by_the_same_limit(new_data_dir, held):
    with app_client(new_data_dir, workers=1) as client:
        identifier = plan_id(client)
        stuck = threading.Thread(target=client.get, args=(f"/hls/{identifier}/360p/{HELD_INDEX}.ts",))
        stuck.start()
        while HELD_INDEX not in held.calls:
            time.sleep(POLL_SECONDS)
        queued = client.get(f"/hls/{identifier}/360p/1.ts")  # the only worker is held: it waits in the queue
        assert_render_timeout(queued)
        stuck.join()
        assert client.get("/health").json()["renders_cancelled"] == 1  # dropped from the queue, never run
        assert held.calls == [WARM_INDEX, HELD_INDEX]
        held.release.set()
