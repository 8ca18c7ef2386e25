"""Simulated players: each fetches its stream on a real-time schedule and notes missed deadlines.

A player creates its plan, reads the multivariant and media playlists, then
fetches segments 0..2 as fast as it can (the start buffer). Playback starts
when segment 2 has arrived. From then on it keeps three segments ahead:
segment k is requested when the playhead reaches the start of segment k-3
(or when k-1 arrives, if that is later), and its deadline is the moment the
playhead reaches segment k. A segment arriving after its deadline is a stall
a viewer would see. A 503 is retried after its Retry-After, as players do;
the deadline still counts.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from fractions import Fraction

import httpx

START_BUFFER_SEGMENTS = 3


@dataclass
class PlayerResult:
    segments: int = 0
    missed: int = 0
    worst_lateness: float = 0.0
    """Seconds past the deadline of the latest segment (0 when none was late)."""
    startup: float = 0.0
    """Seconds from creating the plan to playback starting."""
    retries: int = 0
    errors: list[str] = field(default_factory=list)


def segment_starts(media_playlist: str) -> list[tuple[str, Fraction]]:
    """(uri, start time) of every segment in a media playlist."""
    out, start, duration = [], Fraction(0), None
    for line in media_playlist.splitlines():
        if line.startswith("#EXTINF:"):
            duration = Fraction(line[len("#EXTINF:") :].split(",")[0])
        elif line and not line.startswith("#") and duration is not None:
            out.append((line, start))
            start += duration
            duration = None
    return out


async def _get(client: httpx.AsyncClient, url: str, result: PlayerResult) -> bytes:
    while True:
        response = await client.get(url)
        if response.status_code == 503:
            result.retries += 1
            await asyncio.sleep(float(response.headers.get("retry-after", "1")))
            continue
        response.raise_for_status()
        return response.content


async def play(
    client: httpx.AsyncClient,
    base: str,
    plan: dict,
    media_seconds: float,
    start_delay: float,
    rendition: str = "720p",
    result: PlayerResult | None = None,
) -> PlayerResult:
    """Play one session; `result` (filled in as it goes) lets a caller that cancels the session keep
    what it measured so far."""
    result = result if result is not None else PlayerResult()
    await asyncio.sleep(start_delay)
    try:
        created_at = time.monotonic()
        response = await client.post(base + "/api/plans", json=plan)
        response.raise_for_status()
        created = response.json()
        await _get(client, created["playlist_url"], result)
        media_url = created["media_playlist_urls"][rendition]
        media = (await _get(client, media_url, result)).decode()
        segments = [(uri, at) for uri, at in segment_starts(media) if at < media_seconds]
        prefix = media_url.rsplit("/", 1)[0] + "/"
        playback_start = 0.0
        for index, (uri, start) in enumerate(segments):
            if index >= START_BUFFER_SEGMENTS:
                request_at = playback_start + float(segments[index - START_BUFFER_SEGMENTS][1])
                await asyncio.sleep(max(0.0, request_at - time.monotonic()))
            await _get(client, prefix + uri, result)
            arrived = time.monotonic()
            result.segments += 1
            if index == START_BUFFER_SEGMENTS - 1 or index == len(segments) - 1 and not playback_start:
                playback_start = arrived
                result.startup = arrived - created_at
            if index >= START_BUFFER_SEGMENTS:
                lateness = arrived - (playback_start + float(start))
                if lateness > 0:
                    result.missed += 1
                    result.worst_lateness = max(result.worst_lateness, lateness)
    except httpx.HTTPError as error:
        result.errors.append(f"{type(error).__name__}: {error}")
    return result


@dataclass(frozen=True)
class CrowdResult:
    players: int
    segments: int
    missed: int
    worst_lateness: float
    startup_median: float
    retries: int
    errors: list[str]


async def crowd(
    base: str, plans: list[dict], media_seconds: float, ramp_seconds: float, rendition: str = "720p"
) -> CrowdResult:
    """Run one player per plan, their starts spread evenly over `ramp_seconds`."""
    limits = httpx.Limits(max_connections=len(plans) + 10, max_keepalive_connections=len(plans) + 10)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        step = ramp_seconds / max(1, len(plans))
        results = await asyncio.gather(
            *(play(client, base, plan, media_seconds, n * step, rendition) for n, plan in enumerate(plans))
        )
    startups = sorted(r.startup for r in results if r.startup)
    return CrowdResult(
        players=len(plans),
        segments=sum(r.segments for r in results),
        missed=sum(r.missed for r in results),
        worst_lateness=max((r.worst_lateness for r in results), default=0.0),
        startup_median=startups[len(startups) // 2] if startups else float("nan"),
        retries=sum(r.retries for r in results),
        errors=[e for r in results for e in r.errors],
    )
