"""Run a producer a few items ahead of its consumer, in a helper thread.

The encoder releases the GIL while it works, and x264 alone leaves part of a
core idle, so drawing frame n+1 while frame n is being encoded hides most of
the drawing time behind the encoder instead of adding to it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterable[T], depth: int) -> Iterator[T]:
    """Yield `items` in order while a helper thread computes up to `depth` ahead.

    An exception in the producer is raised in the consumer at the point it
    happened; a consumer that stops early stops the producer too.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                slots.put(item)
            slots.put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            slots.put(_Failure(error))

    helper = threading.Thread(target=produce, name="prefetch", daemon=True)
    helper.start()
    try:
        while (item := slots.get()) is not _DONE:
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while helper.is_alive():  # unblock a producer waiting on a full queue
            try:
                slots.get_nowait()
            except queue.Empty:
                helper.join(timeout=0.01)
