"""Shaka Player (npm `shaka-player`, its compiled build) in headless Chromium.

Google's player: its own HLS parser, ABR and MPEG-TS transmuxer (Chromium's MediaSource takes no
video/mp2t), and errors as {severity, category, code} (page: `shaka_player.js`). The page is built as for
hls.js (browser_page.py); only the player differs.
"""

from __future__ import annotations

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

SHAKA_BUILDS = (NODE_MODULES / "shaka-player" / "dist" / "shaka-player.compiled.js",)
PLAYER_SCRIPT = HARNESS_SCRIPT.with_name("shaka_player.js")


def play_with_shaka(
    url: str,
    timeout: float = 120,
    *,
    rate: float = 1.0,
    start: float = 0.0,
    seek_back_to: float | None = None,
    max_height: int | None = None,
    browser: Browser = CHROMIUM,
) -> PageReport:
    """Play `url` with Shaka Player and return the page's report; `max_height` restricts its ABR."""
    query = playback_query(url, rate=rate, start=start, seek_back_to=seek_back_to, max_height=max_height)
    scripts = (installed(SHAKA_BUILDS), HARNESS_SCRIPT, PLAYER_SCRIPT)
    return play_page(browser, "Shaka Player harness", scripts, query, timeout)
