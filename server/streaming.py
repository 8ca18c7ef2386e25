"""The streaming service: plans in, playlists and segment bytes out.

This is where side effects live (store, caches, the render pool); the maths it
calls (plan -> timeline -> segment spec -> bytes) is pure.
"""

from __future__ import annotations

import asyncio
import json
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
from segmenter.spec import ClipRef, SegmentNotFound, build_segment_spec
from server.errors import InvalidPlan, NotFound

PRESENTATION_CACHE_SIZE = 256


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

    async def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
        await self.store.close()

    def check_exercises(self, plan: Plan) -> None:
        unknown = [
            {"loc": ["items", index, "exercise_id"], "msg": f"unknown exercise {item.exercise_id!r}"}
            for index, item in enumerate(plan.items)
            if item.exercise_id not in self.catalogue
        ]
        if unknown:
            raise InvalidPlan("the plan names exercises that are not in the catalogue", unknown)

    async def create_plan(self, plan: Plan) -> tuple[str, bool]:
        """Store the plan under its content id; (id, True if it was new)."""
        self.check_exercises(plan)
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

    def clip_refs(self, presentation: Presentation) -> dict[str, ClipRef]:
        refs = {}
        for exercise_id in set(presentation.plan.exercise_ids()):
            exercise = self.catalogue.get(exercise_id)
            refs[exercise_id] = ClipRef(
                exercise_id=exercise.id,
                path=str(exercise.clip_path),
                fps=exercise.fps,
                frames=exercise.frames,
                version=exercise.clip_version(),
            )
        return refs

    async def segment(self, identifier: str, rendition_name: str, index: int) -> bytes:
        presentation = await self.presentation(identifier)
        rendition = self.rendition(presentation, rendition_name)
        try:
            spec = build_segment_spec(presentation, rendition, index, self.clip_refs(presentation))
        except SegmentNotFound as error:
            raise NotFound(str(error)) from None
        loop = asyncio.get_running_loop()
        return await self.segments.get_or_render(
            spec, lambda: loop.run_in_executor(self._executor, render_segment, spec, self.frames)
        )
