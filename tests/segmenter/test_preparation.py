"""Background preparation: every clip at every size, start rendition first, within the store's budget."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assets.catalogue import load_catalogue
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.frame_store import FrameStore, frame_bytes
from segmenter.preparation import ClipPreparer
from segmenter.spec import ClipRef, clip_ref_of

WAIT_SECONDS = 120


@pytest.fixture(scope="module")
def clips(sample_clips_dir: Path) -> list[ClipRef]:
    catalogue = load_catalogue(sample_clips_dir)
    return [clip_ref_of(catalogue.get(name)) for name in ("squat", "jumping_jack")]


def test_every_clip_is_prepared_at_every_size_and_progress_says_so(clips, tmp_path):
    renditions = DEFAULT_RENDITIONS[:2]
    preparer = ClipPreparer(FrameStore(tmp_path, 1 << 32), renditions)
    try:
        assert preparer.enqueue(clips) == 4
        assert preparer.enqueue(clips) == 0  # queued already: not twice
        assert preparer.wait(WAIT_SECONDS)
        progress = preparer.progress()
    finally:
        preparer.close()
    assert progress.done and (progress.prepared, progress.decoded, progress.failed) == (4, 4, 0)
    assert all(preparer.store.is_prepared(c, r) for c in clips for r in renditions)


def test_pairs_beyond_the_budget_are_skipped_start_rendition_first(clips, tmp_path):
    small, large = DEFAULT_RENDITIONS[0], DEFAULT_RENDITIONS[-1]
    budget = sum((c.frames + 1) * frame_bytes(small) for c in clips) + frame_bytes(large)
    preparer = ClipPreparer(FrameStore(tmp_path, budget), (small, large))
    try:
        assert preparer.enqueue(clips) == 2
        assert preparer.wait(WAIT_SECONDS)
        progress = preparer.progress()
    finally:
        preparer.close()
    assert progress.skipped == 2
    assert all(preparer.store.is_prepared(c, small) for c in clips)


def test_a_broken_clip_is_counted_failed_and_the_others_are_still_prepared(clips, tmp_path):
    broken = replace(clips[0], exercise_id="broken", path=str(tmp_path / "missing.mp4"), version="missing")
    preparer = ClipPreparer(FrameStore(tmp_path / "frames", 1 << 32), DEFAULT_RENDITIONS[:1])
    try:
        preparer.enqueue([broken, clips[1]])
        assert preparer.wait(WAIT_SECONDS)
        progress = preparer.progress()
    finally:
        preparer.close()
    assert (progress.prepared, progress.failed) == (1, 1)
    assert preparer.store.is_prepared(clips[1], DEFAULT_RENDITIONS[0])
