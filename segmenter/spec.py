"""What one segment must contain, as plain data: a timeline plus an index gives a spec.

A spec holds everything that determines the segment's bytes, so rendering is a
function of the spec alone (and the spec can key a cache of rendered bytes).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from assets.catalogue import Exercise
from playlists.cues import Cue, cues_between, timeline_cues
from playlists.media import AAC_FRAME_SIZE, owned_aac_frames
from playlists.plan import DEFAULT_LANGUAGE, Language
from playlists.presentation import Presentation
from playlists.renditions import Rendition
from playlists.timeline import Block, BlockKind
from segmenter.captions import exercise_name

AAC_PREROLL_FRAMES = 8
"""AAC frames encoded before a segment's first one and then dropped: the encoder
needs them to produce the segment's first frame exactly as one continuous
encode would (see shared/engineering-notes.md, "Gapless AAC")."""

AAC_POSTROLL_FRAMES = 1
"""AAC frames encoded after a segment's last one and dropped, for the same reason."""


RENDERER_VERSION = "6"
"""Bump when the renderer's output changes for the same spec: it is part of every cache key."""


class SegmentNotFound(LookupError):
    """The presentation has no segment with that index."""


class Container(StrEnum):
    """How a segment's encoded streams are packaged (the same encode either way)."""

    TS = "ts"
    """MPEG-TS, one self-contained file per segment."""
    FMP4 = "fmp4"
    """Fragmented MP4 media segment, decoded after the rendition's shared init segment."""


@dataclass(frozen=True)
class ClipRef:
    """An exercise's clip, with the facts sampling needs, and its name as the plan's screens show it."""

    exercise_id: str
    name: str
    path: str = field(repr=False)
    """Where this node keeps the file: not part of the segment's identity (see `spec_key`)."""
    fps: Fraction
    frames: int
    version: str
    """Changes whenever the file does, so cached renders of an old clip are never reused."""


def clip_ref_of(exercise: Exercise, language: Language = DEFAULT_LANGUAGE) -> ClipRef:
    """The catalogue entry as the renderer sees it, named in `language` (stats the file: OSError if it is gone).

    The name is resolved here, not in the spec, so an English ClipRef is what it always was."""
    name = exercise_name(exercise.name, exercise.name_fr, language)
    return ClipRef(exercise.id, name, str(exercise.clip_path), exercise.fps, exercise.frames, exercise.clip_version())


@dataclass(frozen=True)
class MusicRef:
    """A background music track, looped under the cues."""

    track_id: str
    path: str = field(repr=False)
    version: str


@dataclass(frozen=True)
class FrameRun:
    """Consecutive output frames that come from one block, with what the overlay shows."""

    kind: BlockKind
    first_frame: int
    frames: int
    offset_in_block: int
    block_frames: int
    clip: ClipRef | None
    """Work: the exercise; intro and rest: the one coming next; outro: none."""
    speed: Fraction
    round: int
    item: int


