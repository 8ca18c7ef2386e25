"""Two server processes sharing rendered segments through S3-compatible storage."""

from __future__ import annotations

import time

import boto3
import httpx

from tests.conftest import running_server

PLAN = {"items": [{"exercise_id": "squat", "work_seconds": 8}], "rounds": 1}


def wait_for(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_segment_rendered_by_one_node_is_served_by_another_without_rendering(
    tmp_path, sample_clips_dir, s3_endpoint
):
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket="shared-tier")
    env = {"HLS_S3_BUCKET": "shared-tier", "HLS_S3_ENDPOINT_URL": s3_endpoint, "HLS_S3_REGION": "us-east-1",
           "HLS_LOOK_AHEAD": "0", "HLS_WARM_CLIPS": "0"}
    with running_server(tmp_path / "a", sample_clips_dir, env) as node_a, \
            running_server(tmp_path / "b", sample_clips_dir, env) as node_b:
        for node in (node_a, node_b):  # each node's own plan store; the same plan has the same id
            plan_id = httpx.post(node.url("/api/plans"), json=PLAN, timeout=30).json()["id"]
        path = f"/hls/{plan_id}/720p/0.ts"
        from_a = httpx.get(node_a.url(path), timeout=60)
        assert from_a.status_code == 200
        wait_for(lambda: httpx.get(node_a.url("/health")).json()["shared_store"]["stored"] == 1)
        from_b = httpx.get(node_b.url(path), timeout=60)
        health_b = httpx.get(node_b.url("/health")).json()
    assert from_b.content == from_a.content
    assert from_b.headers["etag"] == from_a.headers["etag"]
    assert health_b["segments_rendered"] == 0
    assert health_b["shared_store"]["hits"] == 1


def test_an_unreachable_shared_tier_still_serves_by_rendering_locally(tmp_path, sample_clips_dir):
    env = {"HLS_S3_BUCKET": "missing", "HLS_S3_ENDPOINT_URL": "http://127.0.0.1:9", "HLS_S3_REGION": "us-east-1",
           "HLS_LOOK_AHEAD": "0", "HLS_WARM_CLIPS": "0", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}
    with running_server(tmp_path / "solo", sample_clips_dir, env) as node:
        plan_id = httpx.post(node.url("/api/plans"), json=PLAN, timeout=30).json()["id"]
        response = httpx.get(node.url(f"/hls/{plan_id}/720p/0.ts"), timeout=60)
        wait_for(lambda: httpx.get(node.url("/health")).json()["shared_store"]["failures"] >= 2)
        health = httpx.get(node.url("/health")).json()
    assert response.status_code == 200 and response.content[0] == 0x47
    assert health["segments_rendered"] == 1
