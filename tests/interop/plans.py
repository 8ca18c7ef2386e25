"""The plans the interoperability suite plays: each one is an edge case a real coach app can post.

Kept short (22-27 s of media, 168 s in all) so that every client can play every plan within the test
run's budget on a slow machine; what makes each one hard is its shape, not its length (the first
release's 60 one-second items and 37 s interval at 6 s segments became 20 items and 19 s: the same
edge cases, 58 s less media to render, check and play).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import cycle, islice

from playlists.media import AAC_FRAME_SIZE, AUDIO_SAMPLE_RATE, OUTPUT_FPS
from playlists.plan import Plan

SAMPLE_EXERCISES = ("squat", "jumping_jack", "push_up", "lunge", "plank", "burpee")
"""The first six sample clips, the formats the plans exercise: 1080p30, 720p30, 1080p25, ProRes 4444 alpha 720p25,
ProRes alpha 1080p30, 720p60."""


@dataclass(frozen=True)
class InteropPlan:
    name: str
    why: str
    """The edge case it covers, for the report."""
    body: dict

    @property
    def duration_seconds(self) -> int:
        return Plan.model_validate(self.body).total_seconds()

    @property
    def video_frames(self) -> int:
        return self.duration_seconds * OUTPUT_FPS

    @property
    def audio_samples(self) -> int:
        """Audio runs on a global grid of whole AAC frames covering the video."""
        return math.ceil(self.duration_seconds * AUDIO_SAMPLE_RATE / AAC_FRAME_SIZE) * AAC_FRAME_SIZE


ONE_SECOND_ITEMS = 20
"""Enough one-second blocks to cycle through every sample clip three times over."""


def _one_second_items() -> dict:
    return {
        "items": [
            {"exercise_id": exercise, "work_seconds": 1}
            for exercise in islice(cycle(SAMPLE_EXERCISES), ONE_SECOND_ITEMS)
        ],
        "intensity": "medium",
    }


PLANS: tuple[InteropPlan, ...] = (
    InteropPlan(
        "single-exercise",
        "one exercise, no rest: the shortest presentation (intro, one block, closing card), French on screen",
        {"items": [{"exercise_id": "squat", "work_seconds": 15}], "language": "fr"},
    ),
    InteropPlan(
        "one-second-items",
        "20 one-second exercises cycling through every clip: a block boundary every second, 23 segments",
        _one_second_items(),
    ),
    InteropPlan(
        "speed-0.5-music",
        "half speed (clip frames repeated), a 60 fps clip, background music under the cues",
        {
            "items": [
                {"exercise_id": "burpee", "work_seconds": 6, "rest_seconds": 3},
                {"exercise_id": "jumping_jack", "work_seconds": 6},
            ],
            "speed": 0.5,
            "music": "groove",
        },
    ),
    InteropPlan(
        "speed-2.0",
        "double speed (clip frames skipped), opaque and alpha 1080p clips, two rounds",
        {
            "items": [
                {"exercise_id": "squat", "work_seconds": 4, "rest_seconds": 2},
                {"exercise_id": "plank", "work_seconds": 3},
            ],
            "rounds": 2,
            "rest_between_rounds_seconds": 2,
            "speed": 2.0,
        },
    ),
    InteropPlan(
        "odd-19s-6s-segments",
        "a 19 s interval with 6 s target segments: three 6.33 s segments (EXTINF above the target, rounding to it), cuts on no whole second",
        {
            "items": [{"exercise_id": "push_up", "work_seconds": 19}],
            "segment_seconds": 6,
            "intensity": "low",
        },
    ),
    InteropPlan(
        "2s-segments",
        "2 s target segments: twice the segments per second of the default",
        {
            "items": [
                {"exercise_id": "jumping_jack", "work_seconds": 6, "rest_seconds": 3},
                {"exercise_id": "burpee", "work_seconds": 6},
            ],
            "segment_seconds": 2,
            "intensity": "high",
        },
    ),
    InteropPlan(
        "alpha-25fps",
        "ProRes 4444 clips with alpha at 25 fps (resampled to 30) and 30 fps, composited over the backdrop",
        {
            "items": [
                {"exercise_id": "lunge", "work_seconds": 7, "rest_seconds": 3},
                {"exercise_id": "push_up", "work_seconds": 5, "speed": 1.5},
            ],
            "intensity": "high",
        },
    ),
)
