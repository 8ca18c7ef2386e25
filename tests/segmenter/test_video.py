"""Encoder input frames: the recycling pool."""

from __future__ import annotations

import numpy as np

from segmenter.video import FramePool, frame_planes


def test_a_released_frame_is_reused_instead_of_allocating_another():
    pool = FramePool(64, 32)
    first = pool.acquire()
    pool.release(first)
    assert pool.acquire() is first
    assert pool.allocated == 1


def test_acquire_allocates_when_every_frame_is_still_in_flight():
    pool = FramePool(64, 32)
    frames = [pool.acquire() for _ in range(3)]
    assert len({id(frame) for frame in frames}) == 3
    assert pool.allocated == 3


def test_a_reused_frame_keeps_its_size_and_writable_planes():
    pool = FramePool(64, 32)
    frame = pool.acquire()
    pool.release(frame)
    again = pool.acquire()
    y, u, v = frame_planes(again)
    y[...] = 200
    assert (again.width, again.height) == (64, 32)
    assert y.shape == (32, 64) and u.shape == v.shape == (16, 32)
    assert np.frombuffer(again.planes[0], dtype=np.uint8)[0] == 200
