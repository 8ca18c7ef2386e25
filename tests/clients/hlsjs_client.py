"""hls.js, the most common real-world HLS player, driven end to end in headless Chromium or Firefox ESR.

The page (browser_page.py) is hls.js from node_modules, page_harness.js and `hlsjs_player.js`; the same
page runs in either browser, so Chromium's and Firefox's MediaSource implementations meet the same hls.js.
"""

from __future__ import annotations

from dataclasses import dataclass

from .browser_page import (
    CHROMIUM,
    HARNESS_SCRIPT,
    NODE_MODULES,
    Browser,
    PageReport,
    installed,
    play_page,
    playback_query,
)

HLSJS_BUILDS = (NODE_MODULES / "hls.js" / "dist" / "hls.min.js", NODE_MODULES / "hls.js" / "dist" / "hls.js")
"""Preferred build first; the non-minified one gives readable stack traces."""
PLAYER_SCRIPT = HARNESS_SCRIPT.with_name("hlsjs_player.js")


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
    browser: Browser = CHROMIUM,
) -> PageReport:
    """Play `url` with hls.js in headless `browser` and return the page's report.

    Playback is real time divided by `rate`; with `seek_back_to`, the part after that
    point is played twice, so size `timeout` accordingly. `max_height` caps hls.js's ABR;
    `max_buffer_seconds` bounds how far ahead it fetches (so it fetches at the pace of playback).
    """
    query = playback_query(url, rate=rate, start=start, seek_back_to=seek_back_to, max_height=max_height)
    if switch is not None:
        query |= {
            "startHeight": str(switch.start_height),
            "switchAt": repr(switch.at_seconds),
            "switchHeight": str(switch.to_height),
        }
    if max_buffer_seconds is not None:
        query["maxBuffer"] = repr(max_buffer_seconds)
    scripts = (installed(HLSJS_BUILDS), HARNESS_SCRIPT, PLAYER_SCRIPT)
    return play_page(browser, "hls.js harness", scripts, query, timeout)
