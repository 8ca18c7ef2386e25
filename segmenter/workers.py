"""Render workers: where a segment spec becomes bytes, in a child process or in the calling thread.

Renders run in child processes by default, one per pool thread (`segmenter.pool`
owns the threads and the scheduling; this module only moves a spec to a
process and bytes back). Processes are what let a node use every core: the
per-frame Python work of a render (overlays, frame copies, muxing glue) holds
the GIL, and render threads stopped scaling at four cores (measured on 16,
`docs/performance.md`). They also isolate crashes: a segfault in FFmpeg or
x264, or the kernel's OOM killer, ends one worker, not the server. The dead
worker's render fails with `WorkerLost` (the caller retries it elsewhere) and
the next render on that pool thread starts a fresh process.

Every worker reads prepared clip frames from the same on-disk frame store
(`segmenter.frame_store`), so their pictures share the kernel's page cache.
A worker is a fresh interpreter that imports only the renderer (not fork: the
server has threads and an event loop a forked child would inherit half-locked).

`InProcessRenderer` renders in the calling thread: for tests that patch the
renderer, for benchmarks, and for `HLS_RENDER_PROCESSES=0`.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

from segmenter.frame_store import FrameStore
from segmenter.heap import release_freed_memory
from segmenter.iframes import render_iframe
from segmenter.overlays import warm_stamps
from segmenter.render import render_segment
from segmenter.spec import SegmentSpec
from segmenter.text import FontUnavailable

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 60.0
"""A worker that has not said it is ready by then is counted as failed to start."""
STOP_TIMEOUT_SECONDS = 5.0
ENTRY_MODULE = "segmenter.render_process"
_READY = "ready"


class RenderKind(Enum):
    SEGMENT = "segment"
    IFRAME = "iframe"


RENDERERS: dict[RenderKind, Callable[[SegmentSpec, FrameStore], bytes]] = {
    RenderKind.SEGMENT: render_segment,
    RenderKind.IFRAME: render_iframe,
}


class WorkerLost(RuntimeError):
    """The worker died mid-render (killed, crashed, out of memory); the job may succeed on another."""


class WorkerStartFailed(RuntimeError):
    """A render process could not be started."""


class Renderer(Protocol):
    """What a pool thread renders with."""

    deaths: int
    """Workers behind it that died (each replaced)."""

    @property
    def pid(self) -> int | None:
        """The render process's id; None when rendering in the calling thread."""

    def render(self, kind: RenderKind, spec: SegmentSpec) -> bytes: ...

    def kill(self) -> None:
        """Stop a render under way now (shutdown past its grace time), where that is possible."""

    def revive(self) -> None:
        """Called while idle: replace a worker that died since its last render."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class StoreSettings:
    """Where a worker finds prepared frames: every worker of a node opens the same store."""

    directory: Path
    budget_bytes: int

    def open(self) -> FrameStore:
        return FrameStore(self.directory, self.budget_bytes)


@dataclass(frozen=True)
class WorkerSettings:
    store: StoreSettings
    warm_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Exercise names per language whose overlay text a new worker rasterises before its first render."""
    warm_size: tuple[int, int] | None = None


class InProcessRenderer:
    """Renders in the calling thread (no isolation: a crash here is the server's)."""

    deaths = 0
    pid = None

    def __init__(self, store: FrameStore) -> None:
        self.store = store

    def render(self, kind: RenderKind, spec: SegmentSpec) -> bytes:
        return RENDERERS[kind](spec, self.store)

    def kill(self) -> None:
        pass  # a thread cannot be stopped from outside

    def revive(self) -> None:
        pass

    def close(self) -> None:
        pass


