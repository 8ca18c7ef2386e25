"""The streaming service: plans in, playlists and segment bytes out.

This is where side effects live (store, caches, the render pool); the maths it
calls (plan -> timeline -> segment spec -> bytes) is pure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor

from assets.catalogue import Catalogue
from assets.store import PlanStore
from playlists.plan import Plan, canonical_json, plan_id
from playlists.presentation import Presentation, build_presentation
from playlists.renditions import Rendition
from segmenter.cache import SegmentCache
from segmenter.codecs import codecs_attribute
from segmenter.frames import FrameLibrary
from segmenter.render import render_segment
from segmenter.spec import ClipRef, MusicRef, SegmentNotFound, build_segment_spec, clip_ref_of
from server.errors import ClipUnavailable, InvalidPlan, NotFound

PRESENTATION_CACHE_SIZE = 256
log = logging.getLogger(__name__)


class StreamingService:
    def __init__(
        self,
        catalogue: Catalogue,
        store: PlanStore,
        renditions: tuple[Rendition, ...],
        frame_library: FrameLibrary,
        segment_cache: SegmentCache,
        render_workers: int,
    ) -> None:
        self.catalogue = catalogue
        self.store = store
        self.renditions = renditions
        self.frames = frame_library
        self.segments = segment_cache
        self.codecs = {rendition.name: codecs_attribute(rendition) for rendition in renditions}
        self._executor = ThreadPoolExecutor(max_workers=render_workers, thread_name_prefix="render")
        self._presentations: OrderedDict[str, Presentation] = OrderedDict()
        self._stop_warming = threading.Event()
        self._warmer: threading.Thread | None = None

    def start_warming(self) -> None:
        """Decode every catalogue clip for every rendition in the background.

        Decoding a clip (ProRes with alpha especially) takes seconds; doing it
        before the first player asks keeps cold segments at encode cost.
        """
        self._warmer = threading.Thread(target=self._warm, name="clip-warmer", daemon=True)
        self._warmer.start()

    def _warm(self) -> None:
        for exercise in self.catalogue.list():
            for rendition in self.renditions:
                if self._stop_warming.is_set():
                    return
                try:
                    self.frames.clip_frames(self.clip_ref(exercise.id), rendition)
                except Exception:  # a broken clip must not stop the others; requests report it
                    log.exception("could not prepare clip %s for %s", exercise.id, rendition.name)

    async def close(self) -> None:
        self._stop_warming.set()
        if self._warmer is not None:
            await asyncio.to_thread(self._warmer.join)
        self._executor.shutdown(wait=True, cancel_futures=True)
        await self.store.close()

    def check_references(self, plan: Plan) -> None:
        """Every exercise and the music track the plan names must be in the catalogue."""
        unknown = [
            {"loc": ["items", index, "exercise_id"], "msg": f"unknown exercise {item.exercise_id!r}"}
            for index, item in enumerate(plan.items)
            if item.exercise_id not in self.catalogue
        ]
        if plan.music is not None and plan.music not in self.catalogue.music:
            unknown.append({"loc": ["music"], "msg": f"unknown music track {plan.music!r}"})
        if unknown:
            raise InvalidPlan("the plan names things that are not in the catalogue", unknown)

    async def create_plan(self, plan: Plan) -> tuple[str, bool]:
        """Store the plan under its content id; (id, True if it was new)."""
        self.check_references(plan)
        identifier = plan_id(plan)
        created = await self.store.save(identifier, canonical_json(plan))
        return identifier, created

    async def presentation(self, identifier: str) -> Presentation:
        if identifier in self._presentations:
            self._presentations.move_to_end(identifier)
            return self._presentations[identifier]
        stored = await self.store.load(identifier)
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

    async def multivariant_playlist(self, identifier: str) -> str:
        presentation = await self.presentation(identifier)
        return presentation.multivariant_playlist(self.codecs).render()

    async def media_playlist(self, identifier: str, rendition_name: str) -> str:
        presentation = await self.presentation(identifier)
        self.rendition(presentation, rendition_name)
        return presentation.media_playlist().render()

    def clip_ref(self, exercise_id: str) -> ClipRef:
        try:
            return clip_ref_of(self.catalogue.get(exercise_id))
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
        return {exercise_id: self.clip_ref(exercise_id) for exercise_id in set(presentation.plan.exercise_ids())}

    async def segment(self, identifier: str, rendition_name: str, index: int) -> bytes:
        presentation = await self.presentation(identifier)
        rendition = self.rendition(presentation, rendition_name)
        try:
            spec = build_segment_spec(
                presentation, rendition, index, self.clip_refs(presentation), self.music_ref(presentation)
            )
        except SegmentNotFound as error:
            raise NotFound(str(error)) from None
        loop = asyncio.get_running_loop()
        return await self.segments.get_or_render(
            spec, lambda: loop.run_in_executor(self._executor, render_segment, spec, self.frames)
        )
