"""The cluster as a user runs it: three `python -m server` nodes sharing PostgreSQL and S3 (moto's
server), Debian's nginx in front (`infra.balancer`), hls.js in Chromium playing through it while
the node that owns the plan is killed with SIGKILL.

The tests share one cluster and run in file order on one xdist worker; the last one kills a node.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import boto3
import httpx
import pytest

from playlists.media import DEFAULT_SEGMENT_SECONDS
from tests.assets.repository_backends import scratch_postgres_database
from tests.clients.browser_page import find_chromium
from tests.clients.hlsjs_client import play_with_hlsjs
from tests.cluster.local import S3_BUCKET, S3_PREFIX, LocalCluster, local_cluster, node_environment

pytestmark = [pytest.mark.clients, pytest.mark.xdist_group("cluster")]

RENDER_WORKERS = 1
"""Per node: three nodes share this machine's cores with Chromium."""
PLAY_TIMEOUT_SECONDS = 90
MAX_BUFFER_SECONDS = 6.0
"""hls.js fetches at most this far ahead of the playhead, so most segments are fetched after the kill."""
KILL_AT_SEGMENT = 2
"""The owner is killed once it has served this segment (index) of the played plan."""
QUIET_SECONDS = 1.0
SETTLE_TIMEOUT_SECONDS = 60.0
MIN_ROUTING_PLANS = 12
ROUTING_PLANS = 48
"""Plans created until every node owns one, at most: the ring is hashed on random ports, so a node's
share can be small (12 plans once left one node without any); with three nodes of even share the chance
that 48 plans miss one is about 1e-8."""


def plan(work_seconds: int, exercise: str = "squat") -> dict:
    return {"items": [{"exercise_id": exercise, "work_seconds": work_seconds, "rest_seconds": 0}], "rounds": 1}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, sample_clips_dir, frame_store_dir, s3_endpoint) -> Iterator[LocalCluster]:
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=S3_BUCKET)
    with scratch_postgres_database() as dsn:
        environment = node_environment(dsn, s3_endpoint, frame_store_dir, RENDER_WORKERS)
        with local_cluster(tmp_path_factory.mktemp("cluster"), sample_clips_dir, environment) as running:
            yield running


def shared_objects(s3_endpoint: str) -> set[str]:
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=S3_BUCKET, Prefix=S3_PREFIX)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def test_a_plan_created_through_one_node_is_served_by_the_others(cluster):
    first, *others = cluster.nodes
    created = httpx.post(first.url("/api/plans"), json=plan(9), timeout=30)
    assert created.status_code == 201
    identifier = created.json()["id"]
    for node in others:
        document = httpx.get(node.url(f"/api/plans/{identifier}"), timeout=30)
        assert document.status_code == 200 and document.json()["plan"] == created.json()["plan"]
        master = httpx.get(node.url(f"/hls/{identifier}/master.m3u8"), timeout=30)
        assert master.status_code == 200 and master.text.startswith("#EXTM3U")


def test_every_request_about_a_plan_goes_to_one_node_and_plans_spread_over_all(cluster):
    owners: dict[str, set[str]] = {}
    created_ids: list[str] = []
    addresses = {node.address for node in cluster.nodes}
    for seconds in range(1, ROUTING_PLANS + 1):
        if seconds > MIN_ROUTING_PLANS and set().union(*owners.values()) == addresses:
            break
        created = httpx.post(cluster.url("/api/plans"), json=plan(seconds, "lunge"), timeout=30).json()
        identifier = created["id"]
        created_ids.append(identifier)
        for path in (
            f"/api/plans/{identifier}",
            f"/api/workouts/{identifier}",
            f"/hls/{identifier}/master.m3u8",
            f"/hls/{identifier}/360p/index.m3u8",
            f"/hls/{identifier}/fmp4/360p/index.m3u8",
            f"/hls/{identifier}/360p/iframes.m3u8",
        ):
            assert httpx.get(cluster.url(path), timeout=30).status_code == 200, path
        for line in cluster.access_log():
            if line.plan == identifier:
                owners.setdefault(identifier, set()).update(line.upstreams)
    assert set(owners) == set(created_ids)  # every plan's requests were seen in the balancer's log
    assert all(len(nodes) == 1 for nodes in owners.values()), owners
    assert set().union(*owners.values()) == addresses


def test_through_the_balancer_playlists_and_segments_keep_what_a_cdn_needs(cluster):
    created = httpx.post(cluster.url("/api/plans"), json=plan(600, "plank"), timeout=30).json()
    assert created["playlist_url"].startswith(cluster.balancer_url + "/hls/")  # URLs name the balancer
    playlist_url = created["media_playlist_urls"]["360p"]
    browser = {"Origin": "https://player.example", "Accept-Encoding": "gzip"}
    playlist = httpx.get(playlist_url, headers=browser, timeout=30)
    assert playlist.status_code == 200 and playlist.headers["content-encoding"] == "gzip"
    assert playlist.headers["cache-control"] == "public, max-age=300"
    assert "accept-encoding" in playlist.headers["vary"].lower()
    assert playlist.headers["access-control-allow-origin"] == "*"
    again = httpx.get(playlist_url, headers={**browser, "If-None-Match": playlist.headers["etag"]}, timeout=30)
    assert again.status_code == 304

    segment_url = playlist_url.replace("index.m3u8", "1.ts")
    segment = httpx.get(segment_url, timeout=60)
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
    assert segment.headers["cache-control"] == "public, max-age=86400"
    assert segment.headers["accept-ranges"] == "bytes"
    part = httpx.get(segment_url, headers={"Range": "bytes=188-375"}, timeout=30)
    assert part.status_code == 206 and part.content == segment.content[188:376]
    head = httpx.head(segment_url, timeout=30)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(segment.content)
    assert httpx.get(segment_url, headers={"If-None-Match": segment.headers["etag"]}, timeout=30).status_code == 304