class RenderProcess:
    """One child render process (`python -m segmenter.render_process`), driven by one pool thread.

    `render` sends the spec and waits for the bytes; if the child dies meanwhile
    it raises `WorkerLost` and the next `render` starts a fresh child. A plain
    subprocess rather than `multiprocessing.Process`: a multiprocessing child
    re-imports the parent's main module (the whole HTTP server) into every worker.
    """

    def __init__(self, settings: WorkerSettings, name: str) -> None:
        self.settings = settings
        self.name = name
        self.deaths = 0
        """Children that died mid-render or between renders (each replaced at once)."""
        self.started = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the child and wait until it is ready to render."""
        ours, theirs = socket.socketpair()
        with ours, theirs:
            process = subprocess.Popen(
                [sys.executable, "-m", ENTRY_MODULE, str(theirs.fileno()), self.name],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
            )
            connection = Connection(os.dup(ours.fileno()))
        try:
            connection.send(self.settings)
            if not connection.poll(START_TIMEOUT_SECONDS):
                raise WorkerStartFailed(f"render process {self.name} did not start within {START_TIMEOUT_SECONDS:g} s")
            connection.recv()
        except (EOFError, OSError, WorkerStartFailed) as error:
            connection.close()
            _stop(process)
            if isinstance(error, WorkerStartFailed):
                raise
            raise WorkerStartFailed(f"render process {self.name} exited at start ({exit_reason(process)})") from error
        self._process, self._connection = process, connection
        self.started += 1

    def revive(self) -> None:
        """Start a fresh child if the last one died (or never started)."""
        if self.is_alive():
            return
        if self._process is not None:  # died between renders
            self._bury()
        try:
            self.start()
        except WorkerStartFailed:  # tried again at the next check or render
            log.exception("render process %s could not be restarted", self.name)

    def render(self, kind: RenderKind, spec: SegmentSpec) -> bytes:
        if not self.is_alive():
            if self._process is not None:  # died between renders
                self._bury()
            self.start()
        assert self._connection is not None
        try:
            self._connection.send((kind, spec))
            ok, payload = self._connection.recv()
        except (EOFError, OSError) as error:
            reason = self._bury()
            raise WorkerLost(f"render process {self.name} died mid-render ({reason})") from error
        if ok:
            return payload
        raise payload

    def _bury(self) -> str:
        """Reap a dead child; what ended it."""
        process, connection = self._process, self._connection
        self._process = self._connection = None
        self.deaths += 1
        if connection is not None:
            connection.close()
        if process is None:
            return "not started"
        _stop(process)
        reason = exit_reason(process)
        log.warning("render process %s (pid %s) died: %s", self.name, process.pid, reason)
        return reason

    def kill(self) -> None:
        """Stop the child now (shutdown past its grace time); its render fails with `WorkerLost`."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()

    def close(self) -> None:
        """Ask the child to finish; kill it if it does not within the time limit."""
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if process is None:
            return
        if connection is not None:
            try:
                connection.send(None)
            except OSError:
                pass
            connection.close()
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Wait a moment for the child to exit, then kill it; reaped either way."""
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def exit_reason(process: subprocess.Popen[bytes]) -> str:
    code = process.poll()
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def serve(connection: Connection) -> None:
    """A render process: take its settings, then render what arrives until told to stop or the server
    goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it then stops us
    settings: WorkerSettings = connection.recv()
    logging.basicConfig(
        level=os.environ.get("HLS_LOG_LEVEL", "info").upper(),
        format=f"%(asctime)s %(levelname)s render process {os.getpid()} %(name)s: %(message)s",
    )  # plain text on the server's stderr (preparation on first use, errors); the server logs as JSON
    store = settings.store.open()
    if settings.warm_size is not None:
        warm_text(settings.warm_size, settings.warm_names)
    connection.send(_READY)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return  # the server went away
        if message is None:
            return
        kind, spec = message
        try:
            reply = (True, RENDERERS[kind](spec, store))
        except Exception as error:  # handed to the server, which answers or retries
            reply = (False, _transferable(error))
        try:
            connection.send(reply)
        except OSError:
            return  # the server went away mid-render
        release_freed_memory()


def warm_text(size: tuple[int, int], names: Mapping[str, tuple[str, ...]]) -> None:
    """Rasterise the text a first segment draws (`segmenter.overlays.warm_stamps`) in this process."""
    try:
        warm_stamps(*size, names)
    except FontUnavailable:  # the render that needs the font reports it
        log.exception("overlay text cannot be drawn")


def _transferable(error: Exception) -> Exception:
    """The error itself if it survives pickling, else a RuntimeError that says what it was."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error

