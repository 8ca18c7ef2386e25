"""Per-client token buckets, driven by an injected clock."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from server.errors import RateLimited
from server.middleware.rate_limit import RateLimiter, client_address


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_burst_is_allowed_then_the_next_request_is_refused(clock):
    limiter = RateLimiter(per_minute=30, burst=3, clock=clock)
    for _ in range(3):
        limiter.acquire("a")
    with pytest.raises(RateLimited) as refused:
        limiter.acquire("a")
    assert refused.value.status_code == 429
    assert refused.value.headers() == {"Retry-After": "2"}  # 30/min: a token every 2 s


def test_retry_after_counts_whole_seconds_until_the_next_token(clock):
    limiter = RateLimiter(per_minute=6, burst=1, clock=clock)  # a token every 10 s
    limiter.acquire("a")
    clock.now += 2.5
    with pytest.raises(RateLimited) as refused:
        limiter.acquire("a")
    assert refused.value.retry_after_seconds == 8  # 7.5 s rounded up


def test_tokens_come_back_at_the_configured_rate(clock):
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
    limiter.acquire("a")
    clock.now += 1
    limiter.acquire("a")


def test_clients_have_separate_buckets(clock):
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
    limiter.acquire("a")
    limiter.acquire("b")
    with pytest.raises(RateLimited):
        limiter.acquire("a")


def test_refused_requests_do_not_spend_tokens(clock):
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
    limiter.acquire("a")
    for _ in range(5):
        with pytest.raises(RateLimited):
            limiter.acquire("a")
    clock.now += 1
    limiter.acquire("a")


def test_idle_buckets_are_evicted_once_full_again(clock):
    limiter = RateLimiter(per_minute=60, burst=10, clock=clock)  # full again after 10 s
    for client in range(100):
        limiter.acquire(f"10.0.0.{client}")
    assert len(limiter) == 100
    clock.now += 10
    limiter.acquire("late")
    assert len(limiter) == 1


def test_the_number_of_buckets_never_exceeds_the_cap(clock):
    limiter = RateLimiter(per_minute=1, burst=1, clock=clock, max_clients=50)
    for client in range(500):
        limiter.acquire(f"client-{client}")
    assert len(limiter) == 50


def request_from(peer: str, forwarded: str | None = None) -> Request:
    headers = [] if forwarded is None else [(b"x-forwarded-for", forwarded.encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "client": (peer, 5000)})


def test_the_client_is_the_peer_when_no_proxy_is_trusted():
    assert client_address(request_from("203.0.113.9", "198.51.100.1"), ()) == "203.0.113.9"


def test_a_trusted_proxy_forwards_the_real_client():
    request = request_from("10.0.0.1", "198.51.100.1, 10.0.0.2")
    assert client_address(request, ("10.0.0.1", "10.0.0.2")) == "198.51.100.1"


def test_a_client_cannot_pick_its_bucket_through_an_untrusted_peer():
    assert client_address(request_from("203.0.113.9", "1.2.3.4"), ("10.0.0.1",)) == "203.0.113.9"
