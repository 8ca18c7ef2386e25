"""Per-client rate limits on the expensive writes (plan creation and generation).

A token bucket per client: `burst` requests at once, refilled at `per_minute`. A client is its
peer address, or the address its trusted proxy forwarded (X-Forwarded-For is believed only from
peers listed in `HLS_TRUSTED_PROXIES`, else any client could pick its own bucket).

Memory is bounded: a bucket idle long enough to be full again is the same as no bucket and is
dropped, and past `max_clients` buckets the least recently used goes first.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass

from starlette.requests import Request

from server.errors import RateLimited

SECONDS_PER_MINUTE = 60
DEFAULT_MAX_CLIENTS = 10_000
"""Buckets kept at most (about 100 bytes each): a flood of addresses cannot grow memory past ~1 MB."""
UNKNOWN_CLIENT = "unknown"
LIMITER_STATE = "rate_limiter"


@dataclass
class Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by client; `clock` (monotonic seconds) is injectable for tests."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = DEFAULT_MAX_CLIENTS,
    ) -> None:
        if per_minute <= 0 or burst < 1 or max_clients < 1:
            raise ValueError("a rate limiter needs a positive rate, a burst of at least 1 and room for a client")
        self.rate = per_minute / SECONDS_PER_MINUTE
        """Tokens added per second."""
        self.burst = burst
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, client: str) -> None:
        """Take one token for `client`, or raise RateLimited saying when the next one is due."""
        now = self._clock()
        self._evict_idle(now)
        bucket = self._buckets.pop(client, None) or Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[client] = bucket  # most recently used last
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        if bucket.tokens < 1:
            wait = math.ceil((1 - bucket.tokens) / self.rate)
            raise RateLimited(f"too many requests: at most {self.burst} at once, then the per-minute rate", wait)
        bucket.tokens -= 1

    def _evict_idle(self, now: float) -> None:
        """Drop buckets that have refilled completely; the oldest are first, so stop at the first busy one."""
        refill_seconds = self.burst / self.rate
        while self._buckets:
            oldest = next(iter(self._buckets.values()))
            if now - oldest.updated < refill_seconds:
                return
            self._buckets.popitem(last=False)


def client_address(request: Request, trusted_proxies: Collection[str]) -> str:
    """The peer address, or, behind a trusted proxy, the right-most forwarded address that is not a proxy."""
    peer = request.client.host if request.client else UNKNOWN_CLIENT
    forwarded = request.headers.get("x-forwarded-for")
    if peer not in trusted_proxies or not forwarded:
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return hops[0] if hops else peer


def enforce_rate_limit(request: Request) -> None:
    """Count this request against its client's bucket (nothing when limiting is off)."""
    limiter: RateLimiter | None = getattr(request.app.state, LIMITER_STATE, None)
    if limiter is not None:
        limiter.acquire(client_address(request, request.app.state.settings.trusted_proxies))
