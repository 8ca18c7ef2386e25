"""Cluster-wide single flight: a cold segment asked of several nodes at once is rendered by one.

Within a node, `SegmentCache.get_or_render` joins concurrent requests for a segment. Across nodes the
shared S3 tier only helps once a segment is stored: two nodes asked for the same cold segment at once
(a failover moved a player, a balancer spread a plan) would both render it. So before rendering, a
node takes a short *render lease* on the segment's content key from a lock service all nodes share
(`RenderLeases`; PostgreSQL advisory locks in `assets.postgres_leases`):

- the leader renders, stores the segment in the shared tier, and only then gives the lease back, so a
  node that takes the lease next finds the segment there;
- a follower polls the lease; once it gets it, it reads the shared tier and, in the usual case, serves
  the leader's segment without rendering.

Availability wins over deduplication whenever they conflict: a lock service that cannot answer, or a
lease held longer than `wait_seconds` (a leader stuck, or a slow machine), makes the node render on its
own, as it would without a cluster. A leader that dies loses its lease with its database connection, so
a follower takes over at its next poll (see `assets.postgres_leases`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from segmenter.shared_store import SharedSegmentStore

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05
"""How often a follower asks for the lease again: a segment renders in 0.3-3 s, so a follower starts
serving within a twentieth of a second of the leader's upload."""


UNAVAILABLE_BACKOFF_SECONDS = 10.0
"""After the lock service failed to answer, renders go without a lease for this long instead of each
paying the service's time-out again (a database that is down, or silent, must not slow streaming)."""


class LeaseUnavailable(RuntimeError):
    """The lock service could not answer (down, restarting, too slow)."""


class Lease(Protocol):
    def release(self) -> None:
        """Give the lease back; never raises (a lost connection has released it already)."""


class RenderLeases(Protocol):
    """A lock service shared by every node of the cluster."""

    def try_acquire(self, key: str) -> Lease | None:
        """The lease on `key`, or None while another holder has it; `LeaseUnavailable` when the service
        cannot answer. Never waits for the lease itself."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class FlightCounts:
    """How this node's cold segments were produced."""

    led: int
    """Rendered here under the lease."""
    followed: int
    """Found in the shared tier once the lease was ours: another node rendered it meanwhile (a render saved)."""
    waited_out: int
    """Rendered here without the lease: another node held it longer than the wait allows."""
    unleased: int
    """Rendered here without the lease: the lock service could not answer."""


class ClusterFlight:
    """The shared tier and the render lease around one node's renders. Without `leases` (a node
    without PostgreSQL) the shared tier is used alone: stored segments are not rendered twice, but two
    nodes may render the same cold one."""

    def __init__(
        self,
        shared: SharedSegmentStore,
        leases: RenderLeases | None,
        wait_seconds: float,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.shared = shared
        self.leases = leases
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self._uploads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="segment-upload")
        self._lock = threading.Lock()
        self._counts = {"led": 0, "followed": 0, "waited_out": 0, "unleased": 0}
        self._unavailable_until = 0.0

    def produce(self, key: str, render: Callable[[], bytes]) -> bytes:
        """The segment's bytes: from the shared tier when any node has stored it, else `render()`d here,
        at most once across the cluster while the lock service answers. Runs on a render worker's thread."""
        data = self.shared.get(key)
        if data is not None:
            return data
        lease, data = self._lead_or_follow(key)
        if data is not None:
            return data
        try:
            data = render()
        except BaseException:
            if lease is not None:
                lease.release()
            raise
        # The player does not wait for the upload; the lease is held until the segment is stored.
        self._uploads.submit(self._store_and_release, key, data, lease)
        return data

    def _lead_or_follow(self, key: str) -> tuple[Lease | None, bytes | None]:
        """(the lease, None) to render under it; (None, bytes) when another node's render arrived;
        (None, None) to render without a lease."""
        if self.leases is None:
            return None, None
        if time.monotonic() < self._unavailable_until:
            self._count("unleased")
            return None, None
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                lease = self.leases.try_acquire(key)
            except LeaseUnavailable as error:
                self._unavailable_until = time.monotonic() + UNAVAILABLE_BACKOFF_SECONDS
                self._count("unleased")
                log.warning(
                    "render lease for %s unavailable, rendering without leases for %.0f s: %s",
                    key, UNAVAILABLE_BACKOFF_SECONDS, error,
                )
                return None, None
            if lease is not None:
                break
            if time.monotonic() >= deadline:
                self._count("waited_out")
                log.warning("render lease for %s held over %.1f s by another node: rendering here", key, self.wait_seconds)
                return None, None
            time.sleep(self.poll_seconds)
        # Read again under the lease: a leader stores its segment before it releases, so one that
        # finished since the first read (waited for or not) has left it here.
        data = self.shared.get(key)
        if data is not None:
            lease.release()
            self._count("followed")
            return None, data
        self._count("led")
        return lease, None

    def _store_and_release(self, key: str, data: bytes, lease: Lease | None) -> None:
        try:
            self.shared.put(key, data)
        finally:
            if lease is not None:
                lease.release()

    def _count(self, outcome: str) -> None:
        with self._lock:
            self._counts[outcome] += 1

    def counts(self) -> FlightCounts:
        with self._lock:
            return FlightCounts(**self._counts)

    def close(self) -> None:
        """Finish pending uploads (and give their leases back), then close the lock service."""
        self._uploads.shutdown(wait=True)
        if self.leases is not None:
            self.leases.close()
