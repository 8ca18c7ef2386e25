"""The render engine: a segment spec in, its bytes out, with every rule of how and when.

This is the one interface the server awaits (`segment`, `cached_segment`,
`iframe`, `prepare`, `close`). Behind it:
- the segment cache with single flight (`segmenter.cache`): concurrent
  requests for one segment share one render;
- the shared S3 tier (`segmenter.shared_store`): a segment another node made
  is fetched, not rendered; what this node renders is shared;
- the cluster's render lease (`segmenter.cluster_flight`): a cold segment
  asked of several nodes at once is rendered by one of them;
- the render pool (`segmenter.pool`): players before look-ahead, a bounded
  queue (`EngineOverloaded`), queued work dropped when every waiter has gone;
- render workers (`segmenter.workers`): child processes by default, a dead one
  replaced and its render retried once on a live worker;
- time limits: a request waits at most `render_timeout` seconds
  (`RenderTimedOut`); the render goes on and its late result is still cached;
- look-ahead: the next few segments rendered at low priority;
- prepared frames (`segmenter.frame_store`) and background preparation
  (`segmenter.preparation`).

Errors it raises are its own (below) or `ClipDecodeError`; the server maps them
to HTTP answers. Nothing here knows about plans, catalogues or HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass

from playlists.renditions import Rendition
from segmenter.cache import SegmentCache
from segmenter.cluster_flight import ClusterFlight, RenderLeases
from segmenter.frame_store import FrameStore
from segmenter.frames import ClipDecodeError
from segmenter.pool import Job, PoolClosed, PoolOverloaded, Priority, RenderPool
from segmenter.preparation import ClipPreparer, Progress
from segmenter.shared_store import SharedSegmentStore
from segmenter.spec import ClipRef, SegmentSpec, SpecBuilder
from segmenter.workers import (
    InProcessRenderer,
    Renderer,
    RenderKind,
    RenderProcess,
    StoreSettings,
    WorkerSettings,
    WorkerStartFailed,
    warm_text,
)

log = logging.getLogger(__name__)

DEFAULT_RENDER_TIMEOUT_SECONDS = 30.0
POOL_CLOSE_SECONDS = 5.0
"""At shutdown, how long a render still running may delay the exit (then its process is killed)."""
IFRAME_KEY_PREFIX = "iframe:"
"""An I-frame resource is cached beside its segment, under the segment's key with this prefix."""


class EngineOverloaded(RuntimeError):
    """Too many segments players wait for are queued already: try again shortly."""


class EngineClosed(RuntimeError):
    """The engine is shutting down."""


class RenderTimedOut(RuntimeError):
    """The segment was not ready within the time limit; the render goes on and may be cached later."""


class RenderFailed(RuntimeError):
    """The render failed twice for a reason that is not the clip's."""


LEASE_WAIT_SHARE = 0.5
"""Of the render time limit, how long a render waits for another node's lease on the same segment
before rendering itself: a leader that takes longer is stuck or lost, and the player must not wait out
its whole time limit on it."""


@dataclass(frozen=True)
class EngineSettings:
    renditions: tuple[Rendition, ...]
    render_workers: int
    render_processes: bool = True
    render_queue: int = 8
    look_ahead: int = 2
    render_timeout: float = DEFAULT_RENDER_TIMEOUT_SECONDS


def _no_timer(rendition: str, container: str) -> AbstractContextManager[None]:
    return contextlib.nullcontext()


