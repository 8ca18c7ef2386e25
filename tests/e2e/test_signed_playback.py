"""Signed stream URLs with real clients: a token on the multivariant playlist is all a player needs.

The server runs with HLS_URL_SIGNING_KEY; players get only the playlist URL from the plan
document and must reach every variant, init segment and media segment through the token
carried in the playlists (shared/hls-interop.md, "Clients, headless, on this machine").
"""

from __future__ import annotations

import shutil
import time

import httpx
import pytest

from server.middleware.signing import UrlSigner
from tests.clients.browser_page import find_chromium
from tests.clients.ffmpeg_client import decode_with_ffmpeg
from tests.clients.hlsjs_client import play_with_hlsjs
from tests.conftest import running_server, wait_until_warm

pytestmark = pytest.mark.clients

KEY = "e2e signing key"
PLAN = {
    "items": [
        {"exercise_id": "squat", "work_seconds": 6, "rest_seconds": 2},
        {"exercise_id": "plank", "work_seconds": 5},
    ]
}
DURATION = 3 + 6 + 2 + 5 + 4
FPS = 30
WARMING_TIMEOUT_SECONDS = 180


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory, sample_clips_dir):
    env = {"HLS_URL_SIGNING_KEY": KEY, "HLS_URL_TTL_SECONDS": "3600"}
    with running_server(tmp_path_factory.mktemp("signed"), sample_clips_dir, env) as server:
        wait_until_warm(server, WARMING_TIMEOUT_SECONDS)  # as `live_server`: players meet no cold clip
        yield server


@pytest.fixture(scope="module")
def created(signed_server) -> dict:
    response = httpx.post(signed_server.url("/api/plans"), json=PLAN, timeout=30)
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture(scope="module")
def cold_created(signed_server) -> dict:
    """The same exercises at another intensity: a presentation of its own that no other test has fetched."""
    response = httpx.post(signed_server.url("/api/plans"), json={**PLAN, "intensity": "high"}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def local(url: str) -> str:
    return url.replace("localhost", "127.0.0.1")


@pytest.mark.parametrize("key", ["playlist_url", "fmp4_playlist_url"])
def test_ffmpeg_decodes_a_signed_stream_from_its_playlist_url_alone(created, key):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (scripts/test installs it)")
    report = decode_with_ffmpeg(local(created[key]), timeout=180)
    assert report.returncode == 0, report.warnings
    assert report.warnings == []
    assert report.video_frames == DURATION * FPS


def test_hlsjs_plays_a_cold_signed_stream_to_the_end_in_real_time(cold_created):
    """The one client test that meets cold segments: a player at 1x, as a user watches, with the server's
    look-ahead rendering ahead of it. Judged on fatal errors and the end only: whether a cold render keeps
    ahead of the playhead on a loaded machine is the benchmarks' figure, not a property of the stream
    (every other client test plays presentations rendered beforehand)."""
    if find_chromium() is None:
        pytest.skip("chromium is not installed (scripts/test installs it)")
    report = play_with_hlsjs(local(cold_created["playlist_url"]), timeout=DURATION + 60, rate=1)
    # Non-fatal errors are hls.js recovering from a cold render's speed (a stall, a fragment load it
    # aborted to try another rendition: seen on a loaded machine); a fatal one ends playback.
    assert report.fatal_errors == [], report.errors
    # Every URL the player derives from the signed playlist opened, to the last segment.
    assert report.ended, report.finish_reason
    assert len(report.buffered) == 1 and abs(report.buffered[0][1] - DURATION) < 0.1


def test_ffmpeg_cannot_open_the_stream_without_the_token(created):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (scripts/test installs it)")
    report = decode_with_ffmpeg(local(created["playlist_url"]).split("?")[0], timeout=60)
    assert report.returncode != 0 and report.video_frames == 0


def test_segments_with_a_wrong_expired_or_missing_token_are_403(signed_server, created):
    plan_id = created["id"]
    expired = UrlSigner(KEY.encode(), 60, clock=lambda: time.time() - 3600).token(plan_id)
    cases = {"": "url_token_missing", "?token=1.AAAA": "url_token_invalid", f"?token={expired}": "url_token_expired"}
    for query, code in cases.items():
        response = httpx.get(signed_server.url(f"/hls/{plan_id}/720p/1.ts{query}"), timeout=30)
        assert response.status_code == 403 and response.json()["error"] == code, query


def test_a_token_for_one_plan_does_not_open_another(signed_server, created):
    other = httpx.post(signed_server.url("/api/plans"), json={"items": [{"exercise_id": "lunge", "work_seconds": 4}]})
    token = created["playlist_url"].split("token=")[1]
    response = httpx.get(signed_server.url(f"/hls/{other.json()['id']}/master.m3u8?token={token}"), timeout=30)
    assert response.status_code == 403 and response.json()["error"] == "url_token_invalid"
