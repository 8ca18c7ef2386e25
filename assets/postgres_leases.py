"""Render leases as PostgreSQL advisory locks: the lock service of `segmenter.cluster_flight`.

Every node of a cluster already shares one PostgreSQL database (catalogue and plans), so a segment's
lease is a session-level advisory lock on a number derived from its content key. This was chosen over
a lease object in S3 written with `If-None-Match`, because of what happens when the holder dies:

- an advisory lock belongs to a database session: when a node is killed, its kernel closes the socket,
  PostgreSQL ends the session and frees the lock at once, and a waiting node takes over at its next poll
  (measured in tests/assets/test_postgres_leases.py);
- an S3 lease object outlives its writer: it needs an expiry longer than the slowest render but short
  enough to wait out, and taking over an expired one safely needs a conditional delete as well.

A node that vanishes without closing its socket (power loss, a partition) is noticed through TCP
keepalives (`KEEPALIVES`), which end its sessions, and so its leases, within about 25 seconds; meanwhile
followers stop waiting after `ClusterFlight.wait_seconds` and render themselves.

asyncpg is asynchronous and leases are taken on render worker threads, so the leases run on an event
loop of their own, in one thread; a held lease keeps its pooled connection until it is released.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import zlib
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncpg

from segmenter.cluster_flight import LeaseUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

LEASE_NAMESPACE = zlib.crc32(b"workout-hls-server render leases") - 2**31
"""First key of the two-key advisory lock form (a signed int4), so render leases never meet other
advisory locks on the database (the one-key form the migrations use is a separate key space)."""
CONNECT_TIMEOUT_SECONDS = 2.0
COMMAND_TIMEOUT_SECONDS = 2.0
CALL_TIMEOUT_SECONDS = CONNECT_TIMEOUT_SECONDS + COMMAND_TIMEOUT_SECONDS + 1.0
"""Longest a render worker waits on the lock service before rendering without a lease."""
KEEPALIVES = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5", "tcp_keepalives_count": "3"}
"""Server-side TCP keepalives for lease sessions: a silent node's locks are freed in 10 + 5 x 3 s."""
APPLICATION_NAME = "hls-render-leases"
"""How lease sessions show in `pg_stat_activity`, so an operator (or a test) can tell them from the
catalogue's connections."""
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


def lease_number(key: str) -> int:
    """The second key of a segment's lock: 32 bits of a hash of its content key. Two keys that
    collide only take turns; they never share bytes."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big", signed=True)


class PostgresLease:
    def __init__(self, leases: PostgresRenderLeases, connection: asyncpg.Connection, number: int) -> None:
        self._leases = leases
        self._connection = connection
        self._number = number

    def release(self) -> None:
        self._leases._release(self._connection, self._number)


class PostgresRenderLeases:
    """`RenderLeases` on the PostgreSQL database given by its DSN."""

    def __init__(self, dsn: str, max_connections: int) -> None:
        self._dsn = dsn
        self._max_connections = max_connections
        self._pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="render-leases", daemon=True)
        self._thread.start()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(CALL_TIMEOUT_SECONDS)
        except TimeoutError:
            future.cancel()
            raise

    async def _get_pool(self) -> asyncpg.Pool:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=0,
                    max_size=self._max_connections,
                    timeout=CONNECT_TIMEOUT_SECONDS,
                    command_timeout=COMMAND_TIMEOUT_SECONDS,
                    server_settings={**KEEPALIVES, "application_name": APPLICATION_NAME},
                )
            return self._pool

    async def _try_lock(self, number: int) -> asyncpg.Connection | None:
        pool = await self._get_pool()
        connection = await pool.acquire(timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            locked = await connection.fetchval("SELECT pg_try_advisory_lock($1, $2)", LEASE_NAMESPACE, number)
        except BaseException:
            await pool.release(connection)
            raise
        if not locked:
            await pool.release(connection)
            return None
        return connection

    def try_acquire(self, key: str) -> PostgresLease | None:
        number = lease_number(key)
        try:
            connection = self._call(self._try_lock(number))
        except UNAVAILABLE_ERRORS as error:
            raise LeaseUnavailable(f"PostgreSQL did not answer for a render lease: {error!r}") from error
        return None if connection is None else PostgresLease(self, connection, number)

    async def _unlock(self, connection: asyncpg.Connection, number: int) -> None:
        pool = await self._get_pool()
        try:
            await connection.execute("SELECT pg_advisory_unlock($1, $2)", LEASE_NAMESPACE, number)
        except UNAVAILABLE_ERRORS:
            connection.terminate()  # ending the session frees its locks
        finally:
            await pool.release(connection)

    def _release(self, connection: asyncpg.Connection, number: int) -> None:
        try:
            self._call(self._unlock(connection, number))
        except UNAVAILABLE_ERRORS as error:
            # The session is gone or going: its locks go with it.
            log.warning("render lease %s not released cleanly: %r", number, error)

    async def _close_pool(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    def close(self) -> None:
        try:
            self._call(self._close_pool())
        except UNAVAILABLE_ERRORS as error:
            log.warning("render lease connections not closed cleanly: %r", error)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=CALL_TIMEOUT_SECONDS)
