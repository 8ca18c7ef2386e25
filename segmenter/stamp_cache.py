"""A least-recently-used cache bounded by the bytes of what it holds, for rasterised overlay text.

Every render process keeps its own overlay stamps (text premultiplied for a
one-pass blend). A stamp of a big countdown digit pair is about 0.3 MB at 720p
and 0.7 MB at 1080p, and a long-running worker meets hundreds of distinct
texts at four sizes: a cache bounded by entry count grew to hundreds of MB per
process. Bounding it by bytes keeps every worker's share of memory fixed;
rasterising a text again costs about 1.3 ms.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, NamedTuple, TypeVar

V = TypeVar("V")


class CacheInfo(NamedTuple):
    """As `functools.lru_cache` reports it, plus the bytes held."""

    hits: int
    misses: int
    maxsize: int
    currsize: int
    nbytes: int


class ByteBoundedCache(Generic[V]):
    """Memoises `make(*key)`; evicts the least recently used entries beyond `budget` bytes."""

    def __init__(self, make: Callable[..., V], size_of: Callable[[V], int], budget: int) -> None:
        self._make, self._size_of, self._budget = make, size_of, budget
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = self._hits = self._misses = 0
        self._lock = threading.Lock()

    def __call__(self, *key: Hashable) -> V:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self._hits += 1
                return entry[0]
            self._misses += 1
        value = self._make(*key)  # outside the lock: two threads may both make it; both results agree
        size = self._size_of(value)
        with self._lock:
            if key not in self._entries:
                self._entries[key] = (value, size)
                self._bytes += size
                while self._bytes > self._budget and len(self._entries) > 1:
                    _, (_, evicted) = self._entries.popitem(last=False)
                    self._bytes -= evicted
        return value

    def cache_info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, self._budget, len(self._entries), self._bytes)

    def cache_clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
