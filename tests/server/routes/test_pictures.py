"""Poster, thumbnail and storyboard routes through Starlette's test client (the app's lifespan runs for real)."""

from __future__ import annotations

import asyncio
import io
import itertools
import math
import threading
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from assets.framemark import read_frame_mark
from playlists.plan import INTRO_SECONDS
from server.app import create_app
from server.config.settings import Settings
from server.errors import Overloaded
from server.responses import SEGMENT_CACHE_CONTROL
from server.routes.pictures import PictureWorkshop
from tests.segmenter.test_pictures import luma_of, parse_vtt

PLAN = {
    "items": [
        {"exercise_id": "squat", "work_seconds": 20, "rest_seconds": 5},
        {"exercise_id": "jumping_jack", "work_seconds": 20},
    ],
    "intensity": "medium",
}
"""52 s: eleven storyboard tiles, so the sprite has a second row; clips played at 1x."""
DURATION = INTRO_SECONDS + 20 + 5 + 20 + 4
SQUAT_FRAMES = 60
"""The squat sample loops every 60 frames at 30 fps: at 1x, a second into the work shows clip frame 30."""
UNKNOWN_PLAN = "0" * 20


@pytest.fixture(scope="module")
def client(new_data_dir):
    with TestClient(create_app(Settings(data_dir=new_data_dir(), warm_clips=False))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def plan_id(client) -> str:
    response = client.post("/api/plans", json=PLAN)
    assert response.status_code in (200, 201), response.text
    assert response.json()["duration_seconds"] == DURATION
    return response.json()["id"]


def jpeg_image(response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG"
    image.load()
    return image


def shown_clip_frame(image: Image.Image) -> int:
    return read_frame_mark(luma_of(np.asarray(image.convert("RGB"))))


def test_the_poster_shows_the_first_exercise_a_second_in_at_full_width(client, plan_id):
    """The intro shows the squat's first frame dimmed; a second into the work shows frame 30."""
    image = jpeg_image(client.get(f"/hls/{plan_id}/poster.jpg"))
    assert image.size == (1280, 720)
    assert shown_clip_frame(image) == 30


def test_the_poster_takes_a_width(client, plan_id):
    assert jpeg_image(client.get(f"/hls/{plan_id}/poster.jpg", params={"width": "640"})).size == (640, 360)


@pytest.mark.parametrize(("width", "size"), [(None, (320, 180)), ("64", (64, 36)), ("1000", (1000, 562))])
def test_a_thumbnail_is_as_wide_as_asked_with_an_even_sixteen_by_nine_height(client, plan_id, width, size):
    params = {"t": "10"} | ({"width": width} if width else {})
    assert jpeg_image(client.get(f"/hls/{plan_id}/thumbnail.jpg", params=params)).size == size


@pytest.mark.parametrize("seconds", ["5.5", "12.25", "22.9"])
def test_a_full_size_thumbnail_shows_the_clip_frame_on_screen_at_that_time(client, plan_id, seconds):
    response = client.get(f"/hls/{plan_id}/thumbnail.jpg", params={"t": seconds, "width": "1280"})
    frame_in_work = math.floor((Fraction(seconds) - INTRO_SECONDS) * 30)
    assert shown_clip_frame(jpeg_image(response)) == frame_in_work % SQUAT_FRAMES


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"t": "-1"},
        {"t": "abc"},
        {"t": "1e1"},
        {"t": "1/2"},
        {"t": str(DURATION)},
        {"t": str(DURATION + 0.5)},
        {"t": "1", "width": "63"},
        {"t": "1", "width": "1921"},
        {"t": "1", "width": "320.5"},
        {"t": "1", "width": "wide"},
    ],
)
def test_a_thumbnail_outside_the_workout_or_of_an_impossible_width_is_refused(client, plan_id, params):
    response = client.get(f"/hls/{plan_id}/thumbnail.jpg", params=params)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["fields"][0]["loc"][0] == "query"


def test_a_poster_of_an_impossible_width_is_refused(client, plan_id):
    response = client.get(f"/hls/{plan_id}/poster.jpg", params={"width": "0"})
    assert response.status_code == 422
    assert response.json()["fields"] == [{"loc": ["query", "width"], "msg": "0", "type": "range"}]


