"""The benchmark's ffmpeg anchor must keep running with the server's current renditions and cut points."""

from __future__ import annotations

import shutil
from pathlib import Path

import m3u8
import pytest

from assets.catalogue import load_catalogue
from bench.anchor import build_command, run_anchor
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS

PLAN = Plan.model_validate(
    {
        "items": [
            {"exercise_id": "lunge", "work_seconds": 4, "rest_seconds": 2},
            {"exercise_id": "squat", "work_seconds": 3},
        ]
    }
)


def test_the_anchor_renders_the_plan_at_the_servers_cut_points(sample_clips_dir: Path, tmp_path: Path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (scripts/test installs it)")
    presentation = build_presentation(PLAN, DEFAULT_RENDITIONS)
    command = build_command(presentation, load_catalogue(sample_clips_dir), DEFAULT_RENDITIONS[0], tmp_path / "out")
    run = run_anchor(command)
    assert run.total is not None and 0 < run.first_segment <= run.total
    assert sorted(run.segment_times) == list(range(len(presentation.segments)))
    written = m3u8.load(str(tmp_path / "out" / "index.m3u8"))
    assert [round(s.duration, 3) for s in written.segments] == [
        round(float(s.duration), 3) for s in presentation.segments
    ]
