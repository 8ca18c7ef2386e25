"""Frames a browser player lost: Firefox is judged on what it decoded, Chromium on its dropped share."""

from __future__ import annotations

from types import SimpleNamespace

from tests.clients.browser_page import _report
from tests.interop.clients import MAX_DROPPED_FRAME_SHARE, _frame_check

PLAN_FRAMES = 810
STREAM = SimpleNamespace(plan=SimpleNamespace(video_frames=PLAN_FRAMES))


def page(**raw) -> object:
    return _report(raw, False, 30.0, False, None, "")


def passes(report) -> bool:
    return all(_frame_check(report, STREAM).values())


def test_firefox_passes_with_every_frame_decoded_however_many_the_machine_dropped():
    assert passes(page(decodedFrames=PLAN_FRAMES, droppedFrames=238, totalFrames=PLAN_FRAMES))


def test_firefox_fails_when_a_frame_of_the_plan_was_never_decoded():
    assert not passes(page(decodedFrames=PLAN_FRAMES - 30, droppedFrames=0, totalFrames=PLAN_FRAMES - 30))


def test_chromium_without_a_decoded_count_is_held_to_the_dropped_share():
    limit = int(MAX_DROPPED_FRAME_SHARE * PLAN_FRAMES)
    assert passes(page(droppedFrames=limit, totalFrames=PLAN_FRAMES))
    assert not passes(page(droppedFrames=limit + 1, totalFrames=PLAN_FRAMES))
