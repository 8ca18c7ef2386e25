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
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum


class Priority(IntEnum):
    URGENT = 0
    AHEAD = 1


class PoolOverloaded(RuntimeError):
    """Too much urgent work is queued already."""


class PoolClosed(RuntimeError):
    """The pool is shutting down."""


@dataclass
class Job:
    run: Callable[[], bytes]
    priority: Priority
    future: Future[bytes] = field(default_factory=Future)
    started: bool = False
    cancelled: bool = False
    ran_urgent: bool = False


class RenderPool:
    def __init__(self, workers: int, max_urgent_queued: int, max_ahead_queued: int) -> None:
        self._heap: list[tuple[int, int, Job]] = []
        self._order = itertools.count()
        self._queued = {Priority.URGENT: 0, Priority.AHEAD: 0}
        self._limits = {Priority.URGENT: max_urgent_queued, Priority.AHEAD: max_ahead_queued}
        self._condition = threading.Condition()
        self._closed = False
        self._urgent_running = 0
        self.cancelled = 0
        """Queued jobs dropped because every player waiting for them went away."""
        self._threads = [threading.Thread(target=self._work, name=f"render-{n}", daemon=True) for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def queued(self, priority: Priority) -> int:
        with self._condition:
            return self._queued[priority]

    def submit(self, run: Callable[[], bytes], priority: Priority) -> Job | None:
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
        job.future.cancel()
        return True

    def _push(self, job: Job) -> None:
        self._queued[job.priority] += 1
        heapq.heappush(self._heap, (int(job.priority), next(self._order), job))
        self._condition.notify()

    def _next_job(self) -> Job | None:
        with self._condition:
            while True:
                while self._heap and _is_stale(self._heap[0]):
                    heapq.heappop(self._heap)  # cancelled, or the old entry of a promoted job
                if self._closed and not self._heap:
                    return None
                if self._heap and (self._heap[0][0] == Priority.URGENT or self._urgent_running == 0):
                    _, _, job = heapq.heappop(self._heap)
                    job.started = True
                    self._queued[job.priority] -= 1
                    if job.priority is Priority.URGENT:
                        job.ran_urgent = True
                        self._urgent_running += 1
                    return job
                self._condition.wait()

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            try:
                if job.future.set_running_or_notify_cancel():
                    try:
                        job.future.set_result(job.run())
                    except BaseException as error:  # handed to whoever waits for the segment
                        job.future.set_exception(error)
            finally:
                if job.ran_urgent:
                    with self._condition:
                        self._urgent_running -= 1
                        self._condition.notify_all()  # look-ahead may start now

    def close(self) -> None:
        """Finish running jobs, cancel queued ones."""
        with self._condition:
            self._closed = True
            pending = [job for _, _, job in self._heap if not job.started and not job.cancelled]
            self._heap.clear()
            self._condition.notify_all()
        for job in pending:
            job.future.cancel()
        for thread in self._threads:
            thread.join()


def _is_stale(entry: tuple[int, int, Job]) -> bool:
    rank, _, job = entry
    return job.started or job.cancelled or rank != job.priority
