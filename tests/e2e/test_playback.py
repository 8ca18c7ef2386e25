"""A whole multi-exercise plan, served by `python -m server`, played by real clients.

Each client is judged by what it decoded and logged, not by its exit code
(see shared/hls-interop.md, "Clients, headless, on this machine").
"""

from __future__ import annotations

import shutil

import httpx
import m3u8
import pytest

from tests.clients.ffmpeg_client import decode_with_ffmpeg
from tests.clients.gstreamer_client import play_with_gstreamer
from tests.clients.hlsjs_client import LevelSwitch, find_chromium, play_with_hlsjs
from tests.clients.vlc_client import play_with_vlc

pytestmark = pytest.mark.clients

# 39 s: a 3 s intro, an opaque 1080p30 clip, a ProRes 4444 alpha 720p25 clip and a 720p60 clip
# with rests between, background music, and a 4 s closing card.
PLAN = {
    "items": [
        {"exercise_id": "squat", "work_seconds": 8, "rest_seconds": 4},
        {"exercise_id": "lunge", "work_seconds": 8, "rest_seconds": 4},
        {"exercise_id": "burpee", "work_seconds": 8},
    ],
    "rounds": 1,
    "intensity": "high",
    "music": "groove",
}
DURATION = 3 + 8 + 4 + 8 + 4 + 8 + 4
FPS = 30
LADDER_SIZES = {(640, 360), (960, 540), (1280, 720), (1920, 1080)}
AAC_FRAME = 1024
EXPECTED_AUDIO_SAMPLES = -(-DURATION * 48_000 // AAC_FRAME) * AAC_FRAME


@pytest.fixture(scope="module")
def created(live_server) -> dict:
    response = httpx.post(live_server.url("/api/plans"), json=PLAN, timeout=30)
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture(scope="module")
def stream(created) -> str:
    """The MPEG-TS multivariant playlist."""
    return created["playlist_url"].replace("localhost", "127.0.0.1")


@pytest.fixture(scope="module", params=["ts", "fmp4"])
def either_stream(request, created) -> str:
    """Each container's multivariant playlist in turn."""
    key = "playlist_url" if request.param == "ts" else "fmp4_playlist_url"
    return created[key].replace("localhost", "127.0.0.1")


def require(binary: str) -> None:
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} is not installed (scripts/test installs it)")


def test_ffmpeg_decodes_every_frame_and_sample_without_a_warning(either_stream):
    require("ffmpeg")
    report = decode_with_ffmpeg(either_stream, timeout=180)
    assert report.returncode == 0, report.warnings
    assert report.warnings == []
    assert report.video_frames == DURATION * FPS
    assert report.audio_samples == EXPECTED_AUDIO_SAMPLES
    assert report.video_pts == sorted(report.video_pts)


def test_hlsjs_plays_to_the_end_in_one_buffered_range_and_seeks_back(stream):
    if find_chromium() is None:
        pytest.skip("chromium is not installed (scripts/test installs it)")
    report = play_with_hlsjs(stream, timeout=120, rate=1, seek_back_to=20)
    assert report.errors == []
    assert report.ended, report.finish_reason
    assert report.stalls == 0
    assert report.ended_after_seek is True
    assert len(report.buffered) == 1
    start, end = report.buffered[0]
    assert start <= 0.05 and abs(end - DURATION) < 0.1
    assert abs(report.duration - DURATION) < 0.1
    assert (report.video_width, report.video_height) in LADDER_SIZES  # hls.js's ABR picks
    # Headless Chromium decodes in software on 2 shared cores and drops some frames
    # under load; broken timestamps or a missing keyframe drop whole segments' worth.
    assert report.dropped_frames is not None and report.dropped_frames <= 0.15 * report.total_frames


