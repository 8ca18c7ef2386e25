"""The producer thread that draws frames ahead of the encoder."""

from __future__ import annotations

import threading
import time

import pytest

from segmenter.prefetch import prefetched


def test_items_arrive_in_order_and_complete():
    assert list(prefetched(iter(range(100)), depth=3)) == list(range(100))


def test_a_producer_error_is_raised_in_the_consumer_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError("clip unreadable")

    seen = []
    with pytest.raises(ValueError, match="clip unreadable"):
        for item in prefetched(items(), depth=2):
            seen.append(item)
    assert seen == [1, 2]


def test_the_producer_runs_at_most_depth_items_ahead():
    produced = []

    def items():
        for n in range(50):
            produced.append(n)
            yield n

    stream = prefetched(items(), depth=3)
    assert next(stream) == 0
    time.sleep(0.1)
    # one handed out, three queued, one drawn and waiting for a free slot
    assert len(produced) <= 1 + 3 + 1
    stream.close()


def test_a_consumer_that_stops_early_stops_the_producer_thread():
    before = threading.active_count()
    stream = prefetched(iter(range(10_000)), depth=2)
    next(stream)
    stream.close()
    assert threading.active_count() == before
