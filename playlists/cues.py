"""The audio cues of a workout, placed on the frames their pictures change.

Every cue starts on a video frame boundary (a whole number of 1600-sample
frames at 48 kHz / 30 fps), so a beep lands on the frame its visual counterpart
changes: the countdown's last three seconds tick as the digit changes, a work
or rest interval starts with its own tone as its screen appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from playlists.media import AUDIO_SAMPLE_RATE
from playlists.timeline import BlockKind, Timeline

COUNTDOWN_SECONDS = 3


@dataclass(frozen=True)
class Tone:
    frequency: float
    seconds: Fraction


TICK = Tone(880.0, Fraction(12, 100))
"""Each of the last three seconds of an interval."""
WORK_START = Tone(1320.0, Fraction(35, 100))
REST_START = Tone(660.0, Fraction(45, 100))
FINISH = Tone(1046.5, Fraction(80, 100))
START_TONES = {BlockKind.WORK: WORK_START, BlockKind.REST: REST_START, BlockKind.OUTRO: FINISH}


@dataclass(frozen=True)
class Cue:
    """A tone starting at a global audio sample index."""

    start_sample: int
    length_samples: int
    frequency: float


def _cue(frame: int, fps: int, tone: Tone) -> Cue:
    return Cue(frame * AUDIO_SAMPLE_RATE // fps, int(tone.seconds * AUDIO_SAMPLE_RATE), tone.frequency)


def timeline_cues(timeline: Timeline) -> tuple[Cue, ...]:
    """All cues of the workout, in time order.

    A block's start tone (work, rest, finish) plays on its first frame; the
    intro, work and rest intervals tick on each of their last three seconds,
    except where a tick would fall on a frame that already has a start tone.
    """
    fps = timeline.fps
    cues: list[Cue] = []
    for block in timeline.blocks:
        tone = START_TONES.get(block.kind)
        if tone is not None:
            cues.append(_cue(block.start_frame, fps, tone))
        if block.kind is BlockKind.OUTRO:
            continue
        for seconds_left in range(COUNTDOWN_SECONDS, 0, -1):
            frame = block.end_frame - seconds_left * fps
            if frame > block.start_frame or (frame == block.start_frame and tone is None):
                cues.append(_cue(frame, fps, TICK))
    return tuple(sorted(cues, key=lambda cue: cue.start_sample))


def cues_between(cues: tuple[Cue, ...], first_sample: int, end_sample: int) -> tuple[Cue, ...]:
    """The cues that sound anywhere in [first_sample, end_sample)."""
    return tuple(c for c in cues if c.start_sample < end_sample and c.start_sample + c.length_samples > first_sample)
