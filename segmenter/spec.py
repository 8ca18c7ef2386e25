"""What one segment must contain, as plain data: a timeline plus an index gives a spec.

A spec holds everything that determines the segment's bytes, so rendering is a
function of the spec alone (and the spec can key a cache of rendered bytes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from playlists.media import AAC_FRAME_SIZE, AUDIO_SAMPLE_RATE, owned_aac_frames
from playlists.presentation import Presentation
from playlists.renditions import Rendition
from playlists.timeline import Block, BlockKind

WORK_CUE_SECONDS = Fraction(15, 100)
"""Length of the beep that marks the start of each work interval."""

AAC_PREROLL_FRAMES = 8
"""AAC frames encoded before a segment's first one and then dropped: the encoder
needs them to produce the segment's first frame exactly as one continuous
encode would (see shared/engineering-notes.md, "Gapless AAC")."""

AAC_POSTROLL_FRAMES = 1
"""AAC frames encoded after a segment's last one and dropped, for the same reason."""


class SegmentNotFound(LookupError):
    """The presentation has no segment with that index."""


@dataclass(frozen=True)
class ClipRef:
    """The exercise clip a block samples, with the facts sampling needs."""

    exercise_id: str
    path: str
    fps: Fraction
    frames: int
    version: str
    """Changes whenever the file does, so cached renders of an old clip are never reused."""


@dataclass(frozen=True)
class FrameRun:
    """Consecutive output frames that come from one block."""

    kind: BlockKind
    first_frame: int
    frames: int
    offset_in_block: int
    clip: ClipRef
    speed: Fraction


@dataclass(frozen=True)
class Cue:
    """A beep starting at a global audio sample index."""

    start_sample: int
    length_samples: int


@dataclass(frozen=True)
class SegmentSpec:
    index: int
    rendition: Rendition
    fps: int
    start_frame: int
    frames: int
    runs: tuple[FrameRun, ...]
    audio_first_frame: int
    """First AAC frame (global grid of 1024 samples) this segment owns."""
    audio_end_frame: int
    """One past the last AAC frame this segment owns."""
    cues: tuple[Cue, ...]
    """Cues that sound anywhere in the encoded span, pre- and post-roll included."""

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
        clip=clips[block.exercise_id],
        speed=block.speed,
    )


def work_cues(presentation: Presentation, first_sample: int, end_sample: int) -> tuple[Cue, ...]:
    """Beeps at the start of each work block that sound within [first_sample, end_sample)."""
    fps = presentation.timeline.fps
    length = int(WORK_CUE_SECONDS * AUDIO_SAMPLE_RATE)
    cues = (
        Cue(block.start_frame * AUDIO_SAMPLE_RATE // fps, length)
        for block in presentation.timeline.blocks
        if block.kind is BlockKind.WORK
    )
    return tuple(cue for cue in cues if cue.start_sample < end_sample and cue.start_sample + length > first_sample)


def build_segment_spec(
    presentation: Presentation,
    rendition: Rendition,
    index: int,
    clips: Mapping[str, ClipRef],
) -> SegmentSpec:
    """Slice the timeline for segment `index` of `rendition`."""
    if not 0 <= index < len(presentation.segments):
        raise SegmentNotFound(f"segment {index} does not exist (0..{len(presentation.segments) - 1})")
    segment = presentation.segments[index]
    runs = []
    for block in presentation.timeline.blocks:
        first = max(block.start_frame, segment.start_frame)
        end = min(block.end_frame, segment.end_frame)
        if first < end:
            runs.append(_run(block, first, end, clips))
    audio_first, audio_end = owned_aac_frames(
        segment.start_frame, segment.end_frame, presentation.timeline.total_frames
    )
    encoded_first = (audio_first - AAC_PREROLL_FRAMES) * AAC_FRAME_SIZE
    encoded_end = (audio_end + AAC_POSTROLL_FRAMES) * AAC_FRAME_SIZE
    return SegmentSpec(
        index=index,
        rendition=rendition,
        fps=presentation.timeline.fps,
        start_frame=segment.start_frame,
        frames=segment.frames,
        runs=tuple(runs),
        audio_first_frame=audio_first,
        audio_end_frame=audio_end,
        cues=work_cues(presentation, encoded_first, encoded_end),
    )
