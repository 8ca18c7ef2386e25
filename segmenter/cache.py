"""In-memory LRU of rendered segments with single flight.

Concurrent requests for a segment that is being rendered wait for that render
instead of starting another. A render runs as its own task, so a player that
disconnects does not cancel work another player is waiting for, and the
result still lands in the cache. The byte budget bounds memory.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable


class SegmentCache:
    def __init__(self, budget_bytes: int) -> None:
        self._budget = budget_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._bytes = 0
        self._inflight: dict[Hashable, asyncio.Task[bytes]] = {}
        self.renders = 0
        self.hits = 0
        self.misses = 0
        """Requests that found the segment neither cached nor rendering (look-ahead renders are not misses)."""

    @property
    def nbytes(self) -> int:
        return self._bytes

    @property
    def budget(self) -> int:
        return self._budget

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def is_rendering(self, key: Hashable) -> bool:
        return key in self._inflight

    def is_rendering_any(self) -> bool:
        return bool(self._inflight)

    def get(self, key: Hashable) -> bytes | None:
        """The cached bytes, without waiting for anything (None if not cached)."""
        data = self._entries.get(key)
        if data is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        return data

    async def get_or_render(self, key: Hashable, render: Callable[[], Awaitable[bytes]]) -> bytes:
        if key in self._entries:
            self._entries.move_to_end(key)
            self.hits += 1
            return self._entries[key]
        while True:
            task = self._inflight.get(key)
            if task is None:
                self.misses += 1
                task = self._start(key, render)
            else:
                self.hits += 1
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                if not _render_dropped_under(task):
                    raise
                # The shared render was dropped (e.g. its queued job was cancelled when the players
                # who started it gave up) while this caller still wants the segment: render anew.

    def abandon(self, key: Hashable) -> None:
        """Forget the render under way for `key` (it took too long): the next request starts a new one.
        The abandoned render goes on for whoever already waits for it, and still stores its result."""
        self._inflight.pop(key, None)

    def render_in_background(self, key: Hashable, render: Callable[[], Awaitable[bytes]]) -> None:
        """Start a render nobody waits for yet (look-ahead), unless cached or under way."""
        if key not in self._entries and key not in self._inflight:
            self._start(key, render)

    def _start(self, key: Hashable, render: Callable[[], Awaitable[bytes]]) -> asyncio.Task[bytes]:
        self.renders += 1
        task = asyncio.ensure_future(self._render_and_store(key, render))
        task.add_done_callback(_retrieve_exception)
        self._inflight[key] = task
        return task

    async def _render_and_store(self, key: Hashable, render: Callable[[], Awaitable[bytes]]) -> bytes:
        try:
            data = await render()
            self.put(key, data)
            return data
        finally:
            if self._inflight.get(key) is asyncio.current_task():  # not a newer render after an abandon
                del self._inflight[key]

    def put(self, key: Hashable, data: bytes) -> None:
        """Keep `data` (ignored if larger than the whole budget or already held), evicting the least recent."""
        if len(data) > self._budget or key in self._entries:
            return
        self._entries[key] = data
        self._bytes += len(data)
        while self._bytes > self._budget:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted)


def _retrieve_exception(task: asyncio.Task[bytes]) -> None:
    """Errors reach every waiter; this only stops asyncio warning when nobody waited."""
    if not task.cancelled():
        task.exception()


def _render_dropped_under(task: asyncio.Task[bytes]) -> bool:
    """The render was cancelled, not the caller awaiting it."""
    current = asyncio.current_task()
    return task.cancelled() and (current is None or current.cancelling() == 0)
