"""The web page in real headless Chromium (Playwright), against `python -m server`.

`web_page_walkthrough.mjs` drives the page and prints a JSON report; this test
runs it with a bounded timeout (killing Chromium's whole process tree) and
judges the report: thumbnails decoded, the builder's plan is what was posted
(in English, then in French), the stream advanced through hls.js on MediaSource,
the generator filled the builder, and a phone-sized screen neither scrolls
sideways nor has small buttons.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
from pathlib import Path

import pytest

from tests.clients._process import run_bounded

pytestmark = [pytest.mark.clients, pytest.mark.xdist_group("live_server")]
"""Under xdist, the tests that use `live_server` share one worker, so the run starts and warms one."""

REPO = Path(__file__).resolve().parents[2]
WALKTHROUGH = Path(__file__).with_name("web_page_walkthrough.mjs")
CHROMIUM = Path("/usr/bin/chromium")
WALKTHROUGH_TIMEOUT_SECONDS = 300.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MIN_SCREENSHOT_BYTES = 20_000
"""A blank page of that size compresses to a few KB; thumbnails, text and a video frame make far more."""
DESKTOP_WIDTH = 1280
DESKTOP_HEIGHT = 900
"""The desktop screenshot is of the whole page: the viewport's width, at least its height."""
PHONE_SIZE = (2 * 390, 2 * 844)
"""The phone context renders at a device pixel ratio of 2."""
EXPECTED_TOTAL = "0:22"
"""3 s intro + (6 work + 3 rest + 6 work) + 4 s outro; the last rest is the (unused) between-rounds rest."""
GENERATED_CLOCK_RE = re.compile(r"Loaded a (\d+:\d\d) workout")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])  # IHDR: width, height


@pytest.fixture(scope="module")
def report(live_server, tmp_path_factory) -> dict:
    if shutil.which("node") is None or not CHROMIUM.exists():
        pytest.skip("needs node and Debian's chromium (./scripts/test installs them)")
    if not (REPO / "node_modules" / "playwright-core").is_dir():
        pytest.skip("needs playwright-core: run `npm ci` at the repository root")
    screenshots = tmp_path_factory.mktemp("web-page")
    completed = run_bounded(
        ["node", str(WALKTHROUGH), live_server.base_url, str(screenshots)],
        timeout=WALKTHROUGH_TIMEOUT_SECONDS,
        cwd=REPO,
    )
    assert not completed.timed_out, f"walkthrough timed out: {completed.stderr[-2000:]}"
    lines = completed.stdout.strip().splitlines()
    assert lines, f"no report: {completed.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert "error" not in result, result["error"] + "\n" + json.dumps(result, indent=1)[:4000]
    result["screenshot_dir"] = str(screenshots)
    return result


FALLBACK = "fallback: "
"""The walkthrough's label for what happened while hls.js was withheld on purpose."""
REFUSED = "desktop/invalid: "
"""Its label for what happened while a plan the server refuses was posted on purpose."""


def unexpected(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith((FALLBACK, REFUSED))]


def test_the_page_loads_without_console_errors_or_failed_requests(report):
    assert unexpected(report["consoleErrors"]) == []  # CSP violations would be console errors too
    assert unexpected(report["failedRequests"]) == []
    refused = [line for line in report["failedRequests"] if line.startswith(REFUSED)]
    assert refused == [f"{REFUSED}422 {report['baseUrl']}/api/plans"]


def test_without_hlsjs_the_page_falls_back_to_the_browsers_own_hls(report):
    native = report["nativeHls"]
    assert native["canPlayHls"] in ("maybe", "probably")  # Chromium plays HLS itself nowadays
    assert native["videoSrc"] == native["playlistUrl"]
    assert native["state"] != "unsupported"


def test_without_hlsjs_or_native_hls_the_page_says_to_install_it_and_shows_the_url(report):
    bare = report["noHls"]
    assert bare["canPlayHls"] == ""
    assert bare["state"] == "unsupported" and bare["videoSrc"] == ""
    assert "npm ci" in bare["status"] and "VLC" in bare["status"]
    assert bare["playlistUrl"].endswith("/master.m3u8")  # shown, to copy into VLC
    withheld = [line for line in report["failedRequests"] if line.startswith(FALLBACK)]
    assert withheld and all(line.endswith("/vendor/hls.min.js") for line in withheld)


def test_every_catalogue_thumbnail_is_decoded(report):
    assert len(report["thumbnails"]) >= 6
    assert all(image["width"] > 0 for image in report["thumbnails"])


def test_the_builder_posts_what_the_user_set(report):
    first, second = report["picked"]
    assert report["orderBefore"] == [first, second]
    assert report["orderAfter"] == [second, first]
    assert report["builtTotal"] == EXPECTED_TOTAL
    plan = report["postedPlan"]
    assert [item["exercise_id"] for item in plan["items"]] == [second, first]
    assert all((item["work_seconds"], item["rest_seconds"]) == (6, 3) for item in plan["items"])
    assert plan["intensity"] == "high" and plan["rounds"] == 1


def test_choosing_francais_posts_the_same_workout_in_french(report):
    english, french = report["postedPlan"], report["french"]["plan"]
    assert english.get("language", "en") == "en"  # English is the default, left out of the stored plan
    assert french["language"] == "fr"
    assert {key: value for key, value in french.items() if key != "language"} == english
    assert report["french"]["playlistUrl"] != report["playback"]["playlistUrl"]  # another plan id


def test_a_refused_plan_shows_each_offending_field_and_marks_its_input(report):
    invalid = report["invalid"]
    assert any(line.startswith("items › 0 › work_seconds:") for line in invalid["lines"]), invalid["lines"]
    assert invalid["markedInput"] == "true"
    assert not invalid["playerShown"]


def test_the_stream_plays_through_hlsjs_and_advances(report):
    playback = report["playback"]
    assert report["hlsjsStatus"] == 200
    assert playback["state"] != "error", playback["status"]
    assert playback["mediaSource"]  # hls.js on MediaSource, not native playback
    assert playback["currentTime"] >= 3  # from 0: the stream advanced three seconds
    assert playback["videoWidth"] > 0
    assert playback["playlistUrl"].endswith("/master.m3u8") and "/fmp4/" in playback["fmp4Url"]


def test_a_sentence_fills_the_builder_with_a_workout_of_the_same_length(report):
    generator = report["generator"]
    match = GENERATED_CLOCK_RE.search(generator["status"])
    assert match, generator["status"]
    assert generator["total"] == match.group(1)  # the page's arithmetic agrees with the server's
    assert len(generator["items"]) >= 2 and generator["explanation"] >= 1


def test_a_phone_screen_neither_scrolls_sideways_nor_has_small_buttons(report):
    phone = report["phone"]
    assert phone["scrollWidth"] <= phone["clientWidth"]
    assert phone["smallTargets"] == []
    assert phone["items"] == 2


def test_the_screenshots_are_real_pngs(report):
    sizes = {Path(path).name: png_size(Path(path)) for path in report["screenshots"]}
    assert set(sizes) == {"web-page.png", "web-page-phone.png"}
    assert sizes["web-page.png"][0] == DESKTOP_WIDTH and sizes["web-page.png"][1] >= DESKTOP_HEIGHT
    assert sizes["web-page-phone.png"] == PHONE_SIZE
    assert all(Path(path).stat().st_size > MIN_SCREENSHOT_BYTES for path in report["screenshots"])
