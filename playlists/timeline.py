"""A plan compiled to blocks of whole output frames.

Every later decision (segment cut points, which clip frame is shown, where an
audio cue starts) is arithmetic on these frame numbers, so it is exact and the
same whichever segment asks.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from functools import cached_property

from playlists.media import OUTPUT_FPS
from playlists.plan import DEFAULT_LANGUAGE, INTRO_SECONDS, OUTRO_SECONDS, Language, Plan


class BlockKind(str, Enum):
    INTRO = "intro"
    WORK = "work"
    REST = "rest"
    OUTRO = "outro"


@dataclass(frozen=True)
class Block:
    """One interval of the workout, in output frames.

    `exercise_id` is the exercise being done (work) or coming next (intro,
    rest); the closing card has none. `round` and `item` (0-based) say where in
    the plan the block stands, for the on-screen "Round r/R", "Exercise i/N".
    """

    kind: BlockKind
    start_frame: int
    frames: int
    round: int
    item: int
    exercise_id: str | None
    speed: Fraction

    @property
    def end_frame(self) -> int:
        return self.start_frame + self.frames


@dataclass(frozen=True)
class Timeline:
    fps: int
    blocks: tuple[Block, ...]
    rounds: int
    items_per_round: int
    language: Language = DEFAULT_LANGUAGE
    """What the burned-in text is written in."""

    @property
    def total_frames(self) -> int:
        return self.blocks[-1].end_frame

    @property
    def duration(self) -> Fraction:
        return Fraction(self.total_frames, self.fps)

    def block_at(self, frame: int) -> Block:
        """The block that shows output frame `frame`."""
        if not 0 <= frame < self.total_frames:
            raise IndexError(f"frame {frame} is outside 0..{self.total_frames - 1}")
        return self.blocks[bisect.bisect_right(self._block_starts, frame) - 1]

    def blocks_between(self, first_frame: int, end_frame: int) -> tuple[Block, ...]:
        """The blocks that show any frame in [first_frame, end_frame)."""
        starts = self._block_starts
        low = max(0, bisect.bisect_right(starts, first_frame) - 1)
        high = bisect.bisect_left(starts, end_frame)
        return self.blocks[low:high]

    @cached_property
    def _block_starts(self) -> list[int]:
        return [block.start_frame for block in self.blocks]


def compile_plan(plan: Plan, fps: int = OUTPUT_FPS) -> Timeline:
    """Lay the plan out as consecutive blocks: intro, work and rest, outro.

    Within a round each exercise is followed by its own rest, except the last,
    which is followed by the between-rounds rest; nothing but the closing card
    follows the final exercise of the final round. Zero-length rests are left out.
    """
    blocks: list[Block] = []
    frame = 0
    items = plan.items

    def add(kind: BlockKind, seconds: int, round_no: int, index: int, exercise_id: str | None) -> None:
        nonlocal frame
        if seconds <= 0:
            return
        speed = plan.playback_speed(items[index])
        blocks.append(Block(kind, frame, seconds * fps, round_no, index, exercise_id, speed))
        frame += seconds * fps

    last_item = len(items) - 1
    add(BlockKind.INTRO, INTRO_SECONDS, 1, 0, items[0].exercise_id)
    for round_no in range(1, plan.rounds + 1):
        for index, item in enumerate(items):
            add(BlockKind.WORK, item.work_seconds, round_no, index, item.exercise_id)
            if index < last_item:
                add(BlockKind.REST, item.rest_seconds, round_no, index, items[index + 1].exercise_id)
            elif round_no < plan.rounds:
                between = plan.rest_between_rounds_seconds or 0
                add(BlockKind.REST, between, round_no, index, items[0].exercise_id)
    add(BlockKind.OUTRO, OUTRO_SECONDS, plan.rounds, last_item, None)
    return Timeline(
        fps=fps, blocks=tuple(blocks), rounds=plan.rounds, items_per_round=len(items), language=plan.language
    )
