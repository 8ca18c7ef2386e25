"""The prepared frame store: exact pictures on disk, one decode per clip and size, a bounded directory."""

from __future__ import annotations

import os
import pickle
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from assets.catalogue import load_catalogue
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.frame_store import PARTIAL_SUFFIX, STALE_PARTIAL_SECONDS, FrameStore, frame_bytes
from segmenter.frames import REST_DIM, ClipDecodeError, decoded_pictures, dimmed
from segmenter.spec import ClipRef, clip_ref_of

SMALL = min(DEFAULT_RENDITIONS, key=lambda rendition: rendition.width)


@pytest.fixture(scope="module")
def clips(sample_clips_dir: Path) -> dict[str, ClipRef]:
    return {e.id: clip_ref_of(e) for e in load_catalogue(sample_clips_dir).exercises.values()}


def test_prepared_frames_are_the_decoded_pictures_and_the_rest_still_is_the_first_one_dimmed(clips, tmp_path):
    store = FrameStore(tmp_path, 1 << 30)
    clip = clips["lunge"]  # ProRes with alpha: composited over the backdrop
    frames = store.clip_frames(clip, SMALL)
    expected = list(decoded_pictures(clip.path, SMALL.width, SMALL.height, store.background(SMALL)))
    assert len(frames.frames) == clip.frames == len(expected)
    for picture, reference in zip(frames.frames, expected, strict=True):
        assert np.array_equal(picture, reference)
    assert np.array_equal(frames.rest_still, dimmed(expected[0], REST_DIM))
    assert store.path(clip, SMALL).stat().st_size == (clip.frames + 1) * frame_bytes(SMALL)


def test_frames_are_memory_mapped_not_copied_into_the_process(clips, tmp_path):
    frames = FrameStore(tmp_path, 1 << 30).clip_frames(clips["squat"], SMALL)
    assert isinstance(frames.frames.base, np.memmap) or isinstance(frames.frames, np.memmap)
    assert not frames.frames.flags.writeable


