"""Which source clip frame each output frame shows.

Rule: output frame n of a block (time t = n / output_fps) shows the clip frame
that is on screen at clip time t * speed, i.e. floor(t * speed * clip_fps),
wrapped around the loop. Computed in exact fractions, so 1.33x or a 25 fps clip
in a 30 fps output never drifts, whichever segment renders the frame.
"""

from __future__ import annotations

import math
from fractions import Fraction


def source_frame_index(
    frame_in_block: int, speed: Fraction, clip_fps: Fraction, clip_frames: int, output_fps: int
) -> int:
    position = Fraction(frame_in_block) * speed * clip_fps / output_fps
    return math.floor(position) % clip_frames
