"""Start the real server (`python -m server`) for a benchmark and read its memory (the whole process
tree's unreclaimable memory, as a container limit sees it: `bench.process_memory`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.process_memory import PeakSampler, tree_unreclaimable_mib

REPO = Path(__file__).resolve().parent.parent
PREPARE_TIMEOUT_SECONDS = 300.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    base: str
    sampler: PeakSampler

    def health(self) -> dict:
        return httpx.get(self.base + "/health", timeout=10).json()

    def renders(self) -> int:
        return int(self.health()["segments_rendered"])

    def peak_memory_mib(self) -> float:
        """The most unreclaimable memory (Pss_Anon + Pss_Shmem) of the server and its render processes
        seen since it started, sampled every 0.2 s."""
        self.sampler.sample()
        return self.sampler.peak_mib

    def memory_mib(self) -> float:
        return tree_unreclaimable_mib(self.process.pid)

    def wait_until_idle(self, quiet_seconds: float = 1.0) -> None:
        """Until the render count stops moving (look-ahead of earlier requests finished)."""
        last = self.renders()
        while True:
            time.sleep(quiet_seconds)
            now = self.renders()
            if now == last:
                return
            last = now


@contextmanager
def running_server(
    data_dir: Path,
    clips_dir: Path,
    env: Mapping[str, str] | None = None,
    prepare_timeout: float = PREPARE_TIMEOUT_SECONDS,
) -> Iterator[RunningServer]:
    """`python -m server` on a free loopback port, clips prepared before it is handed out."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "exercises").exists():
        (data_dir / "exercises").symlink_to(clips_dir)
    port = free_port()
    environment = {**os.environ, "HLS_ACCESS_LOG": "0", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=REPO,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RunningServer(process, f"http://127.0.0.1:{port}", PeakSampler(process.pid).start())
    try:
        deadline = time.monotonic() + prepare_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited with {process.returncode} while starting")
            try:
                if httpx.get(server.base + "/ready", timeout=10).status_code == 200:
                    break  # render processes running, clips prepared
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not prepare its clips within {prepare_timeout:g} s")
            time.sleep(0.2)
        yield server
    finally:
        server.sampler.stop()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
