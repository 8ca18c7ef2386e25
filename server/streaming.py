"""The streaming service: plans in, playlists out, and segments from the render engine.

This is the server's side of rendering: it stores and loads plans, turns them
into presentations and spec builders against the catalogue as it is now, and
asks the render engine (`segmenter.engine`, which owns scheduling, caches,
workers and prepared frames) for the bytes. The engine's errors become HTTP
answers here: overloaded 503, shutting down 503, time limit 504, a clip that
cannot be decoded 503 `clip_unavailable` naming the exercise, a render that
failed twice 500 `render_failed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Iterator

from assets.catalogue import Catalogue, UnknownExercise
from assets.repository import ConstraintViolation
from playlists.plan import DEFAULT_LANGUAGE, LANGUAGES, Language, Plan, canonical_json, plan_id
from playlists.presentation import TS, Presentation, build_presentation
from playlists.renditions import Rendition
from segmenter.captions import exercise_name
from segmenter.cmaf import iframe_init_segment, init_segment
from segmenter.codecs import codecs_attribute
from segmenter.engine import EngineClosed, EngineOverloaded, RenderEngine, RenderTimedOut
from segmenter.engine import RenderFailed as EngineRenderFailed
from segmenter.frames import ClipDecodeError
from segmenter.spec import ClipRef, MusicRef, SegmentNotFound, SpecBuilder, clip_ref_of
from server.errors import (
    ClipUnavailable,
    InvalidPlan,
    NotFound,
    Overloaded,
    RenderFailed,
    RenderTimeout,
    ShuttingDown,
)
from server.exercises import ExerciseCatalogue

PRESENTATION_CACHE_SIZE = 256
log = logging.getLogger(__name__)


@contextlib.contextmanager
def engine_answers() -> Iterator[None]:
    """The render engine's errors as the HTTP answers they mean."""
    try:
        yield
    except SegmentNotFound as error:
        raise NotFound(str(error)) from None
    except EngineOverloaded as error:
        raise Overloaded(str(error)) from None
    except EngineClosed as error:
        raise ShuttingDown(str(error)) from None
    except RenderTimedOut as error:
        raise RenderTimeout(str(error)) from None
    except ClipDecodeError as error:
        raise ClipUnavailable(f"the clip of exercise {error.exercise_id!r} cannot be decoded: {error}") from error
    except EngineRenderFailed as error:
        raise RenderFailed(str(error)) from error


def exercise_names(catalogue: Catalogue) -> dict[str, tuple[str, ...]]:
    """The catalogue's names as each language's screens show them (for rasterising them early)."""
    exercises = catalogue.list()
    return {language: tuple(exercise_name(e.name, e.name_fr, language) for e in exercises) for language in LANGUAGES}


class StreamingService:
    def __init__(self, exercises: ExerciseCatalogue, engine: RenderEngine, warm_clips: bool = True) -> None:
        self.exercises = exercises
        self.engine = engine
        self.renditions = engine.renditions
        self.warm_clips = warm_clips
        """Clips are prepared ahead (start-up, uploads, refreshes); readiness waits for the first round."""
        self._warmed = not warm_clips
        self.codecs = {rendition.name: codecs_attribute(rendition) for rendition in self.renditions}
        self._presentations: OrderedDict[str, Presentation] = OrderedDict()
        self._builders: OrderedDict[tuple, SpecBuilder] = OrderedDict()

    @property
    def catalogue(self) -> Catalogue:
        """The playable exercises as of the last refresh (no database access on the render path)."""
        return self.exercises.snapshot

    def start_warming(self) -> None:
        """Prepare every catalogue clip in the background; rasterise common overlay text."""
        self.engine.warm_text()
        self.prepare_catalogue()

    def still_warming(self) -> str | None:
        """What start-up preparation has left (None once it has finished: clips added later are prepared
        in the background while the node stays ready, so an upload never takes every node out at once)."""
        if self._warmed:
            return None
        progress = self.engine.preparation()
        if progress.done:
            self._warmed = True
            return None
        return f"preparing clips: {progress.pending} clip sizes to go, {progress.prepared} done"

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
        return self.engine.prepare(clips)

    def prepare_clip(self, exercise_id: str) -> None:
        """Prepare a newly attached clip for every rendition, in the background."""
        try:
            self.engine.prepare([self.clip_ref(exercise_id)])
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
                prepared += self.engine.frames.is_prepared(clip, rendition)
        return prepared, total

    async def close(self) -> None:
        await self.engine.close()

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

    async def iframe_init_segment(self, identifier: str, rendition_name: str) -> bytes:
        """The video-only init of a rendition's fMP4 I-frame playlists (the same for every plan)."""
        presentation = await self.presentation(identifier)
        return await asyncio.to_thread(iframe_init_segment, self.rendition(presentation, rendition_name))

    async def iframe_playlist(self, identifier: str, rendition_name: str, container: str = TS) -> str:
        presentation = await self.presentation(identifier)
        self.rendition(presentation, rendition_name)
        return presentation.iframe_playlist(container).render()

    async def iframe(self, identifier: str, rendition_name: str, index: int, container: str = TS) -> tuple[bytes, str]:
        """Segment `index`'s keyframe alone (trick play), in `container`: the builder's container is part
        of every spec, so a TS and an fMP4 keyframe of one segment never share a cache key."""
        presentation = await self.presentation(identifier)
        builder = self.spec_builder(presentation, self.rendition(presentation, rendition_name), container)
        with engine_answers():
            return await self.engine.iframe(builder, index)

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
        return self.engine.cached_segment(builder, index)

    async def segment(self, identifier: str, rendition_name: str, index: int, container: str = TS) -> tuple[bytes, str]:
        """The segment's bytes and content key; the engine starts look-ahead of the segments after it."""
        presentation = await self.presentation(identifier)
        builder = self.spec_builder(presentation, self.rendition(presentation, rendition_name), container)
        with engine_answers():
            return await self.engine.segment(builder, index)
