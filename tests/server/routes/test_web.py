"""The web page, its static files, hls.js and the exercise thumbnails, through Starlette's test client."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from assets.framemark import read_frame_mark
from server.app import create_app
from server.config.settings import Settings
from server.responses import SEGMENT_CACHE_CONTROL
from server.routes.web import STATIC_FILES, WEB_DIR
from tests.segmenter.test_pictures import luma_of

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
HLSJS_TEXT = b"/* a stand-in hls.js: these tests only serve it */ window.Hls = {};\n"
PAGE_ROUTES = ["/", "/static/app.js", "/static/style.css", "/vendor/hls.min.js"]
REPO = Path(__file__).resolve().parents[3]
BUILD_TIMEOUT_SECONDS = 120


@pytest.fixture(scope="module")
def hlsjs_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hlsjs") / "hls.min.js"
    path.write_bytes(HLSJS_TEXT * 40)  # over the gzip threshold
    return path


@pytest.fixture(scope="module")
def client(new_data_dir, hlsjs_file):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, hlsjs_path=hlsjs_file)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


@pytest.mark.parametrize("path", PAGE_ROUTES)
def test_the_page_and_its_files_carry_the_security_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    directives = csp_directives(response)
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline': the page has no inline script
    assert directives["connect-src"] == ["'self'"]
    assert directives["media-src"] == ["'self'", "blob:"]  # MediaSource buffers are blob: URLs
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]


def test_the_page_is_html_that_loads_its_script_and_style_from_this_server(client):
    response = client.get("/")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert '<meta name="viewport"' in html
    assert '<script type="module" src="/static/app.js"></script>' in html
    assert '<link rel="stylesheet" href="/static/style.css">' in html
    assert "<script>" not in html and " style=" not in html  # nothing inline for the CSP to block


def test_the_builder_offers_the_on_screen_languages_and_posts_the_choice(client):
    html = client.get("/").text
    select = re.search(r'<select id="language">(.*?)</select>', html, re.DOTALL)
    assert select, "the builder has a language choice"
    options = re.findall(r'<option value="(\w+)"[^>]*>([^<]+)</option>', select.group(1))
    assert options == [("en", "English"), ("fr", "Français")]
    assert 'language: $("language").value' in client.get("/static/app.js").text  # sent with the plan


@pytest.mark.parametrize(("name", "media_type"), sorted(STATIC_FILES.items()))
def test_static_files_are_served_with_their_type_and_bytes(client, name, media_type):
    response = client.get(f"/static/{name}", headers={"Accept-Encoding": "identity"})
    assert response.headers["content-type"] == media_type
    assert response.content == (WEB_DIR / name).read_bytes()


@pytest.mark.parametrize("path", PAGE_ROUTES)
def test_a_browser_holding_a_file_gets_304_against_its_strong_etag(client, path):
    first = client.get(path)
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "no-cache"
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["x-frame-options"] == "DENY"


def test_text_is_gzipped_for_browsers_that_accept_it_under_its_own_etag(client, hlsjs_file):
    plain = client.get("/vendor/hls.min.js", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/vendor/hls.min.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["vary"]
    assert zipped.content == plain.content == hlsjs_file.read_bytes()  # httpx decodes the gzip
    assert zipped.headers["etag"] != plain.headers["etag"]


@pytest.mark.parametrize(
    "path",
    [
        "/static/index.html",
        "/static/../web_routes.py",
        "/static/..%2fweb_routes.py",
        "/static/%2e%2e/app.py",
        "/static/app.js%00.css",
        "/static/",
        "/static/APP.JS",
        "/server/web/app.js",
        "/vendor/hls.js",
    ],
)
def test_only_the_listed_files_are_served(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_hlsjs_is_served_from_the_configured_path(client, hlsjs_file):
    response = client.get("/vendor/hls.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.content == hlsjs_file.read_bytes()


def test_a_missing_hlsjs_is_a_json_404_that_says_how_to_install_it(new_data_dir, tmp_path):
    settings = Settings(data_dir=new_data_dir(), warm_clips=False, hlsjs_path=tmp_path / "absent" / "hls.min.js")
    with TestClient(create_app(settings)) as client:
        response = client.get("/vendor/hls.min.js")
        assert response.status_code == 404
        body = response.json()
        assert body["error"] == "not_found"
        assert "npm ci" in body["detail"] and "HLS_HLSJS_PATH" in body["detail"]
        assert str(tmp_path) not in body["detail"]  # no server paths in answers
        assert client.get("/").status_code == 200  # the page itself still works (native HLS, or VLC)


# ---------------------------------------------------------------- exercise thumbnails

SQUAT_MIDDLE_FRAME = 30
"""The squat sample loops over 60 frames: the thumbnail shows frame 30."""


def jpeg_of(response) -> Image.Image:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    assert image.format == "JPEG"
    return image


@pytest.mark.parametrize(("width", "size"), [(None, (320, 180)), ("64", (64, 36)), ("640", (640, 360))])
def test_an_exercise_thumbnail_is_a_jpeg_as_wide_as_asked(client, width, size):
    params = {"width": width} if width else {}
    assert jpeg_of(client.get("/api/exercises/squat/thumbnail.jpg", params=params)).size == size


def test_an_exercise_thumbnail_shows_the_middle_of_the_clip(client):
    image = jpeg_of(client.get("/api/exercises/squat/thumbnail.jpg", params={"width": "640"}))
    assert read_frame_mark(luma_of(np.asarray(image.convert("RGB")))) == SQUAT_MIDDLE_FRAME


def test_an_alpha_clip_thumbnail_is_drawn_over_the_stream_backdrop(client):
    """The lunge is ProRes 4444 with alpha: its transparent corner shows the backdrop, not black."""
    image = np.asarray(jpeg_of(client.get("/api/exercises/lunge/thumbnail.jpg", params={"width": "640"})))
    bottom_right = image[-20:, -20:].astype(int).mean(axis=(0, 1))
    assert 5 < bottom_right.mean() < 40 and bottom_right[2] > bottom_right[0]  # dark blue, like the stream


def test_an_exercise_thumbnail_is_revalidated_with_a_strong_etag(client):
    first = client.get("/api/exercises/plank/thumbnail.jpg", params={"width": "200"})
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == SEGMENT_CACHE_CONTROL
    again = client.get("/api/exercises/plank/thumbnail.jpg", params={"width": "200"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other_width = client.get("/api/exercises/plank/thumbnail.jpg", params={"width": "201"})
    other_exercise = client.get("/api/exercises/squat/thumbnail.jpg", params={"width": "200"})
    assert len({etag, other_width.headers["etag"], other_exercise.headers["etag"]}) == 3


@pytest.mark.parametrize("width", ["63", "641", "1920", "wide", "320.5", ""])
def test_an_exercise_thumbnail_of_an_impossible_width_is_refused(client, width):
    response = client.get("/api/exercises/squat/thumbnail.jpg", params={"width": width})
    assert response.status_code == 422
    assert response.json()["fields"] == [{"loc": ["query", "width"], "msg": width, "type": "range"}]


@pytest.mark.parametrize("exercise_id", ["no_such_exercise", "..", "SQUAT"])
def test_an_unknown_exercise_has_no_thumbnail(client, exercise_id):
    response = client.get(f"/api/exercises/{exercise_id}/thumbnail.jpg")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.fixture()
def library_copy(tmp_path, sample_clips_dir) -> Path:
    """A data directory whose clips are links to the session's samples, so a test may break one."""
    clips = tmp_path / "data" / "exercises"
    clips.mkdir(parents=True)
    for entry in sample_clips_dir.iterdir():
        (clips / entry.name).symlink_to(entry)
    return tmp_path / "data"


