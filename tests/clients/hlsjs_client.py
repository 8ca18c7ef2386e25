"""hls.js in headless Chromium: the most common real-world HLS player, driven end to end.

A private static server (127.0.0.1, free port) serves `hlsjs_page.html` and hls.js from
node_modules; the page plays the stream — which lives on a *different* origin, so the
server's CORS headers are exercised — and POSTs a JSON report to `/result`. Chromium
is killed (whole process tree) as soon as the report arrives or the time is up.
"""

from __future__ import annotations

import http.server
import json
import shutil
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._http import serve_in_thread
from ._process import run_bounded

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE_PATH = Path(__file__).with_name("hlsjs_page.html")
HLSJS_DIST = REPO_ROOT / "node_modules" / "hls.js" / "dist"
HLSJS_FILES = ("hls.min.js", "hls.js")
"""Preferred build first; the non-minified one gives readable stack traces."""

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
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
PAGE_TIMEOUT_MARGIN_SECONDS = 15.0
"""The page reports on its own this long (at most a quarter of the timeout) before the
harness kills Chromium, so a hung playback still yields the page's partial report."""
MAX_RESULT_BYTES = 64 * 1024 * 1024
DATA_AHEAD_SECONDS = 1.0
"""A stall with at least this much media buffered at the playhead (or everything up to the end) had
its data: the machine's decoder fell behind (software decoding at a raised rate on shared cores).
Below it, the player was starved of data: a hole, a late or failed fetch, a defect of the stream."""
BUFFER_STALLED_ERROR = "bufferStalledError"


def had_its_data(event: dict[str, Any]) -> bool:
    """Whether a stall event (or hls.js's bufferStalledError) came with the next media already buffered."""
    return bool(event.get("toEnd")) or float(event.get("ahead") or 0.0) >= DATA_AHEAD_SECONDS


class HlsJsUnavailable(RuntimeError):
    """hls.js is not installed: run `npm install` (or `npm ci`) at the repo root."""


@dataclass(frozen=True)
class HlsJsReport:
    """What hls.js + Chromium did with a stream, as reported by the test page."""

    ended: bool
    """`ended` fired (first pass)."""
    ended_after_seek: bool | None
    """None without `seek_back_to`; else whether `ended` fired again after the seek."""
    errors: list[dict[str, Any]]
    """Every Hls.Events.ERROR: t, ct (currentTime), type, details, fatal, reason, url (and, on a
    bufferStalledError, what was buffered ahead: ahead, toEnd)."""
    stalls: int
    """Stall episodes (waiting / BUFFER_STALLED_ERROR, seeks excluded) in which the player was starved of
    data: what the stream and the server are answerable for."""
    decoder_stalls: int
    """Stall episodes with the next second already buffered: the decoder fell behind on this machine."""
    buffered: list[tuple[float, float]]
    duration: float | None
    dropped_frames: int | None
    total_frames: int | None
    warnings: list[str]
    """hls.js warn/error logger lines, console warnings/errors, page exceptions."""
    video_width: int | None
    video_height: int | None
    timeline: list[dict[str, Any]]
    """currentTime samples: t (page seconds), ct, rs (readyState), paused, pass (1|2)."""
    elapsed: float
    """Wall time of the whole run (Chromium start to kill)."""
    timed_out: bool
    """No report arrived before the harness timeout (raw is then empty)."""
    finish_reason: str | None
    """Page: ended | ended-after-seek | fatal:<details> | media-error | timeout (the page's
    own); harness: no-report: harness timeout | no-report: browser exited with <rc>."""
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
    def played(self) -> list[tuple[float, float]]:
        """`video.played`: the time ranges actually played. Unlike `buffered`, a level switch
        cannot remove them (hls.js flushes the old level's data around the switch)."""
        return [(float(a), float(b)) for a, b in self.raw.get("played", [])]

    @property
    def heights_played(self) -> list[int]:
        """The level height of every fragment as it started playing (FRAG_CHANGED), in order."""
        return [f["height"] for f in self.raw.get("fragsPlayed", [])]

    @property
    def after_seek_times(self) -> list[float]:
        """currentTime progression after the seek back (second pass)."""
        return [s["ct"] for s in self.raw.get("afterSeekTimeline", [])]


def find_chromium() -> str | None:
    """Path of the first Chromium-like browser on PATH."""
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def hlsjs_script() -> Path:
    """The hls.js build the page loads; raises HlsJsUnavailable if not installed."""
    for name in HLSJS_FILES:
        if (HLSJS_DIST / name).is_file():
            return HLSJS_DIST / name
    raise HlsJsUnavailable(f"hls.js not found in {HLSJS_DIST}: run `npm install` in {REPO_ROOT}")


