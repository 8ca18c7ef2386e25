from fractions import Fraction

import pytest

from playlists.plan import INTRO_SECONDS, OUTRO_SECONDS, Plan
from playlists.timeline import BlockKind, compile_plan


def plan(**overrides) -> Plan:
    document = {
        "items": [
            {"exercise_id": "squat", "work_seconds": 40, "rest_seconds": 20},
            {"exercise_id": "plank", "work_seconds": 30, "rest_seconds": 10},
        ],
        "rounds": 2,
        "rest_between_rounds_seconds": 60,
    }
    document.update(overrides)
    return Plan.model_validate(document)


def test_blocks_follow_items_rounds_and_round_rests():
    timeline = compile_plan(plan())
    shape = [(b.kind, b.exercise_id, b.frames // 30, b.round) for b in timeline.blocks]
    assert shape == [
        (BlockKind.INTRO, "squat", INTRO_SECONDS, 1),
        (BlockKind.WORK, "squat", 40, 1),
        (BlockKind.REST, "plank", 20, 1),
        (BlockKind.WORK, "plank", 30, 1),
        (BlockKind.REST, "squat", 60, 1),
        (BlockKind.WORK, "squat", 40, 2),
        (BlockKind.REST, "plank", 20, 2),
        (BlockKind.WORK, "plank", 30, 2),
        (BlockKind.OUTRO, None, OUTRO_SECONDS, 2),
    ]


def test_blocks_are_contiguous_from_frame_zero_and_match_the_plan_length():
    p = plan()
    timeline = compile_plan(p)
    assert timeline.blocks[0].start_frame == 0
    for before, after in zip(timeline.blocks, timeline.blocks[1:]):
        assert after.start_frame == before.end_frame
    assert timeline.total_frames == p.total_seconds() * 30
    assert timeline.duration == Fraction(p.total_seconds())


def test_zero_rests_leave_no_block():
    timeline = compile_plan(
        plan(
            items=[{"exercise_id": "squat", "work_seconds": 5}, {"exercise_id": "plank", "work_seconds": 5}],
            rest_between_rounds_seconds=0,
        )
    )
    assert [block.kind for block in timeline.blocks[1:-1]] == [BlockKind.WORK] * 4


def test_block_at_finds_the_block_showing_a_frame():
    timeline = compile_plan(plan())
    for block in timeline.blocks:
        assert timeline.block_at(block.start_frame) is block
        assert timeline.block_at(block.end_frame - 1) is block
    with pytest.raises(IndexError):
        timeline.block_at(timeline.total_frames)


def test_speed_of_the_plan_reaches_every_block():
    timeline = compile_plan(plan(intensity="high"))
    assert {block.speed for block in timeline.blocks} == {Fraction(5, 4)}


def test_each_block_plays_at_its_items_speed():
    timeline = compile_plan(
        plan(
            items=[
                {"exercise_id": "squat", "work_seconds": 5, "speed": 0.5},
                {"exercise_id": "plank", "work_seconds": 5},
            ],
            intensity="high",
        )
    )
    work = [b for b in timeline.blocks if b.kind is BlockKind.WORK]
    assert [b.speed for b in work] == [Fraction(1, 2), Fraction(5, 4)] * 2


def test_blocks_between_are_exactly_the_blocks_showing_a_frame_of_the_span():
    timeline = compile_plan(
        Plan.model_validate(
            {"items": [{"exercise_id": "squat", "work_seconds": 5, "rest_seconds": 3}] * 3, "rounds": 2}
        )
    )
    for first in range(0, timeline.total_frames, 7):
        for end in range(first + 1, timeline.total_frames + 1, 11):
            expected = tuple(b for b in timeline.blocks if max(b.start_frame, first) < min(b.end_frame, end))
            assert timeline.blocks_between(first, end) == expected


def test_the_plans_language_reaches_the_timeline_and_leaves_the_blocks_alone():
    english, french = compile_plan(plan()), compile_plan(plan(language="fr"))
    assert (english.language, french.language) == ("en", "fr")
    assert english.blocks == french.blocks
