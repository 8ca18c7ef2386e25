"""GET /metrics: render counters and histogram, cache and queue gauges, rejections, per-route latency."""

from __future__ import annotations

import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from server.app import create_app
from server.config.settings import MIB, Settings
from server.metrics import Metrics
from tests.conftest import running_server

PLAN = {"items": [{"exercise_id": "squat", "work_seconds": 8}], "rounds": 1}
SEGMENT_CACHE_MIB = 64
FRAME_STORE_MIB = 512


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition as {(name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: dict, name: str, **labels: str) -> float:
    return scraped[(name, tuple(sorted(labels.items())))]


@pytest.fixture(scope="module")
def client(new_data_dir, tmp_path_factory):
    settings = Settings(
        data_dir=new_data_dir(),
        frame_store_dir=tmp_path_factory.mktemp("frames"),
        warm_clips=False,
        look_ahead=0,
        segment_cache_mib=SEGMENT_CACHE_MIB,
        frame_store_mib=FRAME_STORE_MIB,
        render_workers=2,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def plan_id(client) -> str:
    return client.post("/api/plans", json=PLAN).json()["id"]


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


def test_a_render_moves_the_render_counter_histogram_and_cache_miss(client, plan_id):
    before = scrape(client)
    assert client.get(f"/hls/{plan_id}/720p/0.ts").status_code == 200
    after = scrape(client)
    labels = {"rendition": "720p", "container": "ts"}
    rendered = value(after, "hls_renders_total", outcome="ok", **labels)
    assert rendered == before.get(("hls_renders_total", tuple(sorted({**labels, "outcome": "ok"}.items()))), 0) + 1
    assert value(after, "hls_render_seconds_count", **labels) == rendered
    assert value(after, "hls_render_seconds_sum", **labels) > 0
    assert value(after, "hls_segment_cache_misses_total") == value(before, "hls_segment_cache_misses_total") + 1


def test_a_second_request_for_a_segment_is_a_cache_hit_not_a_render(client, plan_id):
    assert client.get(f"/hls/{plan_id}/720p/0.ts").status_code == 200
    before = scrape(client)
    assert client.get(f"/hls/{plan_id}/720p/0.ts").status_code == 200
    after = scrape(client)
    assert value(after, "hls_segment_cache_hits_total") == value(before, "hls_segment_cache_hits_total") + 1
    assert value(after, "hls_renders_total", rendition="720p", container="ts", outcome="ok") == value(
        before, "hls_renders_total", rendition="720p", container="ts", outcome="ok"
    )


def test_cache_and_queue_gauges_report_bytes_within_their_budgets(client, plan_id):
    client.get(f"/hls/{plan_id}/720p/0.ts")
    scraped = scrape(client)
    assert value(scraped, "hls_segment_cache_budget_bytes") == SEGMENT_CACHE_MIB * MIB
    assert 0 < value(scraped, "hls_segment_cache_bytes") <= SEGMENT_CACHE_MIB * MIB
    assert value(scraped, "hls_frame_store_budget_bytes") == FRAME_STORE_MIB * MIB
    assert 0 < value(scraped, "hls_frame_store_bytes") <= FRAME_STORE_MIB * MIB
    assert value(scraped, "hls_frame_store_files") >= 1
    assert value(scraped, "hls_render_processes") == 2
    assert value(scraped, "hls_render_workers_replaced_total") == 0
    assert value(scraped, "hls_clip_preparation_pending") == 0  # warming is off: nothing queued
    assert value(scraped, "hls_render_queue_depth", priority="urgent") == 0
    assert value(scraped, "hls_render_queue_depth", priority="ahead") == 0
    assert ("hls_shared_store_failures_total", ()) not in scraped  # no shared tier configured


def test_request_latency_is_labelled_by_route_template_never_by_raw_path(client, plan_id):
    client.get(f"/hls/{plan_id}/720p/0.ts")
    client.get(f"/hls/{plan_id}/master.m3u8")
    client.get("/no/such/path/12345")
    scraped = scrape(client)
    routes = {dict(labels)["route"] for name, labels in scraped if name == "hls_http_request_duration_seconds_count"}
    assert "/hls/{plan_id}/{rendition}/{index}.ts" in routes
    assert "/hls/{plan_id}/master.m3u8" in routes
    assert "unmatched" in routes
    assert not any(plan_id in route or "12345" in route for route in routes)
    segment = {"method": "GET", "route": "/hls/{plan_id}/{rendition}/{index}.ts", "status_class": "2xx"}
    assert value(scraped, "hls_http_request_duration_seconds_count", **segment) >= 1


def test_rejections_are_counted_by_error_code_and_status(client):
    before = scrape(client)
    assert client.post("/api/plans", json={"items": []}).status_code == 422
    assert client.get("/api/plans/00000000000000000000").status_code == 404
    after = scrape(client)

    def moved(reason: str, status: str) -> float:
        key = ("hls_rejections_total", (("reason", reason), ("status", status)))
        return after[key] - before.get(key, 0)

    assert moved("invalid_plan", "422") == 1
    assert moved("not_found", "404") == 1


def test_a_render_that_raises_counts_as_an_error_and_the_error_goes_on():
    metrics = Metrics()
    with pytest.raises(OSError):
        with metrics.render("720p", "ts"):
            raise OSError("clip vanished")
    scraped = samples(metrics.exposition().decode())
    assert value(scraped, "hls_renders_total", rendition="720p", container="ts", outcome="error") == 1
    assert ("hls_render_seconds_count", (("container", "ts"), ("rendition", "720p"))) not in scraped  # no time


def test_an_unreachable_shared_tier_counts_failures_while_segments_are_still_served(tmp_path, sample_clips_dir):
    env = {"HLS_S3_BUCKET": "missing", "HLS_S3_ENDPOINT_URL": "http://127.0.0.1:9", "HLS_S3_REGION": "us-east-1",
           "HLS_LOOK_AHEAD": "0", "HLS_WARM_CLIPS": "0", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    with running_server(tmp_path / "solo", sample_clips_dir, env) as node:
        plan_id = httpx.post(node.url("/api/plans"), json=PLAN, timeout=30).json()["id"]
        response = httpx.get(node.url(f"/hls/{plan_id}/720p/0.ts"), timeout=60)
        deadline = time.monotonic() + 30  # the upload runs after the answer; its failure is counted then
        while (failures := value(samples(httpx.get(node.url("/metrics")).text), "hls_shared_store_failures_total")) < 2:
            assert time.monotonic() < deadline, f"failures stayed at {failures}"
            time.sleep(0.1)
        scraped = samples(httpx.get(node.url("/metrics")).text)
    assert response.status_code == 200 and response.content[0] == 0x47
    assert value(scraped, "hls_renders_total", rendition="720p", container="ts", outcome="ok") == 1
    assert value(scraped, "hls_shared_store_operations_total", result="hits") == 0