def test_concurrent_requests_for_one_clip_decode_it_once(clips, tmp_path):
    stores = [FrameStore(tmp_path, 1 << 30) for _ in range(4)]  # as four processes would
    barrier = threading.Barrier(len(stores))

    def prepare(store: FrameStore) -> None:
        barrier.wait()
        store.clip_frames(clips["burpee"], SMALL)

    threads = [threading.Thread(target=prepare, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(store.prepared_here for store in stores) == 1
    assert not list(tmp_path.glob(f"*{PARTIAL_SUFFIX}"))


def test_a_clip_copied_elsewhere_shares_the_prepared_file(clips, tmp_path):
    store = FrameStore(tmp_path / "frames", 1 << 30)
    store.prepare(clips["squat"], SMALL)
    copy = tmp_path / "copy.mp4"
    shutil.copy(clips["squat"].path, copy)
    assert store.prepare(replace(clips["squat"], path=str(copy)), SMALL) is False


def test_the_least_recently_opened_files_go_first_and_never_the_one_just_written(clips, tmp_path):
    one = (clips["squat"].frames + 1) * frame_bytes(SMALL)
    store = FrameStore(tmp_path, budget_bytes=2 * one + frame_bytes(SMALL))
    store.prepare(clips["squat"], SMALL)
    os.utime(store.path(clips["squat"], SMALL), (time.time() - 60, time.time() - 60))
    store.prepare(clips["push_up"], SMALL)  # same frame count as squat
    store.prepare(clips["jumping_jack"], SMALL)  # the three files do not fit: the oldest goes
    assert not store.is_prepared(clips["squat"], SMALL)
    assert store.is_prepared(clips["push_up"], SMALL) and store.is_prepared(clips["jumping_jack"], SMALL)
    tiny = FrameStore(tmp_path / "tiny", budget_bytes=1)
    tiny.prepare(clips["squat"], SMALL)
    assert tiny.is_prepared(clips["squat"], SMALL)  # larger than the budget, but the one in use stays


def test_a_clip_shorter_than_the_catalogue_says_is_a_decode_error_and_leaves_no_file(clips, tmp_path):
    store = FrameStore(tmp_path, 1 << 30)
    lying = replace(clips["squat"], frames=clips["squat"].frames + 5, version="lying")
    with pytest.raises(ClipDecodeError) as caught:
        store.clip_frames(lying, SMALL)
    assert caught.value.exercise_id == "squat"
    assert not store.is_prepared(lying, SMALL)
    assert not list(tmp_path.glob(f"*{PARTIAL_SUFFIX}"))


def test_a_decode_error_keeps_its_exercise_when_it_crosses_a_process_boundary():
    error = pickle.loads(pickle.dumps(ClipDecodeError("plank", "truncated")))
    assert (error.exercise_id, str(error)) == ("plank", "truncated")


def test_partial_files_left_by_a_dead_preparer_are_removed_at_start(tmp_path):
    stale, fresh = tmp_path / f"a.yuv.1.2{PARTIAL_SUFFIX}", tmp_path / f"b.yuv.1.3{PARTIAL_SUFFIX}"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    old = time.time() - STALE_PARTIAL_SECONDS - 60
    os.utime(stale, (old, old))
    FrameStore(tmp_path, 1 << 30)
    assert not stale.exists() and fresh.exists()  # a fresh one may be another process's, being written


def test_a_long_unprepared_clip_is_decoded_frame_by_frame_with_the_prepared_pictures(
    clips, tmp_path, monkeypatch
):
    """Over the on-demand limit, a segment decodes only what it samples (seeking ahead, restarting at a
    loop's wrap) and gets exactly the pictures preparation would have written; nothing is written."""
    from segmenter import frame_store

    clip = clips["burpee"]  # 180 frames at 60 fps: long enough to seek within
    reference = FrameStore(tmp_path / "prepared", 1 << 32).clip_frames(clip, SMALL)
    monkeypatch.setattr(frame_store, "PREPARE_ON_DEMAND_BYTES", 0)
    store = FrameStore(tmp_path / "lazy", 1 << 32)
    lazy = store.clip_frames(clip, SMALL)
    assert isinstance(lazy.frames, frame_store.DecodedFrames) and not store.is_prepared(clip, SMALL)
    for index in [0, 1, 2, 40, 41, 150, 179, 3, 100]:
        assert np.array_equal(lazy.frames[index], reference.frames[index]), index
    assert np.array_equal(lazy.rest_still, reference.rest_still)
    assert lazy.frames.decoder_starts <= 5  # start, seek to 150, back to 3, ahead to 100 (or sequential)
    assert store.prepared == 0


def test_a_segment_of_an_unprepared_long_clip_has_the_same_bytes_as_from_prepared_frames(
    sample_clips_dir, frame_store, tmp_path, monkeypatch
):
    from segmenter import frame_store as frame_store_module
    from playlists.plan import Plan
    from playlists.presentation import build_presentation
    from segmenter.render import render_segment
    from segmenter.spec import SpecBuilder

    catalogue = load_catalogue(sample_clips_dir)
    refs = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    plan = Plan.model_validate({"items": [{"exercise_id": "burpee", "work_seconds": 9, "speed": 1.5}]})
    builder = SpecBuilder(build_presentation(plan, DEFAULT_RENDITIONS), SMALL, refs)
    work = next(i for i in range(builder.segment_count) if any(r.kind.value == "work" for r in builder.spec(i).runs))
    prepared = render_segment(builder.spec(work + 1), frame_store)
    monkeypatch.setattr(frame_store_module, "PREPARE_ON_DEMAND_BYTES", 0)
    lazy = FrameStore(tmp_path, 1 << 32)
    assert render_segment(builder.spec(work + 1), lazy) == prepared
    assert lazy.prepared == 0
