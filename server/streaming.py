"""The streaming service: plans in, playlists and segment bytes out.

This is where side effects live (store, caches, the render pool); the maths it
calls (plan -> timeline -> segment spec -> bytes) is pure.

Faults it survives: a render that fails for a reason that is not the clip's (a
render process killed or crashed mid-render, an internal error) is retried
once on a live worker, then answered 500 `render_failed`; a clip that cannot be
read or decoded is 503 `clip_unavailable` naming the exercise; a request waits
at most `render_timeout` seconds for its segment (queue included), then gets
504 `render_timeout` and the single-flight entry is dropped so the next request
renders afresh. An abandoned render goes on: its late result still lands in
the cache, since the CPU was spent anyway.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from assets.catalogue import Catalogue, UnknownExercise
from assets.repository import ConstraintViolation
from playlists.plan import DEFAULT_LANGUAGE, LANGUAGES, Language, Plan, canonical_json, plan_id
from playlists.presentation import TS, Presentation, build_presentation
from playlists.renditions import Rendition
from segmenter.cache import SegmentCache
from segmenter.captions import exercise_name
from segmenter.cmaf import init_segment
from segmenter.codecs import codecs_attribute
from segmenter.frame_store import FrameStore
from segmenter.frames import ClipDecodeError
from segmenter.overlays import warm_stamps
from segmenter.pool import Job, PoolClosed, PoolOverloaded, Priority, RenderPool
from segmenter.preparation import ClipPreparer
from segmenter.workers import (
    InProcessRenderer,
    RenderKind,
    Renderer,
    RenderProcess,
    StoreSettings,
    WorkerSettings,
    WorkerStartFailed,
)
from segmenter.shared_store import SharedSegmentStore
from segmenter.spec import (
    ClipRef,
    MusicRef,
    SegmentNotFound,
    SegmentSpec,
    SpecBuilder,
    clip_ref_of,
)
from segmenter.text import FontUnavailable
from server.errors import (
    ApiError,
    ClipUnavailable,
    InvalidPlan,
    NotFound,
    Overloaded,
    RenderFailed,
    RenderTimeout,
    ShuttingDown,
)
from server.exercises import ExerciseCatalogue
from server.metrics import Metrics

PRESENTATION_CACHE_SIZE = 256
DEFAULT_RENDER_TIMEOUT_SECONDS = 30.0
POOL_CLOSE_SECONDS = 5.0
"""At shutdown, how long a render still running may delay the exit (its worker is a daemon thread)."""
IFRAME_KEY_PREFIX = "iframe:"
"""An I-frame resource is cached beside its segment, under the segment's key with this prefix."""
log = logging.getLogger(__name__)


