"""HTTP fetches made the way a player makes them, each one recorded for the serving checks (rule 9).

Redirects are never followed (Apple 8.18 forbids them, so a 3xx is a finding, not a detour), every
response's status, headers and wall time are kept, and each resource is fetched once unless a check needs
a second fetch on purpose (playlists and init segments, to prove they never change).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

FETCH_TIMEOUT_SECONDS = 120.0
"""Generous: a cold segment may wait for a render worker; the wall time is reported, not bounded here."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    """0 when no HTTP answer came at all (connection error, timeout)."""
    content_type: str
    content_encoding: str
    body: bytes
    """Decoded body (gzip already undone by httpx)."""
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200

    def describe(self) -> str:
        return f"{self.url}: {self.error or f'HTTP {self.status}'}"


class Fetcher:
    """Fetches URLs with one httpx client and remembers every answer, in order."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.log: list[Fetched] = []

    def get(self, url: str, *, accept_gzip: bool = True) -> Fetched:
        headers = {"Accept-Encoding": "gzip" if accept_gzip else "identity"}
        started = time.perf_counter()
        try:
            response = self.client.get(url, headers=headers, follow_redirects=False)
        except httpx.HTTPError as error:
            fetched = Fetched(url, 0, "", "", b"", time.perf_counter() - started, f"{type(error).__name__}: {error}")
        else:
            fetched = Fetched(
                url=url,
                status=response.status_code,
                content_type=response.headers.get("content-type", ""),
                content_encoding=response.headers.get("content-encoding", ""),
                body=response.content,
                seconds=time.perf_counter() - started,
            )
        self.log.append(fetched)
        return fetched
