"""Shared fixtures: one generated sample library per test session, and a live server."""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest

from assets.library import ensure_sample_library
from segmenter.frame_store import FrameStore

REPO = Path(__file__).resolve().parent.parent
SERVER_START_TIMEOUT = 60.0
SUMMARIES = pytest.StashKey[list[tuple[str, str]]]()
"""Sections for the end of the terminal report: (title, text), from this process and every xdist worker."""
WORKER_SUMMARIES = "terminal_summaries"


def add_terminal_summary(config: pytest.Config, title: str, text: str) -> None:
    """Print `text` under `title` at the end of the run. An xdist worker has no terminal: its sections
    travel to the controller with the worker's output and are printed there."""
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput.setdefault(WORKER_SUMMARIES, []).append([title, text])
    else:
        config.stash.setdefault(SUMMARIES, []).append((title, text))


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist's controller: a worker finished; keep the sections it wrote."""
    for title, text in getattr(node, "workeroutput", {}).get(WORKER_SUMMARIES, []):
        node.config.stash.setdefault(SUMMARIES, []).append((title, text))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    for title, text in config.stash.get(SUMMARIES, []):
        terminalreporter.write_sep("=", title)
        terminalreporter.write_line(text)


def run_scratch_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for the whole run: under pytest-xdist, the one every worker's temporary directory sits in."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def sample_clips_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample exercise library, generated once per run and shared by every xdist worker (read-only:
    a test that damages clips copies them first). The first worker generates it under a lock; the others
    wait for it, then find it complete."""
    shared = run_scratch_dir(tmp_path_factory)
    clips_dir = shared / "samples" / "exercises"
    with open(shared / "samples.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ensure_sample_library(clips_dir)
    return clips_dir


FRAME_STORE_BUDGET = 16 << 30
"""The run's prepared frames: every sample clip at every rendition, plus what tests upload."""


_run_frame_store: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def frame_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Prepared clip frames shared by the whole run: every test, xdist worker and test server maps the
    same files (they are keyed by clip content, written atomically and locked while written). A data
    directory made by `data_dir_with_samples` links its `frames/` here; a test that needs a cold store
    sets its own `frame_store_dir`."""
    directory = run_scratch_dir(tmp_path_factory) / "frames"
    directory.mkdir(parents=True, exist_ok=True)
    _run_frame_store[:] = [directory]
    return directory


@pytest.fixture(scope="session")
def frame_store(frame_store_dir: Path) -> FrameStore:
    return FrameStore(frame_store_dir, FRAME_STORE_BUDGET)


def data_dir_with_samples(root: Path, clips_dir: Path) -> Path:
    """A fresh server data directory that reuses the session's generated clips."""
    data_dir = root / "data"
    data_dir.mkdir(parents=True)
    (data_dir / "exercises").symlink_to(clips_dir, target_is_directory=True)
    for store in _run_frame_store:
        (data_dir / "frames").symlink_to(store, target_is_directory=True)
    return data_dir


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible server (moto) on a free loopback port, with dummy credentials."""
    from moto.server import ThreadedMotoServer

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def new_data_dir(tmp_path_factory: pytest.TempPathFactory, sample_clips_dir: Path):
    """Call to get a fresh, empty server data directory that reuses the sample clips."""

    def make() -> Path:
        return data_dir_with_samples(tmp_path_factory.mktemp("data"), sample_clips_dir)

    return make


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, base_url: str, process: subprocess.Popen, data_dir: Path) -> None:
        self.base_url = base_url
        self.process = process
        self.data_dir = data_dir

    def url(self, path: str) -> str:
        return self.base_url + path


PARALLEL_RENDER_WORKERS = 2
"""Render processes of a server a test starts: its default is one per core, and under pytest-xdist
several servers share this machine's cores."""


def parallel_run_env() -> dict[str, str]:
    """Settings every server started by a test gets under pytest-xdist (a test's own env still wins)."""
    return {"HLS_RENDER_WORKERS": str(PARALLEL_RENDER_WORKERS)} if os.environ.get("PYTEST_XDIST_WORKER") else {}


def start_server_process(data_dir: Path, port: int, log: IO[bytes], env: Mapping[str, str]) -> subprocess.Popen:
    """`python -m server` on 127.0.0.1:`port` from the repository, its output in `log`, `env` over ours."""
    return subprocess.Popen(
        [sys.executable, "-m", "server", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
    )


@contextmanager
def running_server(root: Path, clips_dir: Path, env: dict[str, str] | None = None) -> Iterator[LiveServer]:
    """`python -m server` as a user starts it, on a free loopback port, with its own data dir."""
    data_dir = data_dir_with_samples(root, clips_dir)
    port = free_port()
    log_path = root / "server.log"
    with open(log_path, "wb") as log:
        process = start_server_process(data_dir, port, log, {"PYTHONUNBUFFERED": "1", **parallel_run_env(), **(env or {})})
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        try:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited: {log_path.read_text()}")
                try:
                    if httpx.get(base_url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start in time")
                time.sleep(0.1)
            yield LiveServer(base_url, process, data_dir)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, sample_clips_dir: Path) -> Iterator[LiveServer]:
    """A server as users run it, once its start-up warming is done (players then meet no cold clip)."""
    with running_server(tmp_path_factory.mktemp("live"), sample_clips_dir) as server:
        wait_until_warm(server)
        yield server


def wait_until_warm(server: LiveServer, timeout: float = 300) -> None:
    """Until the server is ready: render processes running and every clip prepared (players then meet
    no cold clip). Each clip is decoded once per rendition size: five sizes since the 234p baseline, and
    on a machine loaded by six parallel runs 180 s left 7 of 80 clip sizes to go."""
    deadline = time.monotonic() + timeout
    while (ready := httpx.get(server.url("/ready"), timeout=5)).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"not ready in time: {ready.text}")
        time.sleep(0.5)