def longest_stall(timeline: list[dict], duration: float) -> float:
    """The longest wall time the playhead stood still between playback starting and the end."""
    longest, still_since, previous = 0.0, None, None
    for sample in timeline:
        playing = 0 < float(sample["ct"]) < duration - 0.3 and not sample.get("paused")
        if playing and previous is not None and float(sample["ct"]) == float(previous["ct"]):
            still_since = float(previous["t"]) if still_since is None else still_since
            longest = max(longest, float(sample["t"]) - still_since)
        else:
            still_since = None
        previous = sample if playing else None
    return longest


def settle(nodes) -> list[dict]:
    """Every live node's health once nothing renders or uploads any more (look-ahead included)."""
    last, deadline = None, time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while True:
        now = [node.health() for node in nodes]
        counts = [(h["segments_rendered"], h["shared_store"]["stored"], h["renders_running"]) for h in now]
        if counts == last and not any(running for *_, running in counts):
            return now
        assert time.monotonic() < deadline, f"the nodes kept rendering: {counts}"
        last = counts
        time.sleep(QUIET_SECONDS)


@pytest.mark.skipif(find_chromium() is None, reason="needs Chromium")
def test_hlsjs_plays_to_the_end_while_the_node_that_owns_the_plan_is_killed(cluster, s3_endpoint):
    before = dict(zip([node.name for node in cluster.nodes], settle(cluster.nodes)))  # earlier look-ahead done
    objects_before = shared_objects(s3_endpoint)
    created = httpx.post(cluster.url("/api/plans"), json=plan(24, "jumping_jack"), timeout=30).json()
    identifier = created["id"]
    outcome: dict = {}
    player = threading.Thread(
        target=lambda: outcome.update(
            report=play_with_hlsjs(
                created["playlist_url"],
                PLAY_TIMEOUT_SECONDS,
                max_height=360,
                max_buffer_seconds=MAX_BUFFER_SECONDS,
            )
        )
    )
    player.start()

    def owner_after_segment() -> str | None:
        for line in cluster.access_log():
            if line.plan == identifier and line.path.endswith(f"/{KILL_AT_SEGMENT}.ts") and line.status == 200:
                return line.upstreams[-1]
        return None

    owner = cluster.node_at(wait_for(owner_after_segment, PLAY_TIMEOUT_SECONDS, "the plan's segments"))
    owner_before_kill = owner.health()
    assert cluster.kill(owner) == [], "the killed node's render processes outlived it"
    lines_before_kill = len(cluster.access_log())  # a request the owner answered is logged by now
    player.join(PLAY_TIMEOUT_SECONDS + 30)
    report = outcome["report"]

    assert report.ended, (report.finish_reason, report.errors, report.warnings[-5:])
    assert report.stream_errors == []
    assert longest_stall(report.timeline, report.duration) < DEFAULT_SEGMENT_SECONDS, report.timeline
    log = cluster.access_log()
    plan_lines = [line for line in log if line.plan == identifier]
    assert {line.upstreams[-1] for line in log[:lines_before_kill] if line.plan == identifier} == {owner.address}
    after_kill = [line for line in log[lines_before_kill:] if line.plan == identifier]
    assert any(line.path.endswith(".ts") for line in after_kill), "no segment was fetched after the kill"
    assert all(line.status == 200 and line.upstreams[-1] != owner.address for line in after_kill)

    survivors = [node for node in cluster.nodes if node is not owner]
    after = dict(zip([node.name for node in survivors], settle(survivors)))
    new_objects = shared_objects(s3_endpoint) - objects_before
    played = sorted({line.path for line in plan_lines if line.path.endswith(".ts") and line.status == 200})
    for path in played:  # each segment played is in the shared tier (its ETag is its key's start)
        etag = httpx.head(cluster.url(path), timeout=30).headers["etag"].strip('"')
        assert any(key.startswith(S3_PREFIX + etag) for key in new_objects), path

    def rendered(health: dict, node: str) -> int:
        return health["segments_rendered"] - before[node]["segments_rendered"]

    def stored(health: dict, node: str) -> int:
        return health["shared_store"]["stored"] - before[node]["shared_store"]["stored"]

    renders = rendered(owner_before_kill, owner.name) + sum(rendered(after[n], n) for n in after)
    lost = rendered(owner_before_kill, owner.name) - stored(owner_before_kill, owner.name)
    assert renders <= len(new_objects) + lost, (renders, len(new_objects), lost, after)