class _ResultBox:
    """Thread-safe holder for the single report the page posts."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value: dict[str, Any] | None = None

    def put(self, value: dict[str, Any]) -> None:
        if not self.event.is_set():
            self.value = value
            self.event.set()


@contextmanager
def _page_server(script: Path, box: _ResultBox) -> Iterator[str]:
    """Serve the page, hls.js and POST /result on 127.0.0.1:<free port>; yield base URL."""
    page = PAGE_PATH.read_bytes()
    hls_js = script.read_bytes()

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
            elif path == "/hls.js":
                self._send(200, hls_js, "text/javascript; charset=utf-8")
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

    with serve_in_thread(Handler, "hlsjs-page-http") as base:
        yield base


def page_url(
    base: str,
    src: str,
    *,
    rate: float,
    start: float,
    seek_back_to: float | None,
    page_timeout: float,
    switch: LevelSwitch | None = None,
    max_height: int | None = None,
    max_buffer_seconds: float | None = None,
) -> str:
    """The test page URL with its query parameters (see hlsjs_page.html)."""
    query: dict[str, str] = {"src": src, "rate": repr(rate), "start": repr(start), "timeout": repr(page_timeout)}
    if seek_back_to is not None:
        query["seekBackTo"] = repr(seek_back_to)
    if switch is not None:
        query |= {
            "startHeight": str(switch.start_height),
            "switchAt": repr(switch.at_seconds),
            "switchHeight": str(switch.to_height),
        }
    if max_height is not None:
        query["maxHeight"] = str(max_height)
    if max_buffer_seconds is not None:
        query["maxBuffer"] = repr(max_buffer_seconds)
    return f"{base}/?{urllib.parse.urlencode(query)}"


@dataclass(frozen=True)
class LevelSwitch:
    """Start on the level `start_height` lines tall, and ask hls.js for `to_height` at `at_seconds`."""

    start_height: int
    at_seconds: float
    to_height: int


def play_with_hlsjs(
    url: str,
    timeout: float = 120,
    *,
    rate: float = 1.0,
    start: float = 0.0,
    seek_back_to: float | None = None,
    switch: LevelSwitch | None = None,
    max_height: int | None = None,
    max_buffer_seconds: float | None = None,
) -> HlsJsReport:
    """Play `url` with hls.js in headless Chromium and return the page's report.

    Playback is real time divided by `rate`; with `seek_back_to`, the part after that
    point is played twice, so size `timeout` accordingly. `max_height` caps hls.js's ABR;
    `max_buffer_seconds` bounds how far ahead it fetches (so it fetches at the pace of playback).
    """
    browser = find_chromium()
    if browser is None:
        raise FileNotFoundError("no chromium binary on PATH")
    script = hlsjs_script()
    box = _ResultBox()
    page_timeout = timeout - min(PAGE_TIMEOUT_MARGIN_SECONDS, timeout / 4)
    with tempfile.TemporaryDirectory(prefix="hlsjs-profile-") as profile, _page_server(script, box) as base:
        argv = [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            page_url(
                base,
                url,
                rate=rate,
                start=start,
                seek_back_to=seek_back_to,
                page_timeout=page_timeout,
                switch=switch,
                max_height=max_height,
                max_buffer_seconds=max_buffer_seconds,
            ),
        ]
        run = run_bounded(argv, timeout, done=box.event.is_set)
    if box.value is not None:
        reason = None  # the page's own finishReason
    elif run.timed_out:
        reason = "no-report: harness timeout"
    else:
        reason = f"no-report: browser exited with {run.returncode}"
    timed_out = run.timed_out and box.value is None
    return _report(box.value, seek_back_to is not None, run.elapsed, timed_out, reason, run.stderr)


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
) -> HlsJsReport:
    raw = raw or {}

    def number(key: str) -> float | None:
        value = raw.get(key)
        return float(value) if isinstance(value, (int, float)) else None

    def integer(key: str) -> int | None:
        value = raw.get(key)
        return int(value) if isinstance(value, (int, float)) else None

    return HlsJsReport(
        ended=bool(raw.get("ended")),
        ended_after_seek=bool(raw.get("endedAfterSeek")) if seeks_back else None,
        errors=list(raw.get("errors", [])),
        **_stall_counts(raw),
        buffered=[(float(a), float(b)) for a, b in raw.get("buffered", [])],
        duration=number("duration"),
        dropped_frames=integer("droppedFrames"),
        total_frames=integer("totalFrames"),
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