def test_hlsjs_switches_from_360p_to_1080p_mid_stream_without_a_stall(stream):
    """A forced level switch (hls.js `nextLevel`) lands at a segment boundary and plays on seamlessly,
    because every rendition has the same cut points and timestamps."""
    if find_chromium() is None:
        pytest.skip("chromium is not installed (scripts/test installs it)")
    switch = LevelSwitch(start_height=360, at_seconds=12, to_height=1080)
    report = play_with_hlsjs(stream, timeout=90, rate=2, switch=switch)
    assert report.errors == [], report.errors
    assert report.ended and report.stalls == 0, report.finish_reason
    assert sorted(report.raw["levelHeights"]) == [360, 540, 720, 1080]
    heights = report.heights_played
    assert heights[0] == 360 and heights[-1] == 1080, heights
    switched_at = heights.index(1080)
    assert set(heights[:switched_at]) == {360} and set(heights[switched_at:]) == {1080}
    assert len(report.buffered) == 1 and abs(report.buffered[0][1] - DURATION) < 0.1
    assert (report.video_width, report.video_height) == (1920, 1080)


def test_hlsjs_plays_the_fmp4_presentation_to_the_end_in_one_buffered_range(created):
    if find_chromium() is None:
        pytest.skip("chromium is not installed (scripts/test installs it)")
    report = play_with_hlsjs(created["fmp4_playlist_url"].replace("localhost", "127.0.0.1"), timeout=90, rate=2)
    assert report.errors == [], report.errors
    assert report.ended and report.stalls == 0, report.finish_reason
    assert len(report.buffered) == 1
    start, end = report.buffered[0]
    assert start <= 0.05 and abs(end - DURATION) < 0.1


def test_hlsjs_starting_on_a_segment_boundary_finds_audio_and_video_buffered(stream):
    """Audio of a segment starts at or before its video, so there is no hole to skip."""
    if find_chromium() is None:
        pytest.skip("chromium is not installed (scripts/test installs it)")
    boundary = 19.0  # segment 6 starts here (intro 1 s + 2 s, then 4 s segments)
    report = play_with_hlsjs(stream, timeout=60, rate=1, start=boundary)
    assert report.errors == [], report.errors
    assert report.ended and report.stalls == 0
    (start, end) = report.buffered[0]
    assert start <= boundary and abs(end - DURATION) < 0.1


def test_gstreamer_playbin_reaches_eos_with_every_frame_in_order(either_stream):
    require("gst-launch-1.0")
    report = play_with_gstreamer(either_stream, timeout=120)
    assert report.reached_eos and not report.timed_out
    assert report.errors == []
    assert report.decreasing_timestamps == []
    assert report.warnings == []  # e.g. no PSI "section discontinuity" between segments
    assert report.video_buffers == DURATION * FPS


def test_vlc_plays_through_in_real_time_without_discontinuity_or_corrupt_pictures(either_stream):
    """On the top rendition throughout. With its default adaptive logic VLC 3 moved from a smaller
    rendition to 1080p mid-stream and logged one "buffer deadlock prevented" (a decoder error) as it
    rebuilt its video output; playback went on. Not yet explained: see docs/interop notes in the README.
    Level switching is tested with hls.js."""
    require("cvlc")
    report = play_with_vlc(either_stream, timeout=DURATION + 60, adaptive_logic="highest")
    assert report.reached_eof and not report.timed_out
    assert report.http_errors == 0 and report.discontinuities == 0
    assert report.corrupt == 0 and report.errors == 0, report.problem_lines[:10]
    assert report.plays_through(DURATION * FPS), report.problem_lines[:10]
    assert report.elapsed >= DURATION - 2  # it really played, not skipped to the end


def test_segments_of_the_live_stream_match_the_playlist(stream):
    media_url = stream.replace("master.m3u8", "720p/index.m3u8")
    playlist = m3u8.loads(httpx.get(media_url, timeout=10).text)
    assert abs(sum(s.duration for s in playlist.segments) - DURATION) < 1e-4
    assert all(s.uri.endswith(".ts") for s in playlist.segments)