def clip_file(client: TestClient, data_dir: Path, exercise_id: str) -> Path:
    """The exercise's clip as the server reads it: a link in this test's own directory, safe to replace."""
    path = client.app.state.service.catalogue.get(exercise_id).clip_path
    assert path.is_relative_to(data_dir) and path.is_symlink()
    return path


def test_an_unreadable_or_missing_clip_answers_503_clip_unavailable(library_copy, hlsjs_file):
    settings = Settings(data_dir=library_copy, warm_clips=False, hlsjs_path=hlsjs_file)
    with TestClient(create_app(settings)) as client:
        squat = clip_file(client, library_copy, "squat")
        squat.unlink()  # the link, not the session's sample it points at
        squat.write_bytes(b"not a video at all" * 100)
        garbled = client.get("/api/exercises/squat/thumbnail.jpg")
        assert garbled.status_code == 503, garbled.text
        assert garbled.json()["error"] == "clip_unavailable"
        clip_file(client, library_copy, "plank").unlink()
        missing = client.get("/api/exercises/plank/thumbnail.jpg")
        assert missing.status_code == 503
        assert missing.json()["error"] == "clip_unavailable"
        assert client.get("/api/exercises/burpee/thumbnail.jpg").status_code == 200  # the others still draw


def test_an_installed_copy_carries_the_page(tmp_path):
    """setuptools' build step (what a wheel or `pip install .` copies) takes server/web along with the code."""
    source = tmp_path / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("server", "segmenter", "playlists", "assets"):
        shutil.copytree(REPO / package, source / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    built = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib", "out"],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
    )
    assert built.returncode == 0, built.stderr
    web = source / "out" / "server" / "web"
    assert {path.name for path in web.iterdir()} == {"index.html", *STATIC_FILES}
