"""A player test page in a headless browser (Chromium or Firefox), and the one report it posts.

A private static server (127.0.0.1, free port) serves a page made of `page_harness.js` (which watches the
`<video>` element: stalls, buffered and played ranges, dropped frames, errors) and one player's scripts
(hls.js, Shaka Player, or none for the browser's own HLS). The page plays a stream that lives on a
*different* origin, so the server's CORS headers are exercised, and POSTs a JSON report to `/result`.
The browser is killed (whole process tree) as soon as the report arrives or the time is up. Every client
module (hlsjs_client, shaka_client, native_client) is this plus its scripts and query parameters.
"""

from __future__ import annotations

import html
import http.server
import json
import os
import shutil
import tempfile
import threading
import urllib.parse
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._http import serve_in_thread
from ._process import run_bounded

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
HARNESS_SCRIPT = Path(__file__).with_name("page_harness.js")
PAGE_TEMPLATE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body><video id="video" playsinline width="640" height="360"></video>
{scripts}
</body></html>
"""
"""The page: one video element, then the scripts in order (player library, harness, player glue)."""
PAGE_TIMEOUT_MARGIN_SECONDS = 15.0
"""The page reports on its own this long (at most a quarter of the timeout) before the
harness kills the browser, so a hung playback still yields the page's partial report."""
MAX_RESULT_BYTES = 64 * 1024 * 1024
DATA_AHEAD_SECONDS = 1.0
"""A stall with at least this much media buffered at the playhead (or everything up to the end) had
its data: the machine's decoder fell behind (software decoding at a raised rate on shared cores).
Below it, the player was starved of data: a hole, a late or failed fetch, a defect of the stream."""
BUFFER_STALLED_ERROR = "bufferStalledError"
"""hls.js's name for "the playhead stopped": the one non-fatal error that says nothing by itself."""

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    # Headless Chromium presents at most 60 frames a second (vsync): at 4x a 30 fps stream would
    # "drop" every other frame whatever the stream. Unlimited, dropped frames measure decoding again.
    "--disable-frame-rate-limit",
    "--disable-gpu-vsync",
)
FIREFOX_PREFS: dict[str, bool | int | str] = {
    # Play without a user gesture.
    "media.autoplay.default": 0,
    "media.autoplay.blocking_policy": 0,
    # No audio device here: without it Firefox plays video alone (cubeb fails, "OnMediaSinkAudioError")
    # and never renders the audio. Its mock audio context consumes audio in real time, as a sound card does.
    "media.cubeb.force_mock_context": True,
    # Nothing from the internet: no OpenH264 / Widevine download (H.264 and AAC decode through Debian's
    # FFmpeg libraries), no first-run pages, updates, telemetry or safe-browsing lists.
    "media.gmp-manager.updateEnabled": False,
    "media.gmp-gmpopenh264.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.aboutwelcome.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.enabled": False,
    "app.normandy.enabled": False,
    "extensions.update.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    # Decode every frame, late or not: a busy machine then drops frames only at presentation, and the
    # decoded count says what the stream delivered (Firefox otherwise skips to the next keyframe).
    "media.decoder.skip-to-next-key-frame.enabled": False,
}


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    env: dict[str, str] | None
    """None: the harness's own environment."""


@dataclass(frozen=True)
class Browser(ABC):
    """A browser the page can be opened in: how to find it and start it headless on a fresh profile."""

    name: str
    binaries: tuple[str, ...]
    """Names tried on PATH, in order."""

    def find(self) -> str | None:
        """Path of the first of `binaries` on PATH."""
        for name in self.binaries:
            path = shutil.which(name)
            if path:
                return path
        return None

    @abstractmethod
    def launch(self, binary: str, profile: Path, url: str) -> Launch:
        """The command that opens `url` headless on the fresh profile directory `profile`."""