@dataclass(frozen=True)
class SegmentSpec:
    index: int
    rendition: Rendition
    fps: int
    start_frame: int
    frames: int
    total_frames: int
    rounds: int
    items_per_round: int
    runs: tuple[FrameRun, ...]
    audio_first_frame: int
    """First AAC frame (global grid of 1024 samples) this segment owns."""
    audio_end_frame: int
    """One past the last AAC frame this segment owns."""
    cues: tuple[Cue, ...]
    """Cues that sound anywhere in the encoded span, pre- and post-roll included."""
    music: MusicRef | None
    container: Container = Container.TS
    """Part of the spec (and so of the cache key): the two containers' bytes differ."""
    language: Language = field(default=DEFAULT_LANGUAGE, repr=False)
    """What the burned-in text is written in. Left out of the repr: `spec_key` adds it for every language
    but English, so English segments keep the keys they were cached under before plans had a language."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "container", Container(self.container))  # "fmp4" keys like Container.FMP4

    @property
    def encoded_audio_frames(self) -> range:
        """AAC frames fed to the encoder: the owned ones plus pre- and post-roll."""
        return range(self.audio_first_frame - AAC_PREROLL_FRAMES, self.audio_end_frame + AAC_POSTROLL_FRAMES)


def _run(block: Block, first: int, end: int, clips: Mapping[str, ClipRef]) -> FrameRun:
    return FrameRun(
        kind=block.kind,
        first_frame=first,
        frames=end - first,
        offset_in_block=first - block.start_frame,
        block_frames=block.frames,
        clip=clips[block.exercise_id] if block.exercise_id is not None else None,
        speed=block.speed,
        round=block.round,
        item=block.item,
    )


class SpecBuilder:
    """Specs and cache keys of one presentation, rendition and set of asset versions.

    The workout's cues are laid out once, and each segment's key is computed
    once: a cache hit then costs a dictionary lookup instead of slicing the
    timeline and hashing a spec (about 1 ms per request on a 45-minute plan,
    three times over with look-ahead).
    """

    def __init__(
        self,
        presentation: Presentation,
        rendition: Rendition,
        clips: Mapping[str, ClipRef],
        music: MusicRef | None = None,
        container: Container | str = Container.TS,
    ) -> None:
        self.presentation, self.rendition, self.clips, self.music = presentation, rendition, clips, music
        self.container = Container(container)  # ValueError for an unknown container
        self._cues = timeline_cues(presentation.timeline)
        self._keys: dict[int, str] = {}

    @property
    def segment_count(self) -> int:
        return len(self.presentation.segments)

    def spec(self, index: int) -> SegmentSpec:
        """Slice the timeline for segment `index`."""
        presentation = self.presentation
        if not 0 <= index < len(presentation.segments):
            raise SegmentNotFound(f"segment {index} does not exist (0..{len(presentation.segments) - 1})")
        segment = presentation.segments[index]
        timeline = presentation.timeline
        runs = []
        for block in timeline.blocks_between(segment.start_frame, segment.end_frame):
            first = max(block.start_frame, segment.start_frame)
            end = min(block.end_frame, segment.end_frame)
            runs.append(_run(block, first, end, self.clips))
        audio_first, audio_end = owned_aac_frames(segment.start_frame, segment.end_frame, timeline.total_frames)
        encoded_first = (audio_first - AAC_PREROLL_FRAMES) * AAC_FRAME_SIZE
        encoded_end = (audio_end + AAC_POSTROLL_FRAMES) * AAC_FRAME_SIZE
        return SegmentSpec(
            index=index,
            rendition=self.rendition,
            fps=timeline.fps,
            start_frame=segment.start_frame,
            frames=segment.frames,
            total_frames=timeline.total_frames,
            rounds=timeline.rounds,
            items_per_round=timeline.items_per_round,
            runs=tuple(runs),
            audio_first_frame=audio_first,
            audio_end_frame=audio_end,
            cues=cues_between(self._cues, encoded_first, encoded_end),
            music=self.music,
            container=self.container,
            language=timeline.language,
        )

    def key(self, index: int) -> str:
        key = self._keys.get(index)
        if key is None:
            key = self._keys[index] = spec_key(self.spec(index))
        return key


def build_segment_spec(
    presentation: Presentation,
    rendition: Rendition,
    index: int,
    clips: Mapping[str, ClipRef],
    music: MusicRef | None = None,
    container: Container | str = Container.TS,
) -> SegmentSpec:
    """Slice the timeline for segment `index` of `rendition` (one-off; servers keep a SpecBuilder)."""
    return SpecBuilder(presentation, rendition, clips, music, container).spec(index)


def spec_key(spec: SegmentSpec) -> str:
    """Content hash of everything that determines a segment's bytes (strong ETag, cache key).

    The spec's repr spells out the timeline slice, the rendition and its encoder
    settings, and the clip and music content hashes, all plain data; local file
    paths are left out, so every node computes the same key for the same segment.
    A language other than English is appended: the same plan in two languages
    never shares a key (the clips' names alone may be the same in both).
    """
    identity = f"{RENDERER_VERSION}|{spec!r}"
    if spec.language != DEFAULT_LANGUAGE:
        identity += f"|language={spec.language}"
    return hashlib.sha256(identity.encode()).hexdigest()
