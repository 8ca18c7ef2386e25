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

    @property
    def nbytes(self) -> int:
        return self._bytes

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
        task = self._inflight.get(key)
        if task is None:
            task = self._start(key, render)
        else:
            self.hits += 1
        return await asyncio.shield(task)

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
            self._inflight.pop(key, None)

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
