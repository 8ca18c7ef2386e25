"""Fault: SIGTERM while a segment is being rendered, on a real server process.

The in-flight request is a cold 6-second 1080p segment of a ProRes-with-alpha
clip with warming off (seconds of decoding and encoding). After SIGTERM the
server must refuse new connections, still answer that request in full, and
exit 0 within its grace period plus the pool's short close.
"""

from __future__ import annotations

import io
import signal
import socket
import threading
import time

import av
import httpx

from tests.conftest import running_server

PLAN = {"items": [{"exercise_id": "lunge", "work_seconds": 12, "rest_seconds": 0}], "segment_seconds": 6}
SEGMENT = 2  # after the 2 s startup segment and the 1 s left of the intro: the first 6 s of work
SEGMENT_FRAMES = 6 * 30
GRACE_SECONDS = 60
EXIT_MARGIN_SECONDS = 20
"""The pool's close (5 s) and interpreter exit, on a busy machine."""
REQUEST_TIMEOUT_SECONDS = 180
POLL_SECONDS = 0.05
REFUSAL_WAIT_SECONDS = 10


def connection_refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def test_sigterm_finishes_the_in_flight_segment_refuses_new_connections_and_exits_0(tmp_path, sample_clips_dir):
    env = {
        "HLS_WARM_CLIPS": "0",
        "HLS_LOOK_AHEAD": "0",
        "HLS_SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
        "HLS_FRAME_STORE_DIR": str(tmp_path / "cold-frames"),  # not the run's: the render must decode
    }
    with running_server(tmp_path, sample_clips_dir, env) as server:
        port = int(server.base_url.rsplit(":", 1)[1])
        created = httpx.post(server.url("/api/plans"), json=PLAN, timeout=30).json()
        url = created["media_playlist_urls"]["1080p"].replace("index.m3u8", f"{SEGMENT}.ts")
        answers: list[httpx.Response] = []
        in_flight = threading.Thread(target=lambda: answers.append(httpx.get(url, timeout=REQUEST_TIMEOUT_SECONDS)))
        in_flight.start()
        while httpx.get(server.url("/health"), timeout=10).json()["renders_running"] == 0:
            assert in_flight.is_alive(), "the segment was answered before SIGTERM could be sent"
            time.sleep(POLL_SECONDS)

        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + REFUSAL_WAIT_SECONDS
        while not connection_refused(port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(POLL_SECONDS)
        assert server.process.poll() is None and in_flight.is_alive()  # refused while still finishing

        in_flight.join(REQUEST_TIMEOUT_SECONDS)
        (response,) = answers
        assert response.status_code == 200
        assert int(response.headers["content-length"]) == len(response.content)
        with av.open(io.BytesIO(response.content), format="mpegts") as container:
            assert sum(1 for _ in container.decode(video=0)) == SEGMENT_FRAMES
        assert server.process.wait(timeout=GRACE_SECONDS + EXIT_MARGIN_SECONDS) == 0