@dataclass(frozen=True)
class Chromium(Browser):
    def launch(self, binary: str, profile: Path, url: str) -> Launch:
        return Launch([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", url], None)


@dataclass(frozen=True)
class Firefox(Browser):
    def launch(self, binary: str, profile: Path, url: str) -> Launch:
        (profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in FIREFOX_PREFS.items())
        )
        # Firefox as root wants a HOME of its own; MOZ_HEADLESS as well as --headless, for its child processes.
        env = {**os.environ, "HOME": str(profile), "MOZ_HEADLESS": "1", "MOZ_CRASHREPORTER_DISABLE": "1"}
        return Launch([binary, "--headless", "--no-remote", "--profile", str(profile), url], env)


CHROMIUM = Chromium("chromium", ("chromium", "chromium-browser", "google-chrome"))
FIREFOX = Firefox("firefox", ("firefox-esr", "firefox"))
"""Debian's Firefox ESR: driven like Chromium, by opening the page on a prepared profile (no WebDriver)."""


def find_chromium() -> str | None:
    return CHROMIUM.find()


def had_its_data(event: dict[str, Any]) -> bool:
    """Whether a stall event (or hls.js's bufferStalledError) came with the next media already buffered, or
    already downloaded (`loaded`, from players that know: hls.js). A fragment received but not yet
    buffered is the browser parsing and appending late on a busy machine, as seen after hls.js's forced
    switch to 1080p in one full run; a server too slow to answer leaves it not `loaded`."""
    return (
        bool(event.get("toEnd"))
        or float(event.get("ahead") or 0.0) >= DATA_AHEAD_SECONDS
        or event.get("loaded") is True
    )


@dataclass(frozen=True)
class PageReport:
    """What a player and its browser did with a stream, as reported by the test page."""

    ended: bool
    """`ended` fired (first pass)."""
    ended_after_seek: bool | None
    """None without a seek back; else whether `ended` fired again after the seek."""
    errors: list[dict[str, Any]]
    """Every error the player reported: t, ct (currentTime), type, details, fatal, reason, url, httpStatus
    (and, on a stall the player reported, what was buffered ahead: ahead, toEnd)."""
    stalls: int
    """Stall episodes (waiting / the player's stall error, seeks excluded) in which the player was starved
    of data: what the stream and the server are answerable for."""
    decoder_stalls: int
    """Stall episodes with the next second already buffered: the decoder fell behind on this machine."""
    buffered: list[tuple[float, float]]
    duration: float | None
    dropped_frames: int | None
    total_frames: int | None
    decoded_frames: int | None
    """Frames the decoder produced (Firefox's `mozDecodedFrames`; None in Chromium): unlike dropped frames,
    which a busy machine adds at presentation, this counts what the stream delivered."""
    warnings: list[str]
    """Player logger lines, console warnings/errors, page exceptions."""
    video_width: int | None
    video_height: int | None
    timeline: list[dict[str, Any]]
    """currentTime samples: t (page seconds), ct, rs (readyState), paused, pass (1|2)."""
    elapsed: float
    """Wall time of the whole run (browser start to kill)."""
    timed_out: bool
    """No report arrived before the harness timeout (raw is then empty)."""
    finish_reason: str | None
    """Page: ended | ended-after-seek | fatal:<details> | media-error | timeout | unsupported | no-<library>;
    harness: no-report: harness timeout | no-report: browser exited with <rc>."""
    raw: dict[str, Any] = field(default_factory=dict)
    browser_log: str = ""

    @property
    def fatal_errors(self) -> list[dict[str, Any]]:
        return [e for e in self.errors if e.get("fatal")]

    @property
    def stream_errors(self) -> list[dict[str, Any]]:
        """Every error but a non-fatal bufferStalledError raised while the data was buffered: hls.js
        raises that one when the playhead stops, whatever the cause, and here the cause was the CPU."""
        return [
            e for e in self.errors
            if e.get("fatal") or e.get("details") != BUFFER_STALLED_ERROR or not had_its_data(e)
        ]

    @property
    def media_error(self) -> dict[str, Any] | None:
        """The `<video>` element's own error ({code, message}), whichever player fed it."""
        return self.raw.get("mediaError")

    @property
    def played(self) -> list[tuple[float, float]]:
        """`video.played`: the time ranges actually played. Unlike `buffered`, a level switch
        cannot remove them (hls.js flushes the old level's data around the switch)."""
        return [(float(a), float(b)) for a, b in self.raw.get("played", [])]

    @property
    def heights_played(self) -> list[int]:
        """The level height of every fragment as it started playing (hls.js's FRAG_CHANGED), in order."""
        return [f["height"] for f in self.raw.get("fragsPlayed", [])]

    @property
    def heights_shown(self) -> list[int]:
        """Picture heights in the order the element showed them (its `resize` events): the renditions
        any player, the browser's own included, ended up playing."""
        return [s["height"] for s in self.raw.get("sizes", []) if s.get("height")]

    @property
    def after_seek_times(self) -> list[float]:
        """currentTime progression after the seek back (second pass)."""
        return [s["ct"] for s in self.raw.get("afterSeekTimeline", [])]


class PageScriptMissing(RuntimeError):
    """A player's script is not installed: run `npm ci` at the repo root (see package.json)."""


def installed(candidates: Sequence[Path]) -> Path:
    """The first of `candidates` that exists (a preferred build first); raises PageScriptMissing."""
    for path in candidates:
        if path.is_file():
            return path
    raise PageScriptMissing(f"none of {[str(p) for p in candidates]} exists: run `npm ci` in {REPO_ROOT}")


class _ResultBox:
    """Thread-safe holder for the single report the page posts."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value: dict[str, Any] | None = None

    def put(self, value: dict[str, Any]) -> None:
        if not self.event.is_set():
            self.value = value
            self.event.set()


def page_html(title: str, scripts: Sequence[Path]) -> bytes:
    tags = "\n".join(f'<script src="/{html.escape(path.name)}"></script>' for path in scripts)
    return PAGE_TEMPLATE.format(title=html.escape(title), scripts=tags).encode()


@contextmanager
def _page_server(title: str, scripts: Sequence[Path], box: _ResultBox) -> Iterator[str]:
    """Serve the page, its scripts (each at /<file name>) and POST /result on 127.0.0.1:<free port>."""
    page = page_html(title, scripts)
    files = {f"/{path.name}": path.read_bytes() for path in scripts}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            if path in ("/", "/index.html"):
                self._send(200, page, "text/html; charset=utf-8")
            elif path in files:
                self._send(200, files[path], "text/javascript; charset=utf-8")
            else:
                self._send(404, b"not found", "text/plain")

        def do_POST(self) -> None:
            if urllib.parse.urlsplit(self.path).path != "/result":
                self._send(404, b"not found", "text/plain")
                return
            length = min(int(self.headers.get("Content-Length", "0")), MAX_RESULT_BYTES)
            try:
                box.put(json.loads(self.rfile.read(length)))
            except ValueError as exc:
                box.put({"finishReason": "bad-json", "warnings": [f"result was not JSON: {exc}"]})
            self._send(204, b"", "text/plain")

        def log_message(self, format: str, *args: object) -> None:
            pass

    with serve_in_thread(Handler, "player-page-http") as base:
        yield base


def playback_query(
    src: str, *, rate: float, start: float, seek_back_to: float | None, max_height: int | None
) -> dict[str, str]:
    """The query parameters page_harness.js reads (a player's own come on top)."""
    query = {"src": src, "rate": repr(rate), "start": repr(start)}
    if seek_back_to is not None:
        query["seekBackTo"] = repr(seek_back_to)
    if max_height is not None:
        query["maxHeight"] = str(max_height)
    return query


def play_page(
    browser: Browser, title: str, scripts: Sequence[Path], query: Mapping[str, str], timeout: float
) -> PageReport:
    """Open the page made of `scripts` with `query` in `browser` and return its report.

    The page gets `timeout` less a margin to report on its own; the harness kills the browser at `timeout`.
    """
    binary = browser.find()
    if binary is None:
        raise FileNotFoundError(f"no {browser.name} binary on PATH (tried {', '.join(browser.binaries)})")
    box = _ResultBox()
    page_timeout = timeout - min(PAGE_TIMEOUT_MARGIN_SECONDS, timeout / 4)
    with (
        tempfile.TemporaryDirectory(prefix=f"{browser.name}-profile-") as profile,
        _page_server(title, scripts, box) as base,
    ):
        url = f"{base}/?{urllib.parse.urlencode({**query, 'timeout': repr(page_timeout)})}"
        launch = browser.launch(binary, Path(profile), url)
        run = run_bounded(launch.argv, timeout, env=launch.env, done=box.event.is_set)
    if box.value is not None:
        reason = None  # the page's own finishReason
    elif run.timed_out:
        reason = "no-report: harness timeout"
    else:
        reason = f"no-report: browser exited with {run.returncode}"
    timed_out = run.timed_out and box.value is None
    return _report(box.value, "seekBackTo" in query, run.elapsed, timed_out, reason, run.stderr)


def _stall_counts(raw: dict[str, Any]) -> dict[str, int]:
    """Stall episodes split by whether the player had its data (see DATA_AHEAD_SECONDS); an episode
    counts as starved if any of its events found too little buffered."""
    episodes: dict[int, bool] = {}
    for event in raw.get("stallEvents", []):
        episode = int(event.get("episode") or 0)
        episodes[episode] = episodes.get(episode, True) and had_its_data(event)
    starved = sum(1 for had_data in episodes.values() if not had_data)
    return {"stalls": starved, "decoder_stalls": len(episodes) - starved}


def _report(
    raw: dict[str, Any] | None,
    seeks_back: bool,
    elapsed: float,
    timed_out: bool,
    no_report_reason: str | None,
    browser_log: str,
) -> PageReport:
    raw = raw or {}

    def number(key: str) -> float | None:
        value = raw.get(key)
        return float(value) if isinstance(value, (int, float)) else None

    def integer(key: str) -> int | None:
        value = raw.get(key)
        return int(value) if isinstance(value, (int, float)) else None

    return PageReport(
        ended=bool(raw.get("ended")),
        ended_after_seek=bool(raw.get("endedAfterSeek")) if seeks_back else None,
        errors=list(raw.get("errors", [])),
        **_stall_counts(raw),
        buffered=[(float(a), float(b)) for a, b in raw.get("buffered", [])],
        duration=number("duration"),
        dropped_frames=integer("droppedFrames"),
        total_frames=integer("totalFrames"),
        decoded_frames=integer("decodedFrames"),
        warnings=list(raw.get("warnings", [])),
        video_width=integer("videoWidth"),
        video_height=integer("videoHeight"),
        timeline=list(raw.get("timeline", [])),
        elapsed=elapsed,
        timed_out=timed_out,
        finish_reason=raw.get("finishReason", no_report_reason),
        raw=raw,
        browser_log=browser_log,
    )
