"""Server processes: two sharing segments through S3-compatible storage, and one whose players hang up."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime

import boto3
import httpx

from assets.postgres_leases import APPLICATION_NAME, LEASE_NAMESPACE
from tests.assets.repository_backends import postgres_rows, scratch_postgres_database
from tests.clients._process import descendants_of
from tests.conftest import LiveServer, running_server
from tests.server.test_metrics import samples, value

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


def test_a_queued_render_is_dropped_when_its_only_player_hangs_up(tmp_path, sample_clips_dir):
    """One worker busy with a cold ProRes render; a second segment queues; its player gives up."""
    env = {
        "HLS_RENDER_WORKERS": "1",
        "HLS_LOOK_AHEAD": "0",
        "HLS_WARM_CLIPS": "0",
        "HLS_FRAME_STORE_DIR": str(tmp_path / "cold-frames"),  # not the run's: the clip must be decoded
    }
    with running_server(tmp_path / "solo", sample_clips_dir, env) as node:
        plan = {"items": [{"exercise_id": "plank", "work_seconds": 12}]}
        plan_id = httpx.post(node.url("/api/plans"), json=plan, timeout=30).json()["id"]
        busy = threading.Thread(target=lambda: httpx.get(node.url(f"/hls/{plan_id}/720p/1.ts"), timeout=120))
        busy.start()
        time.sleep(0.5)  # segment 1 is now decoding the clip on the only worker
        try:
            httpx.get(node.url(f"/hls/{plan_id}/720p/2.ts"), timeout=0.5)
        except httpx.TimeoutException:
            pass  # the player hangs up while its segment waits in the queue
        wait_for(lambda: httpx.get(node.url("/health")).json()["renders_cancelled"] == 1)
        busy.join(timeout=120)
        assert httpx.get(node.url("/health")).json()["segments_rendered"] == 1
        again = httpx.get(node.url(f"/hls/{plan_id}/720p/2.ts"), timeout=120)
        health = httpx.get(node.url("/health")).json()
    assert again.status_code == 200
    assert health["segments_rendered"] == 2


def test_a_cold_segment_asked_of_two_nodes_at_once_is_rendered_once_in_the_cluster(
    tmp_path, sample_clips_dir, s3_endpoint
):
    """Two nodes sharing PostgreSQL and the S3 tier: the render lease makes one render, the other node
    waits for it and serves the shared copy.

    The overlap is made certain, not hoped for: node A's render processes are stopped, so A holds the
    lease without finishing; node B is asked only then, and A resumes once B is seen polling the lease.
    """
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket="leased-tier")
    with scratch_postgres_database() as dsn:
        env = {"HLS_S3_BUCKET": "leased-tier", "HLS_S3_ENDPOINT_URL": s3_endpoint, "HLS_S3_REGION": "us-east-1",
               "DATABASE_URL": dsn, "HLS_LOOK_AHEAD": "0", "HLS_WARM_CLIPS": "0",
               # B waits for A's lease at most half of this: room for A's render on a loaded machine
               "HLS_RENDER_TIMEOUT_SECONDS": "120"}
        with running_server(tmp_path / "a", sample_clips_dir, env) as node_a, \
                running_server(tmp_path / "b", sample_clips_dir, env) as node_b:
            plan_id = httpx.post(node_a.url("/api/plans"), json=PLAN, timeout=30).json()["id"]
            for node in (node_a, node_b):  # both know the plan, so their requests overlap
                assert httpx.get(node.url(f"/hls/{plan_id}/720p/index.m3u8"), timeout=30).status_code == 200
            path = f"/hls/{plan_id}/720p/1.ts"
            with ThreadPoolExecutor(2) as pool, render_processes_stopped(node_a):
                from_a = pool.submit(httpx.get, node_a.url(path), timeout=150)
                wait_for(lambda: render_leases_held(dsn) == 1)  # A leads, and cannot finish
                asked_b = postgres_rows(dsn, "SELECT clock_timestamp()")[0][0]
                from_b = pool.submit(httpx.get, node_b.url(path), timeout=150)
                wait_for(lambda: lease_polls_since(dsn, asked_b) >= 1)  # B found the lease taken
            answers = [from_a.result(), from_b.result()]
            healths = [httpx.get(node.url("/health")).json() for node in (node_a, node_b)]
            scraped = [samples(httpx.get(node.url("/metrics")).text) for node in (node_a, node_b)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].content == answers[1].content
    assert [health["segments_rendered"] for health in healths] == [1, 0]
    assert [(h["cluster_renders"]["led"], h["cluster_renders"]["followed"]) for h in healths] == [(1, 0), (0, 1)]
    assert healths[1]["cluster_renders"]["waited_out"] == 0
    assert all(health["cluster_renders"]["leases"] for health in healths)
    assert sum(value(metrics, "hls_cluster_renders_total", outcome="followed") for metrics in scraped) == 1


@contextmanager
def render_processes_stopped(node: LiveServer) -> Iterator[None]:
    """SIGSTOP every process the node started (its render workers), SIGCONT them on the way out: a
    leader that is slow, not dead."""
    stopped = descendants_of(node.process.pid)
    assert stopped, "the node has no render processes"
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


def render_leases_held(dsn: str) -> int:
    """Render leases held now (two-key advisory locks in the render lease namespace)."""
    rows = postgres_rows(
        dsn,
        f"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2 "
        f"AND classid::bigint = {LEASE_NAMESPACE % 2**32}",
    )
    return int(rows[0][0])


def lease_polls_since(dsn: str, since: datetime) -> int:
    """Lease sessions that ran a statement after `since` (a held lease's session runs none: the only
    ones are attempts to take a lease, and the pool's reset after each failed one)."""
    rows = postgres_rows(
        dsn,
        f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{APPLICATION_NAME}' "
        f"AND query_start > '{since.isoformat()}'",
    )
    return int(rows[0][0])
