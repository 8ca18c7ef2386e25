import threading

import pytest

from segmenter.pool import PoolClosed, PoolOverloaded, Priority, RenderPool, WorkerLost


def blocked_pool(**limits):
    """A one-worker pool whose worker is busy until `release` is set."""
    pool = RenderPool(1, **limits)
    release, started = threading.Event(), threading.Event()

    def hold(_) -> bytes:
        started.set()
        release.wait(5)
        return b"held"

    first = pool.submit(hold, Priority.URGENT)
    started.wait(5)
    return pool, release, first


def test_waiting_players_go_before_look_ahead():
    pool, release, _ = blocked_pool(max_urgent_queued=4, max_ahead_queued=4)
    order: list[str] = []
    ahead = pool.submit(lambda _: order.append("ahead") or b"", Priority.AHEAD)
    urgent = pool.submit(lambda _: order.append("urgent") or b"", Priority.URGENT)
    release.set()
    ahead.future.result(5), urgent.future.result(5)
    pool.close()
    assert order == ["urgent", "ahead"]


def test_a_promoted_look_ahead_job_overtakes_other_look_ahead():
    pool, release, _ = blocked_pool(max_urgent_queued=4, max_ahead_queued=4)
    order: list[str] = []
    first = pool.submit(lambda _: order.append("first") or b"", Priority.AHEAD)
    second = pool.submit(lambda _: order.append("second") or b"", Priority.AHEAD)
    pool.promote(second)
    release.set()
    first.future.result(5), second.future.result(5)
    pool.close()
    assert order == ["second", "first"]


def test_too_much_urgent_work_is_refused_and_look_ahead_is_dropped():
    pool, release, _ = blocked_pool(max_urgent_queued=1, max_ahead_queued=1)
    pool.submit(lambda _: b"", Priority.URGENT)
    with pytest.raises(PoolOverloaded):
        pool.submit(lambda _: b"", Priority.URGENT)
    assert pool.submit(lambda _: b"", Priority.AHEAD) is not None
    assert pool.submit(lambda _: b"", Priority.AHEAD) is None
    release.set()
    pool.close()


def test_errors_reach_the_waiter():
    pool = RenderPool(1, max_urgent_queued=2, max_ahead_queued=2)

    def broken(_) -> bytes:
        raise ValueError("bad clip")

    job = pool.submit(broken, Priority.URGENT)
    with pytest.raises(ValueError, match="bad clip"):
        job.future.result(5)
    pool.close()


def test_closing_cancels_queued_work_and_refuses_new_work():
    pool, release, running = blocked_pool(max_urgent_queued=4, max_ahead_queued=4)
    queued = pool.submit(lambda _: b"", Priority.AHEAD)
    release.set()
    pool.close()
    assert running.future.result(5) == b"held"
    assert queued.future.cancelled() or queued.future.result(5) == b""
    with pytest.raises(PoolClosed):
        pool.submit(lambda _: b"", Priority.URGENT)


def test_a_cancelled_queued_job_never_runs_and_frees_its_place():
    pool, release, _ = blocked_pool(max_urgent_queued=1, max_ahead_queued=1)
    ran: list[str] = []
    job = pool.submit(lambda _: ran.append("job") or b"", Priority.URGENT)
    assert pool.cancel(job) and job.future.cancelled()
    replacement = pool.submit(lambda _: ran.append("replacement") or b"", Priority.URGENT)  # the queue has room again
    release.set()
    replacement.future.result(5)
    pool.close()
    assert ran == ["replacement"] and pool.cancelled == 1
    assert not pool.cancel(replacement)  # already ran


def test_look_ahead_waits_on_an_idle_worker_while_a_player_waits_for_a_render():
    pool = RenderPool(2, max_urgent_queued=4, max_ahead_queued=4)
    release, started = threading.Event(), threading.Event()

    def urgent_render(_) -> bytes:
        started.set()
        release.wait(5)
        return b"urgent"

    urgent = pool.submit(urgent_render, Priority.URGENT)
    started.wait(5)
    ahead = pool.submit(lambda _: b"ahead", Priority.AHEAD)
    assert not ahead.future.done()
    threading.Event().wait(0.2)  # the second worker is free, yet must not take it
    assert not ahead.started
    release.set()
    assert urgent.future.result(5) == b"urgent"
    assert ahead.future.result(5) == b"ahead"
    pool.close()


def test_urgent_work_still_uses_every_worker():
    pool = RenderPool(2, max_urgent_queued=4, max_ahead_queued=4)
    both_running = threading.Barrier(2, timeout=5)
    jobs = [pool.submit(lambda _: both_running.wait() and b"" or b"ok", Priority.URGENT) for _ in range(2)]
    assert [job.future.result(5) for job in jobs] == [b"ok", b"ok"]
    pool.close()


class WorkerKilled(BaseException):
    """Stands for whatever ends a thread mid-render without being an ordinary error."""


def test_a_worker_that_dies_mid_render_reports_worker_lost_and_is_replaced():
    pool = RenderPool(1, max_urgent_queued=2, max_ahead_queued=2)

    def dying(_) -> bytes:
        raise WorkerKilled("gone")

    job = pool.submit(dying, Priority.URGENT)
    with pytest.raises(WorkerLost, match="WorkerKilled: gone"):
        job.future.result(5)
    after = pool.submit(lambda _: b"alive", Priority.URGENT)  # the only worker died: a replacement runs this
    assert after.future.result(5) == b"alive"
    assert pool.replaced == 1 and pool.workers == 1
    pool.close()


def test_an_ordinary_render_error_keeps_the_worker():
    pool = RenderPool(1, max_urgent_queued=2, max_ahead_queued=2)
    job = pool.submit(lambda _: 1 / 0, Priority.URGENT)
    with pytest.raises(ZeroDivisionError):
        job.future.result(5)
    assert pool.submit(lambda _: b"ok", Priority.URGENT).future.result(5) == b"ok"
    assert pool.replaced == 0
    pool.close()


def test_a_render_past_its_limit_is_counted_as_overrunning_while_it_holds_its_worker():
    pool, release, running = blocked_pool(max_urgent_queued=2, max_ahead_queued=2)
    assert pool.running() == 1
    assert pool.overrunning(0.0) == 1 and pool.overrunning(3600.0) == 0
    release.set()
    running.future.result(5)
    pool.close()
    assert pool.running() == 0 and pool.overrunning(0.0) == 0


def test_closing_waits_for_a_running_render_only_as_long_as_it_is_told():
    pool, release, running = blocked_pool(max_urgent_queued=2, max_ahead_queued=2)
    assert pool.close(timeout=0.1) is False  # the held render is still running
    release.set()
    assert running.future.result(5) == b"held"


def test_entries_of_promoted_and_cancelled_jobs_do_not_pile_up_while_the_workers_are_busy():
    """Stale heap entries hold their jobs (and a promoted job's rendered bytes): they are dropped even
    when they never reach the front of the queue."""
    from segmenter.pool import STALE_ENTRIES_KEPT

    pool, release, _ = blocked_pool(max_urgent_queued=2, max_ahead_queued=2)
    for _ in range(200):
        pool.cancel(pool.submit(lambda _: b"", Priority.AHEAD))
        ahead = pool.submit(lambda _: b"", Priority.AHEAD)
        pool.promote(ahead)
        pool.cancel(ahead)
    assert pool.heap_size <= STALE_ENTRIES_KEPT + 4
    release.set()
    pool.close()
