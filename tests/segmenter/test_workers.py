"""Render processes: the same bytes as rendering in process, errors that keep their meaning, and a
worker that dies is reported and replaced."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assets.catalogue import load_catalogue
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.frames import ClipDecodeError
from segmenter.spec import SpecBuilder, clip_ref_of
from segmenter.workers import (
    InProcessRenderer,
    RenderKind,
    RenderProcess,
    StoreSettings,
    WorkerLost,
    WorkerSettings,
)

PLAN = Plan.model_validate({"items": [{"exercise_id": "lunge", "work_seconds": 4, "rest_seconds": 2}]})
BUDGET = 16 << 30


@pytest.fixture(scope="module")
def builder(sample_clips_dir: Path) -> SpecBuilder:
    catalogue = load_catalogue(sample_clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    return SpecBuilder(build_presentation(PLAN, DEFAULT_RENDITIONS), DEFAULT_RENDITIONS[0], clips)


@pytest.fixture
def process(frame_store_dir: Path):
    worker = RenderProcess(WorkerSettings(StoreSettings(frame_store_dir, BUDGET)), "test-render")
    yield worker
    worker.close()


def test_a_render_process_gives_the_bytes_an_in_process_render_gives(builder, process, frame_store):
    here = InProcessRenderer(frame_store)
    for kind in RenderKind:
        assert process.render(kind, builder.spec(1)) == here.render(kind, builder.spec(1))
    assert process.started == 1 and process.deaths == 0


def test_a_clip_error_in_the_process_arrives_as_the_same_error(builder, process):
    spec = builder.spec(1)
    run = spec.runs[0]
    missing = replace(run.clip, path="/nonexistent/clip.mov", version="gone")
    with pytest.raises(ClipDecodeError) as caught:
        process.render(RenderKind.SEGMENT, replace(spec, runs=(replace(run, clip=missing),) + spec.runs[1:]))
    assert caught.value.exercise_id == "lunge"
    assert process.deaths == 0  # an error is an answer, not a death


def test_a_process_killed_mid_render_is_worker_lost_and_the_next_render_starts_a_fresh_one(
    builder, process, tmp_path
):
    cold = RenderProcess(WorkerSettings(StoreSettings(tmp_path, BUDGET)), "cold")  # decodes first: slow
    cold.start()
    killer = threading.Timer(0.3, os.kill, (cold.pid, signal.SIGKILL))
    killer.start()
    spec = SpecBuilder(builder.presentation, DEFAULT_RENDITIONS[-1], builder.clips).spec(1)
    try:
        with pytest.raises(WorkerLost, match="killed by SIGKILL"):
            cold.render(RenderKind.SEGMENT, spec)
        assert cold.deaths == 1 and not cold.is_alive()
        assert cold.render(RenderKind.IFRAME, builder.spec(1))
        assert cold.started == 2 and cold.is_alive()
    finally:
        killer.cancel()
        cold.close()


def test_revive_replaces_a_process_that_died_while_idle(process):
    process.start()
    dead = process.pid
    os.kill(dead, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while process.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    process.revive()
    assert process.is_alive() and process.pid != dead and process.deaths == 1


def test_close_ends_the_process(process):
    process.start()
    pid = process.pid
    process.close()
    with pytest.raises(ProcessLookupError):
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)
