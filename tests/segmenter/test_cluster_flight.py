"""Cluster-wide single flight, two "nodes" in one process: a real shared tier (moto's S3 server) and
an in-memory lock service with the semantics of `RenderLeases` (PostgreSQL's is tested in
tests/assets/test_postgres_leases.py)."""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from segmenter.cluster_flight import ClusterFlight, LeaseUnavailable
from segmenter.shared_store import S3Settings, SharedSegmentStore

RENDER_SECONDS = 0.5


class LockTable:
    """Leases as a set of held keys: what advisory locks shared by every node give."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self.attempts = 0

    def try_acquire(self, key: str) -> _HeldKey | None:
        with self._lock:
            self.attempts += 1
            if key in self._held:
                return None
            self._held.add(key)
        return _HeldKey(self, key)

    def give_back(self, key: str) -> None:
        with self._lock:
            self._held.remove(key)

    def held(self) -> set[str]:
        with self._lock:
            return set(self._held)

    def close(self) -> None:
        pass


class _HeldKey:
    def __init__(self, table: LockTable, key: str) -> None:
        self._table, self._key = table, key

    def release(self) -> None:
        self._table.give_back(self._key)


class Unanswering:
    def __init__(self) -> None:
        self.attempts = 0

    def try_acquire(self, key: str) -> None:
        self.attempts += 1
        raise LeaseUnavailable("connection refused")

    def close(self) -> None:
        pass


class Renders:
    """A render that takes a while and counts its calls, as a node's render workers would."""

    def __init__(self, seconds: float = RENDER_SECONDS) -> None:
        self.seconds = seconds
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self) -> bytes:
        with self._lock:
            self.calls += 1
        time.sleep(self.seconds)
        return b"\x47segment"


@pytest.fixture
def shared(s3_endpoint: str) -> SharedSegmentStore:
    bucket = f"flight-{secrets.token_hex(6)}"  # a fresh bucket per test: freed ids come back
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return SharedSegmentStore(S3Settings(bucket, "tier/", s3_endpoint, "us-east-1"))


def two_nodes(shared: SharedSegmentStore, leases, wait_seconds: float = 10) -> tuple[ClusterFlight, ClusterFlight]:
    return (
        ClusterFlight(shared, leases, wait_seconds, poll_seconds=0.02),
        ClusterFlight(shared, leases, wait_seconds, poll_seconds=0.02),
    )


def produce_at_once(nodes: tuple[ClusterFlight, ...], key: str, renders: Renders) -> list[bytes]:
    with ThreadPoolExecutor(len(nodes)) as pool:
        return list(pool.map(lambda node: node.produce(key, renders), nodes))


def test_a_cold_segment_asked_of_two_nodes_at_once_is_rendered_once(shared):
    leases = LockTable()
    node_a, node_b = two_nodes(shared, leases)
    renders = Renders()
    results = produce_at_once((node_a, node_b), "cold", renders)
    assert results == [b"\x47segment", b"\x47segment"]
    assert renders.calls == 1
    counts = [node_a.counts(), node_b.counts()]
    assert sorted((c.led, c.followed) for c in counts) == [(0, 1), (1, 0)]
    for node in (node_a, node_b):
        node.close()
    assert leases.held() == set()


def test_the_leader_keeps_its_lease_until_the_segment_is_in_the_shared_tier(shared):
    """Released before the upload, a follower taking the lease would find nothing and render again."""
    leases = LockTable()
    node = ClusterFlight(shared, leases, wait_seconds=10)
    stored_while_held = []
    put = shared.put

    def watching_put(key: str, data: bytes) -> None:
        put(key, data)
        stored_while_held.append(key in leases.held())

    shared.put = watching_put
    node.produce("segment", Renders(0))
    node.close()
    assert stored_while_held == [True]
    assert leases.held() == set()


def test_a_segment_in_the_shared_tier_is_served_without_a_lease_or_a_render(shared):
    shared.put("stored", b"from another node")
    leases = LockTable()
    renders = Renders(0)
    node = ClusterFlight(shared, leases, wait_seconds=10)
    assert node.produce("stored", renders) == b"from another node"
    assert renders.calls == 0 and leases.attempts == 0


def test_a_leader_whose_render_fails_gives_the_lease_back_and_a_follower_renders(shared):
    leases = LockTable()
    node_a, node_b = two_nodes(shared, leases)
    started = threading.Event()

    def failing() -> bytes:
        started.set()
        time.sleep(0.2)
        raise RuntimeError("worker lost")

    with ThreadPoolExecutor(1) as pool:
        leader = pool.submit(node_a.produce, "segment", failing)
        started.wait(5)
        renders = Renders(0)
        assert node_b.produce("segment", renders) == b"\x47segment"
        with pytest.raises(RuntimeError):
            leader.result()
    assert renders.calls == 1
    assert node_b.counts().led == 1


def test_a_lease_held_longer_than_the_wait_is_rendered_around(shared):
    """A stuck leader must not make players wait out their whole time limit."""
    leases = LockTable()
    stuck = leases.try_acquire("segment")
    node = ClusterFlight(shared, leases, wait_seconds=0.3, poll_seconds=0.02)
    renders = Renders(0)
    assert node.produce("segment", renders) == b"\x47segment"
    assert renders.calls == 1 and node.counts().waited_out == 1
    stuck.release()


def test_an_unanswering_lock_service_means_rendering_without_a_lease_and_without_asking_again_at_once(shared):
    """A silent database would otherwise cost every cold render its time-out."""
    service = Unanswering()
    node = ClusterFlight(shared, service, wait_seconds=10)
    renders = Renders(0)
    assert node.produce("segment", renders) == b"\x47segment"
    assert node.produce("another", renders) == b"\x47segment"
    node.close()
    assert node.counts().unleased == 2 and service.attempts == 1
    assert shared.get("segment") == b"\x47segment"  # still shared


def test_without_a_lock_service_the_shared_tier_alone_is_used(shared):
    node = ClusterFlight(shared, None, wait_seconds=10)
    renders = Renders(0)
    assert node.produce("segment", renders) == b"\x47segment"
    node.close()
    assert shared.get("segment") == b"\x47segment"
    assert node.counts().led == 0 and renders.calls == 1
