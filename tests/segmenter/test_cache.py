import asyncio

from segmenter.cache import SegmentCache


def run(coroutine):
    return asyncio.run(coroutine)


def test_concurrent_requests_share_one_render():
    async def scenario():
        cache = SegmentCache(1_000)
        calls = 0

        async def render():
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.05)
            return b"x" * 10

        results = await asyncio.gather(*(cache.get_or_render("k", render) for _ in range(20)))
        return calls, results, cache

    calls, results, cache = run(scenario())
    assert calls == 1 and cache.renders == 1
    assert results == [b"x" * 10] * 20


def test_least_recently_used_segments_leave_first_within_the_budget():
    async def scenario():
        cache = SegmentCache(25)

        async def render(value):
            return value * 10

        for key in "abc":
            await cache.get_or_render(key, lambda key=key: render(key.encode()))
        return cache

    cache = run(scenario())
    assert "a" not in cache and "b" in cache and "c" in cache
    assert cache.nbytes == 20


def test_a_failed_render_reaches_every_waiter_and_is_not_cached():
    async def scenario():
        cache = SegmentCache(100)

        async def broken():
            await asyncio.sleep(0.01)
            raise RuntimeError("encoder failed")

        results = await asyncio.gather(*(cache.get_or_render("k", broken) for _ in range(3)), return_exceptions=True)
        return cache, results

    cache, results = run(scenario())
    assert all(isinstance(r, RuntimeError) for r in results)
    assert "k" not in cache


def test_a_cancelled_requester_does_not_cancel_the_render_others_wait_for():
    async def scenario():
        cache = SegmentCache(100)

        async def slow():
            await asyncio.sleep(0.05)
            return b"done"

        first = asyncio.ensure_future(cache.get_or_render("k", slow))
        await asyncio.sleep(0.01)
        second = asyncio.ensure_future(cache.get_or_render("k", slow))
        first.cancel()
        return await second, cache

    data, cache = run(scenario())
    assert data == b"done" and "k" in cache


def test_a_waiter_whose_shared_render_is_dropped_gets_a_fresh_render_not_an_error():
    """A look-ahead render cancelled in the pool (its players gave up) must not fail a player who
    arrived meanwhile: the cache renders again for them."""

    async def scenario():
        cache = SegmentCache(100)
        calls = 0

        async def render():
            nonlocal calls
            calls += 1
            await asyncio.sleep(0.05)
            return b"fresh"

        cache.render_in_background("k", render)
        waiter = asyncio.ensure_future(cache.get_or_render("k", render))
        await asyncio.sleep(0.01)
        cache._inflight["k"].cancel()  # what the pool's cancellation of the queued job does
        return await waiter, calls

    data, calls = run(scenario())
    assert data == b"fresh" and calls == 2


def test_a_cancelled_waiter_is_still_cancelled_when_the_render_goes_on():
    async def scenario():
        cache = SegmentCache(100)

        async def render():
            await asyncio.sleep(0.05)
            return b"x"

        waiter = asyncio.ensure_future(cache.get_or_render("k", render))
        await asyncio.sleep(0.01)
        waiter.cancel()
        try:
            await waiter
        except asyncio.CancelledError:
            return "cancelled", await cache.get_or_render("k", render)
        return "not cancelled", None

    outcome, data = run(scenario())
    assert outcome == "cancelled" and data == b"x"
