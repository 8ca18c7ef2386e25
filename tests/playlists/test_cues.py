from playlists.cues import FINISH, REST_START, TICK, WORK_START, cues_between, timeline_cues
from playlists.plan import Plan
from playlists.timeline import BlockKind, compile_plan

PLAN = Plan.model_validate(
    {"items": [{"exercise_id": "squat", "work_seconds": 10, "rest_seconds": 5},
               {"exercise_id": "plank", "work_seconds": 7}], "rounds": 1}
)


def at(frame: int) -> int:
    return frame * 1600


def test_every_interval_starts_with_its_tone_and_ticks_its_last_three_seconds():
    timeline = compile_plan(PLAN)
    cues = {(c.start_sample, c.frequency) for c in timeline_cues(timeline)}
    for block in timeline.blocks:
        start_tone = {BlockKind.WORK: WORK_START, BlockKind.REST: REST_START, BlockKind.OUTRO: FINISH}.get(block.kind)
        if start_tone:
            assert (at(block.start_frame), start_tone.frequency) in cues
        if block.kind is not BlockKind.OUTRO:
            for seconds_left in (3, 2, 1):
                frame = block.end_frame - seconds_left * 30
                if frame > block.start_frame or (frame == block.start_frame and start_tone is None):
                    assert (at(frame), TICK.frequency) in cues


def test_the_intro_ticks_three_two_one_and_work_starts_on_go():
    timeline = compile_plan(PLAN)
    intro, first_work = timeline.blocks[0], timeline.blocks[1]
    cues = [c for c in timeline_cues(timeline) if c.start_sample < at(first_work.start_frame) + 1]
    assert [(c.start_sample, c.frequency) for c in cues] == [
        (at(0), TICK.frequency), (at(30), TICK.frequency), (at(60), TICK.frequency),
        (at(intro.end_frame), WORK_START.frequency),
    ]


def test_cues_start_on_video_frame_boundaries_in_time_order():
    cues = timeline_cues(compile_plan(PLAN))
    assert all(c.start_sample % 1600 == 0 for c in cues)
    assert [c.start_sample for c in cues] == sorted(c.start_sample for c in cues)


def test_cues_between_keeps_cues_that_overlap_the_span():
    cues = timeline_cues(compile_plan(PLAN))
    first = cues[1]
    assert first in cues_between(cues, first.start_sample + 10, first.start_sample + 20)
    assert first not in cues_between(cues, first.start_sample + first.length_samples, first.start_sample + 10**6)
