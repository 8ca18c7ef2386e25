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
Workers start from a fork server that has already imported the renderer, so a
replacement is ready in a fraction of a second.

`InProcessRenderer` renders in the calling thread: for tests that patch the
renderer, for benchmarks, and for `HLS_RENDER_PROCESSES=0`.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import signal
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol

from segmenter.frame_store import FrameStore
from segmenter.iframes import render_iframe
from segmenter.render import render_segment
from segmenter.spec import SegmentSpec

log = logging.getLogger(__name__)

START_TIMEOUT_SECONDS = 60.0
"""A worker that has not said it is ready by then is counted as failed to start."""
STOP_TIMEOUT_SECONDS = 5.0
START_METHOD = "forkserver"
"""Not fork: the server has threads (and asyncio) that a forked child would inherit half-locked."""
PRELOADED_MODULES = ["segmenter.workers"]
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

    def render(self, kind: RenderKind, spec: SegmentSpec) -> bytes: ...

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

    def __init__(self, store: FrameStore) -> None:
        self.store = store

    def render(self, kind: RenderKind, spec: SegmentSpec) -> bytes:
        return RENDERERS[kind](spec, self.store)

    def revive(self) -> None:
        pass

    def close(self) -> None:
        pass


class RenderProcess:
    """One child render process, driven by one pool thread at a time.

    `render` sends the spec and waits for the bytes; if the child dies meanwhile
    it raises `WorkerLost` and the next `render` starts a fresh child.
    """

    def __init__(self, settings: WorkerSettings, name: str) -> None:
        self.settings = settings
        self.name = name
        self.deaths = 0
        """Children that died mid-render or between renders (each replaced at the next render)."""
        self.started = 0
        self._process: multiprocessing.process.BaseProcess | None = None
        self._connection: multiprocessing.connection.Connection | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def start(self) -> None:
        """Start the child and wait until it is ready to render."""
        context = worker_context()
        parent, child = context.Pipe()
        process = context.Process(target=worker_main, args=(child, self.settings), name=self.name, daemon=True)
        process.start()
        child.close()
        if not parent.poll(START_TIMEOUT_SECONDS):
            process.kill()
            process.join()
            raise WorkerStartFailed(f"render process {self.name} did not start within {START_TIMEOUT_SECONDS:g} s")
        try:
            parent.recv()
        except EOFError as error:
            process.join()
            raise WorkerStartFailed(f"render process {self.name} exited at start ({exit_reason(process)})") from error
        self._process, self._connection = process, parent
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
        process.join(STOP_TIMEOUT_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()
        reason = exit_reason(process)
        log.warning("render process %s (pid %s) died: %s", self.name, process.pid, reason)
        return reason

    def kill(self) -> None:
        """Stop the child now (shutdown past its grace time); its render fails with `WorkerLost`."""
        process = self._process
        if process is not None and process.is_alive():
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
        process.join(STOP_TIMEOUT_SECONDS)
        if process.is_alive():
            process.kill()
            process.join()


def exit_reason(process: multiprocessing.process.BaseProcess) -> str:
    code = process.exitcode
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


_context_lock = threading.Lock()
_context: multiprocessing.context.BaseContext | None = None


def worker_context() -> multiprocessing.context.BaseContext:
    """The fork-server context, with the renderer preloaded (shared by every pool of this process)."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context(START_METHOD)
            context.set_forkserver_preload(PRELOADED_MODULES)
            _context = context
        return _context


def worker_main(connection: multiprocessing.connection.Connection, settings: WorkerSettings) -> None:
    """A render process: render what arrives until told to stop or the server goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it then stops us
    store = settings.store.open()
    _warm(settings)
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
        connection.send(reply)


def _warm(settings: WorkerSettings) -> None:
    if settings.warm_size is None or not settings.warm_names:
        return
    from segmenter.overlays import warm_stamps
    from segmenter.text import FontUnavailable

    try:
        warm_stamps(*settings.warm_size, settings.warm_names)
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