@pytest.mark.parametrize("path", ["poster.jpg", "thumbnail.jpg?t=1", "storyboard.jpg", "storyboard.vtt"])
@pytest.mark.parametrize("plan", [UNKNOWN_PLAN, "not-a-plan-id"])
def test_pictures_of_an_unknown_plan_are_not_found(client, path, plan):
    response = client.get(f"/hls/{plan}/{path}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_the_storyboard_track_tiles_the_workout_and_points_inside_the_sprite(client, plan_id):
    track = client.get(f"/hls/{plan_id}/storyboard.vtt")
    assert track.status_code == 200
    assert track.headers["content-type"] == "text/vtt; charset=utf-8"
    cues = parse_vtt(track.text)
    assert len(cues) == math.ceil(DURATION / 5) == 11
    assert cues[0][0] == 0 and cues[-1][1] == DURATION
    assert all(end == next_start for (_, end, _, _), (next_start, _, _, _) in itertools.pairwise(cues))
    sprite = jpeg_image(client.get(f"/hls/{plan_id}/storyboard.jpg"))
    assert sprite.size == (10 * 160, 2 * 90)
    for start, _, url, (x, y, w, h) in cues:
        assert url == "storyboard.jpg"  # relative: next to the track
        assert (w, h) == (160, 90) and x + w <= sprite.width and y + h <= sprite.height
        assert (x // w, y // h) == divmod(int(start) // 5, 10)[::-1]


@pytest.mark.parametrize("path", ["poster.jpg", "thumbnail.jpg?t=7.5&width=200", "storyboard.jpg", "storyboard.vtt"])
def test_a_client_holding_the_picture_gets_304_and_a_strong_etag(client, plan_id, path):
    first = client.get(f"/hls/{plan_id}/{path}")
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong: not W/"..."
    assert first.headers["cache-control"] == SEGMENT_CACHE_CONTROL
    again = client.get(f"/hls/{plan_id}/{path}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(f"/hls/{plan_id}/{path}").content == first.content  # the same bytes every time


def test_different_times_and_widths_have_different_etags(client, plan_id):
    tags = {
        client.get(f"/hls/{plan_id}/thumbnail.jpg", params=params).headers["etag"]
        for params in ({"t": "10"}, {"t": "10.1"}, {"t": "10", "width": "640"})
    }
    assert len(tags) == 3


def test_the_picture_cache_drops_the_least_recently_used_beyond_its_byte_budget():
    cache = PictureWorkshop(1, 1, 10).cache
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    assert cache.get("a") == b"1234"  # now the most recent
    cache.put("c", b"1234")
    assert "a" in cache and "c" in cache and "b" not in cache
    assert cache.nbytes == 8
    cache.put("huge", b"x" * 11)
    assert "huge" not in cache and cache.nbytes == 8


def test_the_workshop_draws_a_picture_once_for_concurrent_requests_and_refuses_beyond_its_queue():
    release = threading.Event()
    drawn = []

    def draw() -> bytes:
        release.wait(timeout=10)
        drawn.append(1)
        return b"jpeg"

    async def scenario() -> None:
        workshop = PictureWorkshop(concurrency=1, max_pending=2, cache_bytes=1 << 20)
        first = asyncio.ensure_future(workshop.produce("k", draw))
        second = asyncio.ensure_future(workshop.produce("k", draw))
        await asyncio.sleep(0.05)
        with pytest.raises(Overloaded):
            await workshop.produce("other", draw)
        release.set()
        assert await first == await second == b"jpeg"
        assert await workshop.produce("k", draw) == b"jpeg"  # from the cache
        assert workshop.pending == 0

    asyncio.run(scenario())
    assert len(drawn) == 1


def test_a_picture_whose_request_went_away_keeps_its_slot_until_drawn_and_is_cached():
    release = threading.Event()
    running = []

    def slow() -> bytes:
        running.append("slow")
        release.wait(timeout=10)
        return b"slow"

    def quick() -> bytes:
        running.append("quick")
        return b"quick"

    async def scenario() -> None:
        workshop = PictureWorkshop(concurrency=1, max_pending=4, cache_bytes=1 << 20)
        abandoned = asyncio.ensure_future(workshop.produce("slow", slow))
        await asyncio.sleep(0.05)
        abandoned.cancel()
        waiting = asyncio.ensure_future(workshop.produce("quick", quick))
        await asyncio.sleep(0.05)
        assert running == ["slow"]  # the slot is still the abandoned picture's
        release.set()
        assert await waiting == b"quick"
        assert workshop.cache.get("slow") == b"slow" and workshop.pending == 0

    asyncio.run(scenario())
