"""Fault: an exercise clip that is missing or corrupt, on a real server process.

The clips are damaged after start-up, with clip warming off, so the damage is
met by the renderer itself (a damaged file has a new content version, so no
frames prepared from the healthy file are reused): replaced
by garbage, truncated to half, deleted. Each segment that needs such a clip
answers 503 `clip_unavailable` naming the exercise (never a short segment with
200), and plans on healthy clips keep playing. A clip already broken when the
server starts is found by the catalogue's check and left out of it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from tests.conftest import running_server

HEALTHY = "burpee"
DAMAGE = {
    "squat": "garbage",
    "jumping_jack": "truncated",
    "push_up": "deleted",
}
ENV = {"HLS_WARM_CLIPS": "0", "HLS_LOOK_AHEAD": "0"}
REQUEST_TIMEOUT_SECONDS = 120
SEGMENT = 1  # the rest of the intro: a still of the plan's first exercise


@pytest.fixture
def own_clips(tmp_path: Path, sample_clips_dir: Path) -> Path:
    """A private copy of the sample library: these tests damage files."""
    clips = tmp_path / "clips"
    shutil.copytree(sample_clips_dir, clips)
    return clips


def clip_file(clips: Path, exercise_id: str) -> Path:
    (path,) = [p for p in clips.iterdir() if p.stem == exercise_id]
    return path


def damage(path: Path, how: str) -> None:
    if how == "garbage":
        path.write_bytes(os.urandom(path.stat().st_size))
    elif how == "truncated":
        with open(path, "r+b") as file:
            file.truncate(path.stat().st_size // 2)
    elif how == "deleted":
        path.unlink()
    else:
        raise ValueError(how)


def create_plan(server, exercise_id: str) -> httpx.Response:
    plan = {"items": [{"exercise_id": exercise_id, "work_seconds": 8, "rest_seconds": 0}]}
    return httpx.post(server.url("/api/plans"), json=plan, timeout=REQUEST_TIMEOUT_SECONDS)


def segment(server, plan_id: str) -> httpx.Response:
    return httpx.get(server.url(f"/hls/{plan_id}/360p/{SEGMENT}.ts"), timeout=REQUEST_TIMEOUT_SECONDS)


def test_a_clip_damaged_after_start_up_answers_503_naming_the_exercise_and_other_plans_play(tmp_path, own_clips):
    with running_server(tmp_path / "server", own_clips, ENV) as server:
        plans = {exercise_id: create_plan(server, exercise_id).json()["id"] for exercise_id in [*DAMAGE, HEALTHY]}
        for exercise_id, how in DAMAGE.items():
            damage(clip_file(own_clips, exercise_id), how)
        for exercise_id, how in DAMAGE.items():
            response = segment(server, plans[exercise_id])
            assert response.status_code == 503, (how, response.text)
            assert response.headers["content-type"] == "application/json"
            body = response.json()
            assert body["error"] == "clip_unavailable"
            assert repr(exercise_id) in body["detail"], (how, body)
        healthy = segment(server, plans[HEALTHY])
        assert healthy.status_code == 200 and healthy.content[0] == 0x47
        assert int(healthy.headers["content-length"]) == len(healthy.content)
        assert httpx.get(server.url("/health"), timeout=10).status_code == 200


def test_a_clip_broken_before_start_up_is_reported_and_left_out_of_the_catalogue(tmp_path, own_clips):
    damage(clip_file(own_clips, "squat"), "garbage")
    with running_server(tmp_path / "server", own_clips, ENV) as server:
        assert httpx.get(server.url("/health"), timeout=10).json()["clips_broken"] == ["squat"]
        refused = create_plan(server, "squat")
        assert refused.status_code == 422
        assert refused.json()["fields"][0]["loc"] == ["items", 0, "exercise_id"]
        created = create_plan(server, HEALTHY)
        assert created.status_code == 201
        assert segment(server, created.json()["id"]).status_code == 200
    assert "clip of squat is broken" in (tmp_path / "server" / "server.log").read_text()