class RenderEngine:
    def __init__(
        self,
        settings: EngineSettings,
        frame_store: FrameStore,
        segment_cache: SegmentCache,
        shared: SharedSegmentStore | None = None,
        leases: RenderLeases | None = None,
        text_to_warm: Callable[[], Mapping[str, tuple[str, ...]]] = dict,
        render_timer: Callable[[str, str], AbstractContextManager[None]] = _no_timer,
    ) -> None:
        """`leases`: the cluster's lock service (used with `shared` only); `text_to_warm()`: exercise
        names per language a new render process rasterises first; `render_timer(rendition, container)`:
        wraps each render this node makes (metrics)."""
        self.settings = settings
        self.renditions = settings.renditions
        self.frames = frame_store
        self.segments = segment_cache
        self.flight = (
            None
            if shared is None
            else ClusterFlight(shared, leases, wait_seconds=settings.render_timeout * LEASE_WAIT_SHARE)
        )
        """The shared tier and the render lease; None on a node alone."""
        self.look_ahead = settings.look_ahead
        self.render_timeout = settings.render_timeout
        self.render_processes = settings.render_processes
        self._text_to_warm = text_to_warm
        self._render_timer = render_timer
        self.preparer = ClipPreparer(frame_store, settings.renditions)
        self.pool = RenderPool(
            settings.render_workers,
            max_urgent_queued=settings.render_queue,
            max_ahead_queued=max(1, settings.look_ahead * settings.render_workers),
            make_renderer=self._make_renderer,
        )
        self.render_timeouts = 0
        """Requests that got `RenderTimedOut`."""
        self.render_retries = 0
        """Renders retried after an unexpected failure (a worker lost mid-render, an internal error)."""
        self.rendered = 0
        """Segments this node encoded itself (not from memory or the shared tier)."""
        self._jobs: dict[str, Job] = {}
        self._waiters: dict[str, int] = {}
        self._counter_lock = threading.Lock()

    # --- workers and preparation -------------------------------------------------------------------

    def _make_renderer(self, name: str) -> Renderer:
        """A pool thread's renderer: its own render process (started now, so the first segment does not
        wait for it), or the thread itself when processes are switched off."""
        if not self.render_processes:
            return InProcessRenderer(self.frames)
        process = RenderProcess(self._worker_settings(), name)
        try:
            process.start()
        except WorkerStartFailed:  # tried again at its first render, which then reports it
            log.exception("render process %s did not start", name)
        return process

    def _worker_settings(self) -> WorkerSettings:
        start = self.renditions[0]
        return WorkerSettings(
            StoreSettings(self.frames.directory, self.frames.budget),
            warm_names=self._text_to_warm(),
            warm_size=(start.width, start.height),
        )

    def warm_text(self) -> None:
        """With renders in threads, rasterise common overlay text in the background (render processes
        do it themselves as they start)."""
        if not self.render_processes:
            threading.Thread(target=self._warm_text, name="text-warmer", daemon=True).start()

    def _warm_text(self) -> None:
        start = self.renditions[0]
        warm_text((start.width, start.height), self._text_to_warm())

    def prepare(self, clips: Iterable[ClipRef]) -> int:
        """Prepare the clips at every rendition in the background; how many (clip, size) pairs queued."""
        return self.preparer.enqueue(clips)

    def preparation(self) -> Progress:
        return self.preparer.progress()

    def workers_running(self) -> bool:
        """Every render worker is up (always, when rendering in threads)."""
        return not self.render_processes or len(self.pool.worker_pids()) >= self.pool.workers

    async def close(self) -> None:
        await asyncio.to_thread(self.preparer.close)
        await asyncio.to_thread(self.pool.close, POOL_CLOSE_SECONDS)
        if self.flight is not None:
            await asyncio.to_thread(self.flight.close)

    # --- segments ----------------------------------------------------------------------------------

    def cached_segment(self, builder: SpecBuilder, index: int) -> tuple[bytes, str] | None:
        """A cache hit answered without a task or a wait (None otherwise: use `segment`)."""
        key = builder.key(index)
        data = self.segments.get(key)
        if data is None:
            return None
        self._look_ahead(builder, index)
        return data, key

    async def segment(self, builder: SpecBuilder, index: int) -> tuple[bytes, str]:
        """The segment's bytes and content key; starts look-ahead of the segments after it.
        `SegmentNotFound` for an index past the end."""
        key = builder.key(index)
        queued = self._jobs.get(key)
        if queued is not None:
            self.pool.promote(queued)  # a look-ahead render a player now waits for
        self._waiters[key] = self._waiters.get(key, 0) + 1
        gave_up = True
        try:
            data = await self._within_time_limit(
                key, self.segments.get_or_render(key, lambda: self._render(key, builder.spec(index), Priority.URGENT))
            )
            gave_up = False
        except (asyncio.CancelledError, RenderTimedOut):
            raise  # gave up waiting: a render still queued for nobody else is dropped
        except BaseException:
            gave_up = False  # the render failed: nothing left to drop
            raise
        finally:
            self._forget_waiter(key, gave_up=gave_up)
        self._look_ahead(builder, index)
        return data, key

    async def iframe(self, builder: SpecBuilder, index: int) -> tuple[bytes, str]:
        """Segment `index`'s keyframe alone (trick play); cached like segments, no look-ahead."""
        key = IFRAME_KEY_PREFIX + builder.key(index)

        async def render() -> bytes:
            run = functools.partial(_render, RenderKind.IFRAME, builder.spec(index))
            job = self._submit(run, Priority.URGENT)
            return await asyncio.wrap_future(job.future)

        return await self._within_time_limit(key, self.segments.get_or_render(key, render)), key

    def _submit(self, run: Callable[[Renderer], bytes], priority: Priority) -> Job:
        try:
            job = self.pool.submit(run, priority)
        except PoolOverloaded as error:
            raise EngineOverloaded(str(error)) from None
        except PoolClosed as error:
            raise EngineClosed(str(error)) from None
        if job is None:
            raise RuntimeError("an urgent render is never skipped")  # submit only skips look-ahead
        return job

    def _forget_waiter(self, key: str, *, gave_up: bool) -> None:
        """One player stopped waiting; if it gave up and was the last, drop the queued render."""
        self._waiters[key] -= 1
        if self._waiters[key]:
            return
        del self._waiters[key]
        job = self._jobs.get(key)
        if gave_up and job is not None:
            self.pool.cancel(job)  # no-op once the render has started: its result is still cached

    async def _within_time_limit(self, key: str, waiting: Awaitable[bytes]) -> bytes:
        """Wait for a segment at most `render_timeout` seconds. The render itself is shielded and goes
        on; its single-flight entry is dropped so the next request for the segment starts afresh."""
        try:
            return await asyncio.wait_for(waiting, self.render_timeout)
        except TimeoutError:
            self.render_timeouts += 1
            self.segments.abandon(key)
            log.warning("segment %s not ready within %s s: abandoned", key, self.render_timeout)
            raise RenderTimedOut(
                f"the segment was not ready within {self.render_timeout:g} s; it may be ready on retry"
            ) from None

    def _produce(self, key: str, spec: SegmentSpec, renderer: Renderer) -> bytes:
        """On a render worker's thread: the shared tier's copy if another node made it, else render (in
        the worker's process) under the cluster's render lease and share."""

        def render_here() -> bytes:
            with self._render_timer(spec.rendition.name, spec.container.value):
                data = _render(RenderKind.SEGMENT, spec, renderer)
            with self._counter_lock:
                self.rendered += 1
            return data

        if self.flight is None:
            return render_here()
        return self.flight.produce(key, render_here)

    async def _render(self, key: str, spec: SegmentSpec, priority: Priority) -> bytes:
        job = self._submit(functools.partial(self._produce, key, spec), priority)
        return await self._await_job(key, spec, job)

    async def _await_job(self, key: str, spec: SegmentSpec, job: Job) -> bytes:
        """The job's bytes; an unexpected failure is retried once on a live worker (a dead worker is
        replaced), a second one is `RenderFailed`. Known answers (a broken clip, overload) are not
        retried: a second attempt would meet the same cause."""
        try:
            return await self._job_result(key, job)
        except KNOWN_ANSWERS:
            raise
        except Exception as error:
            self.render_retries += 1
            log.warning("render of segment %s failed, retrying once: %r", key, error)
        retry = self._submit(functools.partial(self._produce, key, spec), Priority.URGENT)
        try:
            return await self._job_result(key, retry)
        except KNOWN_ANSWERS:
            raise
        except Exception as error:
            log.error("render of segment %s failed twice", key, exc_info=error)
            raise RenderFailed(f"the segment could not be rendered ({type(error).__name__}: {error})") from error

    async def _job_result(self, key: str, job: Job) -> bytes:
        self._jobs[key] = job
        try:
            return await asyncio.wrap_future(job.future)
        finally:
            if self._jobs.get(key) is job:  # an abandoned render must not forget a newer one's job
                del self._jobs[key]

    def _look_ahead(self, builder: SpecBuilder, index: int) -> None:
        """Queue the next few segments at low priority, so sequential playback never waits."""
        for ahead in range(index + 1, min(builder.segment_count, index + 1 + self.look_ahead)):
            key = builder.key(ahead)
            if key in self.segments or self.segments.is_rendering(key):
                continue
            spec = builder.spec(ahead)
            job = self.pool.submit(functools.partial(self._produce, key, spec), Priority.AHEAD)
            if job is None:
                return  # look-ahead queue full: players' own requests come first
            self.segments.render_in_background(key, functools.partial(self._await_job, key, spec, job))


KNOWN_ANSWERS = (ClipDecodeError, EngineOverloaded, EngineClosed, RenderTimedOut)
"""Failures that mean the same on a second try: passed on, never retried."""


def _render(kind: RenderKind, spec: SegmentSpec, renderer: Renderer) -> bytes:
    return renderer.render(kind, spec)
