"""A render pool that serves waiting players before speculative work, and says no when full.

Worker threads take jobs from a priority queue: a segment a player is waiting
for (URGENT) before look-ahead (AHEAD). A queued look-ahead job a player starts
waiting for is promoted. When urgent work already fills the queue, new urgent
work is refused with `PoolOverloaded` (the server answers 503 + Retry-After)
instead of piling up; look-ahead beyond its own bound is simply not queued.
A queued job whose players all went away is cancelled before it starts.
Look-ahead never starts while urgent work runs or waits: a second render on a
2-core machine slows the one a player waits for by about a fifth, and a
segment nobody has asked for yet can afford to wait that long.

Each worker thread renders through its own `Renderer` (`segmenter.workers`):
by default a child process, so renders use every core and a crash ends one
process, not the server. A render whose process dies fails with `WorkerLost`
(the caller retries it on another worker) and that thread's next render starts
a fresh process. A worker thread that dies itself (something that is not an
`Exception` escapes) hands its job `WorkerLost` too and is replaced, so the
pool keeps its size. A render that runs too long keeps its worker busy until it
ends; `overrunning` counts such renders so the lost capacity is seen.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum

from segmenter.workers import Renderer, WorkerLost

IDLE_CHECK_SECONDS = 1.0
"""How often an idle worker thread checks that its render process is alive."""


STALE_ENTRIES_KEPT = 16
"""Skipped-when-reached heap entries tolerated before the heap is rebuilt without them."""


class Priority(IntEnum):
    URGENT = 0
    AHEAD = 1


class PoolOverloaded(RuntimeError):
    """Too much urgent work is queued already."""


class PoolClosed(RuntimeError):
    """The pool is shutting down."""


log = logging.getLogger(__name__)


@dataclass(eq=False)  # identity: a job is kept in sets while it runs
class Job:
    run: Callable[[Renderer], bytes]
    """Called on a worker thread with that thread's renderer."""
    priority: Priority
    future: Future[bytes] = field(default_factory=Future)
    started: bool = False
    started_at: float | None = None
    """time.monotonic() when a worker took the job."""
    cancelled: bool = False
    ran_urgent: bool = False