class StreamingService:
    def __init__(
        self,
        exercises: ExerciseCatalogue,
        renditions: tuple[Rendition, ...],
        frame_store: FrameStore,
        segment_cache: SegmentCache,
        render_workers: int,
        render_processes: bool = True,
        warm_clips: bool = True,
        render_queue: int = 8,
        look_ahead: int = 2,
        shared: SharedSegmentStore | None = None,
        metrics: Metrics | None = None,
        render_timeout: float = DEFAULT_RENDER_TIMEOUT_SECONDS,
    ) -> None:
        self.exercises = exercises
        self.renditions = renditions
        self.frames = frame_store
        self.segments = segment_cache
        self.codecs = {rendition.name: codecs_attribute(rendition) for rendition in renditions}
        self.preparer = ClipPreparer(frame_store, renditions)
        self.render_processes = render_processes
        self.warm_clips = warm_clips
        """Clips are prepared ahead (start-up, uploads, refreshes) and readiness waits for that."""
        self.pool = RenderPool(
            render_workers,
            max_urgent_queued=render_queue,
            max_ahead_queued=max(1, look_ahead * render_workers),
            make_renderer=self._make_renderer,
        )
        self.look_ahead = look_ahead
        self.render_timeout = render_timeout
        self.render_timeouts = 0
        """Requests answered 504 because their segment was not ready in time."""
        self.render_retries = 0
        """Renders retried after an unexpected failure (a worker lost mid-render, an internal error)."""
        self._jobs: dict[str, Job] = {}
        self._waiters: dict[str, int] = {}
        self.shared = shared
        self.metrics = metrics or Metrics()
        self._uploads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segment-upload")
        self._counter_lock = threading.Lock()
        self.rendered = 0
        """Segments this node encoded itself (not from memory or the shared tier)."""
        self._presentations: OrderedDict[str, Presentation] = OrderedDict()
        self._builders: OrderedDict[tuple, SpecBuilder] = OrderedDict()

    @property
    def catalogue(self) -> Catalogue:
        """The playable exercises as of the last refresh (no database access on the render path)."""
        return self.exercises.snapshot

    def _make_renderer(self, name: str) -> Renderer:
        """A pool thread's renderer: its own render process (started now, so the first segment does not
        wait for it), or the thread itself when processes are switched off."""
        if not self.render_processes:
            return InProcessRenderer(self.frames)
        process = RenderProcess(self.worker_settings(), name)
        try:
            process.start()
        except WorkerStartFailed:  # tried again at its first render, which then reports it
            log.exception("render process %s did not start", name)
        return process

    def worker_settings(self) -> WorkerSettings:
        start = self.renditions[0]
        return WorkerSettings(
            StoreSettings(self.frames.directory, self.frames.budget),
            warm_names=self.exercise_names(),
            warm_size=(start.width, start.height),
        )

    def exercise_names(self) -> dict[str, tuple[str, ...]]:
        """The catalogue's names as each language's screens show them (for rasterising them early)."""
        exercises = self.catalogue.list()
        return {
            language: tuple(exercise_name(e.name, e.name_fr, language) for e in exercises) for language in LANGUAGES
        }

    def start_warming(self) -> None:
        """Prepare every catalogue clip in the background (`segmenter.preparation`); with renders in
        threads, also rasterise common overlay text here (render processes do that as they start)."""
        if not self.render_processes:
            threading.Thread(target=self._warm_text, name="text-warmer", daemon=True).start()
        self.prepare_catalogue()

    def _warm_text(self) -> None:
        start = self.renditions[0]
        try:
            warm_stamps(start.width, start.height, self.exercise_names())
        except FontUnavailable:  # segments in that language will answer render_failed
            log.exception("overlay text cannot be drawn")

    def prepare_catalogue(self) -> int:
        """Queue every catalogue clip not prepared yet at every rendition (start-up, refreshes, uploads);
        how many (clip, size) pairs were queued. A clip that cannot be looked up is skipped: its
        segments answer why."""
        clips = []
        for exercise in self.catalogue.list():
            try:
                clips.append(self.clip_ref(exercise.id))
            except ClipUnavailable:
                continue
        return self.preparer.enqueue(clips)

    def prepare_clip(self, exercise_id: str) -> None:
        """Prepare a newly attached clip for every rendition, in the background."""
        try:
            self.preparer.enqueue([self.clip_ref(exercise_id)])
        except ClipUnavailable as error:  # not in this node's snapshot yet: the next refresh queues it
            log.info("clip %s not prepared now: %s", exercise_id, error)

    def clips_prepared(self) -> tuple[int, int]:
        """(prepared, total) (clip, rendition) pairs of the catalogue as it is now."""
        prepared = total = 0
        for exercise in self.catalogue.list():
            try:
                clip = self.clip_ref(exercise.id)
            except ClipUnavailable:
                continue
            for rendition in self.renditions:
                total += 1
                prepared += self.frames.is_prepared(clip, rendition)
        return prepared, total

    async def close(self) -> None:
        await asyncio.to_thread(self.preparer.close)
        await asyncio.to_thread(self.pool.close, POOL_CLOSE_SECONDS)
        await asyncio.to_thread(self._uploads.shutdown, wait=True)

    def check_references(self, plan: Plan) -> None:
        """Every exercise and the music track the plan names must be in the catalogue."""
        unknown = [
            {
                "loc": ["items", index, "exercise_id"],
                "type": "unknown_exercise",
                "msg": f"unknown exercise {item.exercise_id!r}, or it has no clip yet",
            }
            for index, item in enumerate(plan.items)
            if item.exercise_id not in self.catalogue
        ]
        if plan.music is not None and plan.music not in self.catalogue.music:
            unknown.append({"loc": ["music"], "msg": f"unknown music track {plan.music!r}", "type": "unknown_music"})
        if unknown:
            raise InvalidPlan("the plan names things that are not in the catalogue", unknown)

    async def create_plan(self, plan: Plan) -> tuple[str, bool]:
        """Store the plan under its content id; (id, True if it was new)."""
        self.check_references(plan)
        identifier = plan_id(plan)
        exercise_ids = [item.exercise_id for item in plan.items]
        try:
            created = await self.exercises.repository.save_plan(identifier, canonical_json(plan), exercise_ids)
        except ConstraintViolation as error:  # an exercise deleted since the check above
            raise InvalidPlan("the plan names an exercise that is no longer in the catalogue", None) from error
        return identifier, created

    async def presentation(self, identifier: str) -> Presentation:
        if identifier in self._presentations:
            self._presentations.move_to_end(identifier)
            return self._presentations[identifier]
        stored = await self.exercises.repository.load_plan(identifier)
        if stored is None:
            raise NotFound(f"no plan with id {identifier!r}")
        presentation = build_presentation(Plan.model_validate(json.loads(stored)), self.renditions)
        self._presentations[identifier] = presentation
        while len(self._presentations) > PRESENTATION_CACHE_SIZE:
            self._presentations.popitem(last=False)
        return presentation

    def rendition(self, presentation: Presentation, name: str) -> Rendition:
        try:
            return presentation.rendition(name)
        except KeyError:
            known = ", ".join(r.name for r in presentation.renditions)
            raise NotFound(f"no rendition {name!r} (have: {known})") from None

    async def multivariant_playlist(self, identifier: str, container: str = TS) -> str:
        presentation = await self.presentation(identifier)
        return presentation.multivariant_playlist(self.codecs, container).render()

    async def media_playlist(self, identifier: str, rendition_name: str, container: str = TS) -> str:
        presentation = await self.presentation(identifier)
        self.rendition(presentation, rendition_name)
        return presentation.media_playlist(container).render()

    def clip_ref(self, exercise_id: str, language: Language = DEFAULT_LANGUAGE) -> ClipRef:
        """The exercise's clip, named as a screen in `language` shows it."""
        try:
            return clip_ref_of(self.catalogue.get(exercise_id), language)
        except UnknownExercise:  # its clip failed the catalogue's check, or the exercise was deleted since
            raise ClipUnavailable(f"exercise {exercise_id!r} has no playable clip at the moment") from None
        except OSError as error:
            raise ClipUnavailable(f"the clip of exercise {exercise_id!r} is missing: {error.strerror}") from error

    def music_ref(self, presentation: Presentation) -> MusicRef | None:
        track_id = presentation.plan.music
        if track_id is None:
            return None
        track = self.catalogue.music.get(track_id)
        if track is None:
            raise ClipUnavailable(f"music track {track_id!r} is no longer in the catalogue")
        try:
            return MusicRef(track.id, str(track.path), track.version())
        except OSError as error:
            raise ClipUnavailable(f"music track {track_id!r} is missing: {error.strerror}") from error

    def clip_refs(self, presentation: Presentation) -> dict[str, ClipRef]:
        plan = presentation.plan
        return {exercise_id: self.clip_ref(exercise_id, plan.language) for exercise_id in set(plan.exercise_ids())}

    def spec_builder(self, presentation: Presentation, rendition: Rendition, container: str = TS) -> SpecBuilder:
        """The presentation's spec builder for the clip and music files as they are now.

        Looking the files up on every request (a stat each) is what makes a
        replaced clip change the keys at once; the builder itself, with its
        cues and keys, is reused while the files stay the same.
        """
        clips, music = self.clip_refs(presentation), self.music_ref(presentation)
        identity = (id(presentation), rendition.name, container, tuple(sorted(clips.items())), music)
        builder = self._builders.get(identity)
        if builder is None or builder.presentation is not presentation:
            builder = self._builders[identity] = SpecBuilder(presentation, rendition, clips, music, container)
        self._builders.move_to_end(identity)
        while len(self._builders) > PRESENTATION_CACHE_SIZE:
            self._builders.popitem(last=False)
        return builder

    async def init_segment(self, identifier: str, rendition_name: str) -> bytes:
        """The fMP4 init segment of a rendition (the same for every plan)."""
        presentation = await self.presentation(identifier)
        return await asyncio.to_thread(init_segment, self.rendition(presentation, rendition_name))

    async def iframe_playlist(self, identifier: str, rendition_name: str) -> str:
        presentation = await self.presentation(identifier)
        self.rendition(presentation, rendition_name)
        return presentation.iframe_playlist().render()

    async def iframe(self, identifier: str, rendition_name: str, index: int) -> tuple[bytes, str]:
        """Segment `index`'s keyframe alone (trick play); cached like segments, no look-ahead."""
        presentation = await self.presentation(identifier)
        builder = self.spec_builder(presentation, self.rendition(presentation, rendition_name))
        try:
            key = IFRAME_KEY_PREFIX + builder.key(index)
        except SegmentNotFound as error:
            raise NotFound(str(error)) from None

        async def render() -> bytes:
            run = functools.partial(_clip_errors_answered, RenderKind.IFRAME, builder.spec(index))
            job = self._submit(run, Priority.URGENT)
            return await asyncio.wrap_future(job.future)

        return await self._within_time_limit(key, self.segments.get_or_render(key, render)), key

    def _submit(self, run: Callable[[Renderer], bytes], priority: Priority) -> Job:
        try:
            job = self.pool.submit(run, priority)
        except PoolOverloaded as error:
            raise Overloaded(str(error)) from None
        except PoolClosed as error:
            raise ShuttingDown(str(error)) from None
        if job is None:
            raise RuntimeError("an urgent render is never skipped")  # submit only skips look-ahead
        return job

    def cached_segment(
        self, identifier: str, rendition_name: str, index: int, container: str = TS
    ) -> tuple[bytes, str] | None:
        """A cache hit answered without a task or a wait (None otherwise: use `segment`).

        Most requests are hits; this path does the same lookups as `segment`
        (including the clip file check) minus the machinery for waiting.
        """
        presentation = self._presentations.get(identifier)
        if presentation is None or not 0 <= index < len(presentation.segments):
            return None
        try:
            builder = self.spec_builder(presentation, self.rendition(presentation, rendition_name), container)
        except NotFound:
            return None
        key = builder.key(index)
        data = self.segments.get(key)
        if data is None:
            return None
        self._look_ahead(builder, index)
        return data, key

    async def segment(self, identifier: str, rendition_name: str, index: int, container: str = TS) -> tuple[bytes, str]:
        """The segment's bytes and content key; starts look-ahead of the segments after it."""
        presentation = await self.presentation(identifier)
        rendition = self.rendition(presentation, rendition_name)
        builder = self.spec_builder(presentation, rendition, container)
        try:
            key = builder.key(index)
        except SegmentNotFound as error:
            raise NotFound(str(error)) from None
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
        except (asyncio.CancelledError, RenderTimeout):
            raise  # gave up waiting: a render still queued for nobody else is dropped
        except BaseException:
            gave_up = False  # the render failed: nothing left to drop
            raise
        finally:
            self._forget_waiter(key, gave_up=gave_up)
        self._look_ahead(builder, index)
        return data, key

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
            raise RenderTimeout(
                f"the segment was not ready within {self.render_timeout:g} s; it may be ready on retry"
            ) from None

    def _produce(self, key: str, spec: SegmentSpec, renderer: Renderer) -> bytes:
        """On a render worker's thread: the shared tier's copy if another node made it, else render
        (in the worker's process) and share."""
        if self.shared is not None:
            data = self.shared.get(key)
            if data is not None:
                return data
        with self.metrics.render(spec.rendition.name, spec.container.value):
            data = _clip_errors_answered(RenderKind.SEGMENT, spec, renderer)
        with self._counter_lock:
            self.rendered += 1
        if self.shared is not None:
            self._uploads.submit(self.shared.put, key, data)  # the player does not wait for the upload
        return data

    async def _render(self, key: str, spec: SegmentSpec, priority: Priority) -> bytes:
        job = self._submit(functools.partial(self._produce, key, spec), priority)
        return await self._await_job(key, spec, job)

    async def _await_job(self, key: str, spec: SegmentSpec, job: Job) -> bytes:
        """The job's bytes; an unexpected failure is retried once on a live worker (the pool replaces
        a worker that died), a second one is `RenderFailed`. Known answers (a broken clip, overload)
        are not retried: a second attempt would meet the same cause."""
        try:
            return await self._job_result(key, job)
        except ApiError:
            raise
        except Exception as error:
            self.render_retries += 1
            log.warning("render of segment %s failed, retrying once: %r", key, error)
        retry = self._submit(functools.partial(self._produce, key, spec), Priority.URGENT)
        try:
            return await self._job_result(key, retry)
        except ApiError:
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


def _clip_errors_answered(kind: RenderKind, spec: SegmentSpec, renderer: Renderer) -> bytes:
    """Render; a clip that cannot be decoded becomes 503 `clip_unavailable` naming the exercise."""
    try:
        return renderer.render(kind, spec)
    except ClipDecodeError as error:
        raise ClipUnavailable(f"the clip of exercise {error.exercise_id!r} cannot be decoded: {error}") from error
