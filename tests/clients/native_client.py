"""Chromium's built-in HLS player: `video.src = <playlist>`, no hls.js, no MediaSource in the page.

Debian's Chromium answers `canPlayType('application/vnd.apple.mpegurl')` with "maybe" and fetches the
playlists and segments itself, choosing renditions on its own, closer to what Safari does than a script
player. The page is page_harness.js and `native_player.js` (browser_page.py); the browser is told nothing
but the URL, a start position and a rate (no rendition cap: it cannot be given one).
"""

from __future__ import annotations

from .browser_page import CHROMIUM, HARNESS_SCRIPT, PageReport, play_page, playback_query

PLAYER_SCRIPT = HARNESS_SCRIPT.with_name("native_player.js")


def play_natively(
    url: str,
    timeout: float = 120,
    *,
    rate: float = 1.0,
    start: float = 0.0,
    seek_back_to: float | None = None,
) -> PageReport:
    """Play `url` with Chromium's own HLS player and return the page's report."""
    query = playback_query(url, rate=rate, start=start, seek_back_to=seek_back_to, max_height=None)
    return play_page(CHROMIUM, "built-in HLS harness", (HARNESS_SCRIPT, PLAYER_SCRIPT), query, timeout)