class RenderPool:
    def __init__(
        self,
        workers: int,
        max_urgent_queued: int,
        max_ahead_queued: int,
        make_renderer: Callable[[str], Renderer] | None = None,
    ) -> None:
        self._heap: list[tuple[int, int, Job]] = []
        self._order = itertools.count()
        self._queued = {Priority.URGENT: 0, Priority.AHEAD: 0}
        self._limits = {Priority.URGENT: max_urgent_queued, Priority.AHEAD: max_ahead_queued}
        self._condition = threading.Condition()
        self._closed = False
        self._urgent_running = 0
        self._running: set[Job] = set()
        self.cancelled = 0
        """Queued jobs dropped because every player waiting for them went away."""
        self._make_renderer = make_renderer or (lambda name: _NoRenderer())
        self._renderers: set[Renderer] = set()
        self._threads_replaced = 0
        self._names = itertools.count()
        self._threads: set[threading.Thread] = set()
        with self._condition:
            for _ in range(workers):
                self._start_worker()

    def _start_worker(self) -> None:
        """Called with the condition held."""
        thread = threading.Thread(target=self._work, name=f"render-{next(self._names)}", daemon=True)
        self._threads.add(thread)
        thread.start()

    @property
    def replaced(self) -> int:
        """Workers that died and were replaced: worker threads, and render processes (`deaths`)."""
        with self._condition:
            return self._threads_replaced + sum(renderer.deaths for renderer in self._renderers)

    def worker_pids(self) -> list[int]:
        """Process ids of the live render processes (none when rendering in threads)."""
        with self._condition:
            renderers = list(self._renderers)
        return [pid for renderer in renderers if (pid := renderer.pid) is not None]

    @property
    def workers(self) -> int:
        """Live worker threads (the configured number, unless the pool is closing)."""
        with self._condition:
            return len(self._threads)

    def running(self) -> int:
        with self._condition:
            return len(self._running)

    def overrunning(self, limit_seconds: float) -> int:
        """Renders still occupying a worker more than `limit_seconds` after they started
        (abandoned by their players: a thread cannot be stopped, so the worker stays busy)."""
        now = time.monotonic()
        with self._condition:
            return sum(
                1 for job in self._running if job.started_at is not None and now - job.started_at > limit_seconds
            )

    def queued(self, priority: Priority) -> int:
        with self._condition:
            return self._queued[priority]

    def submit(self, run: Callable[[Renderer], bytes], priority: Priority) -> Job | None:
        """Queue a job; None if it is look-ahead and that queue is full."""
        with self._condition:
            if self._closed:
                raise PoolClosed("the render pool is shutting down")
            if self._queued[priority] >= self._limits[priority]:
                if priority is Priority.URGENT:
                    raise PoolOverloaded(f"{self._queued[priority]} segments are already waiting to render")
                return None
            job = Job(run, priority)
            self._push(job)
            return job

    def promote(self, job: Job) -> None:
        """A player now waits for this queued look-ahead job: move it to the front rank."""
        with self._condition:
            if job.started or job.priority is Priority.URGENT:
                return
            self._queued[job.priority] -= 1
            job.priority = Priority.URGENT
            self._push(job)  # the old heap entry is skipped when reached

    def cancel(self, job: Job) -> bool:
        """Drop a queued job nobody waits for any more; False if it already started."""
        with self._condition:
            if job.started or job.cancelled:
                return False
            job.cancelled = True
            self._queued[job.priority] -= 1
            self.cancelled += 1
            self._drop_stale_entries()
        job.future.cancel()
        return True

    def _push(self, job: Job) -> None:
        self._queued[job.priority] += 1
        heapq.heappush(self._heap, (int(job.priority), next(self._order), job))
        self._drop_stale_entries()
        self._condition.notify()

    def _drop_stale_entries(self) -> None:
        """Rebuild the heap without the entries of promoted, cancelled or started jobs once they
        outnumber the live ones. They are skipped when they surface, but look-ahead entries may never
        surface while players keep the workers busy, and each holds its job, and so the rendered
        bytes of a promoted one: measured, 180 MiB of segments outside the cache after a minute."""
        live = self._queued[Priority.URGENT] + self._queued[Priority.AHEAD]
        if len(self._heap) > 2 * live + STALE_ENTRIES_KEPT:
            self._heap = [entry for entry in self._heap if not _is_stale(entry)]
            heapq.heapify(self._heap)

    @property
    def heap_size(self) -> int:
        """Entries in the queue's heap, live or not yet dropped (for tests)."""
        with self._condition:
            return len(self._heap)

    def _next_job(self, renderer: Renderer) -> Job | None:
        """The next job to run (None once closing); while idle, checks every IDLE_CHECK_SECONDS that
        the thread's render process is alive and restarts it if not, so a crash between renders
        leaves no worker missing (readiness counts them)."""
        with self._condition:
            while True:
                while self._heap and _is_stale(self._heap[0]):
                    heapq.heappop(self._heap)  # cancelled, or the old entry of a promoted job
                if self._closed and not self._heap:
                    return None
                if self._heap and (self._heap[0][0] == Priority.URGENT or self._urgent_running == 0):
                    _, _, job = heapq.heappop(self._heap)
                    job.started = True
                    job.started_at = time.monotonic()
                    self._running.add(job)
                    self._queued[job.priority] -= 1
                    if job.priority is Priority.URGENT:
                        job.ran_urgent = True
                        self._urgent_running += 1
                    return job
                if not self._condition.wait(IDLE_CHECK_SECONDS):
                    self._condition.release()  # restarting takes a moment: let the other threads on
                    try:
                        renderer.revive()
                    finally:
                        self._condition.acquire()

    def _work(self) -> None:
        renderer: Renderer | None = None
        try:
            renderer = self._make_renderer(threading.current_thread().name)
            with self._condition:
                self._renderers.add(renderer)
            while (job := self._next_job(renderer)) is not None:
                self._run(job, renderer)
        except BaseException:  # not swallowed: logged here, and _retire puts a fresh worker in its place
            log.exception("render worker %s died", threading.current_thread().name)
        finally:
            self._retire(threading.current_thread(), renderer)

    def _run(self, job: Job, renderer: Renderer) -> None:
        """Run one job; an `Exception` goes to its waiter, anything else kills this worker (after
        telling the waiter `WorkerLost`: asyncio must never receive a SystemExit-like exception)."""
        try:
            if not job.future.set_running_or_notify_cancel():
                return
            try:
                result = job.run(renderer)
            except Exception as error:  # handed to whoever waits for the segment
                job.future.set_exception(error)
            except BaseException as error:
                lost = WorkerLost(f"the render worker died mid-render: {type(error).__name__}: {error}")
                lost.__cause__ = error
                job.future.set_exception(lost)
                raise
            else:
                job.future.set_result(result)
        finally:
            with self._condition:
                self._running.discard(job)
                if job.ran_urgent:
                    self._urgent_running -= 1
                    self._condition.notify_all()  # look-ahead may start now

    def _retire(self, thread: threading.Thread, renderer: Renderer | None) -> None:
        """A worker thread is ending: normal while closing, otherwise it died and is replaced."""
        if renderer is not None:
            renderer.close()
        with self._condition:
            self._threads.discard(thread)
            if renderer is not None:
                self._renderers.discard(renderer)
                self._threads_replaced += renderer.deaths  # keep its count
            if self._closed:
                return
            self._threads_replaced += 1
            self._start_worker()
        log.warning("replaced render worker %s", thread.name)

    def close(self, timeout: float | None = None) -> bool:
        """Cancel queued jobs and wait up to `timeout` seconds (None: for ever) for running ones;
        True if every worker finished. Render processes still busy past the timeout are killed;
        worker threads are daemons, so one still rendering in-process does not keep the server alive."""
        with self._condition:
            self._closed = True
            pending = [job for _, _, job in self._heap if not job.started and not job.cancelled]
            self._heap.clear()
            self._condition.notify_all()
            threads = list(self._threads)
        for job in pending:
            job.future.cancel()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        unfinished = [thread.name for thread in threads if thread.is_alive()]
        if unfinished:
            log.warning("render workers still running after %s s: %s", timeout, ", ".join(unfinished))
            with self._condition:
                renderers = list(self._renderers)
            for renderer in renderers:  # a render process can be stopped, unlike a thread
                renderer.kill()
        return not unfinished


def _is_stale(entry: tuple[int, int, Job]) -> bool:
    rank, _, job = entry
    return job.started or job.cancelled or rank != job.priority


class _NoRenderer:
    """For pools whose jobs render by themselves (tests of the scheduling alone)."""

    deaths = 0
    pid = None

    def render(self, kind, spec) -> bytes:  # pragma: no cover - never called by such jobs
        raise RuntimeError("this pool has no renderer")

    def kill(self) -> None:
        pass

    def revive(self) -> None:
        pass

    def close(self) -> None:
        pass
