"""The soak benchmark's summary maths: 5xx classification, the RSS trend, cache budgets."""

from __future__ import annotations

import pytest

from bench.soak import (
    Exchange,
    Sample,
    burst_plan,
    cache_summary,
    classify,
    least_squares_slope,
    memory_summary,
    player_plans,
    request_kind,
)
from playlists.plan import Plan, plan_id

SEGMENT = "http://127.0.0.1:8000/hls/abc/720p/4.ts"
OTHER = "http://127.0.0.1:8000/hls/abc/720p/5.ts"


def exchange(url: str, status: int, retry_after: bool = False) -> Exchange:
    return Exchange(request_kind("GET", url), url, status, retry_after)


def test_a_503_with_retry_after_whose_retry_succeeded_is_expected():
    result = classify([exchange(SEGMENT, 503, retry_after=True), exchange(SEGMENT, 200)])
    assert (result.expected_503, result.unexpected_5xx) == (1, 0)
    assert result.by_kind == {"segment": {200: 1, 503: 1}}


def test_a_503_never_followed_by_a_success_for_its_url_is_unexpected():
    result = classify([exchange(SEGMENT, 503, retry_after=True), exchange(OTHER, 200), exchange(SEGMENT, 503, True)])
    assert (result.expected_503, result.unexpected_5xx) == (0, 2)


def test_a_success_before_the_503_does_not_excuse_it():
    result = classify([exchange(SEGMENT, 200), exchange(SEGMENT, 503, retry_after=True)])
    assert result.unexpected_5xx == 1


def test_a_503_without_retry_after_and_other_5xx_are_unexpected_even_when_retried():
    result = classify(
        [exchange(SEGMENT, 503), exchange(OTHER, 504, True), exchange(SEGMENT, 200), exchange(OTHER, 200)]
    )
    assert (result.expected_503, result.unexpected_5xx) == (0, 2)
    assert result.unexpected_examples == [f"503 {SEGMENT}", f"504 {OTHER}"]


def test_requests_are_grouped_by_kind():
    assert request_kind("POST", "http://h/api/plans") == "plan"
    assert request_kind("GET", "http://h/hls/abc/720p/index.m3u8?x=1") == "playlist"
    assert request_kind("GET", "http://h/hls/abc/fmp4/720p/3.m4s") == "segment"
    assert request_kind("GET", "http://h/health") == "health"
    assert request_kind("GET", "http://h/api/plans/abc") == "other"


def test_the_least_squares_slope_of_a_line_is_its_gradient_and_of_noise_about_zero():
    assert least_squares_slope([(x, 3 * x + 1) for x in range(10)]) == pytest.approx(3.0)
    assert least_squares_slope([(0, 5), (1, 7), (2, 5), (3, 7)]) == pytest.approx(0.4)
    assert least_squares_slope([(1, 5)]) == 0.0
    assert least_squares_slope([(1, 5), (1, 9)]) == 0.0


def test_the_memory_trend_is_taken_over_the_second_half_in_mib_per_minute():
    # warm-up: +100 MiB over the first 5 minutes, then +2 MiB per minute
    samples = [Sample(t, 400 + 20 * t / 60 if t < 300 else 500 + 2 * (t - 300) / 60, 0, 0) for t in range(0, 601, 5)]
    memory = memory_summary(samples)
    assert memory["memory_slope_second_half_mib_per_min"] == pytest.approx(2.0)
    assert memory["memory_first_mib"] == 400 and memory["memory_last_mib"] == pytest.approx(510)
    assert memory["memory_max_mib"] == pytest.approx(510)


def test_memory_without_samples_is_an_error_not_a_zero():
    with pytest.raises(ValueError):
        memory_summary([])


def test_caches_are_compared_with_their_budgets_at_their_largest():
    samples = [Sample(0, 1, 10, 5), Sample(5, 1, 30, 5), Sample(10, 1, 20, 5)]
    caches = cache_summary(samples, segment_budget=25, frame_budget=5)
    assert caches["segment_cache_within_budget"] is False and caches["frame_store_within_budget"] is True


def test_player_plans_and_burst_plans_are_valid_and_all_distinct():
    plans = player_plans(5) + [burst_plan(burst, n) for burst in range(3) for n in range(20)]
    ids = {plan_id(Plan.model_validate(plan)) for plan in plans}
    assert len(ids) == len(plans)
