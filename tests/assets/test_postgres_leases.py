"""Render leases as PostgreSQL advisory locks, against the real server at 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from assets.postgres_leases import CALL_TIMEOUT_SECONDS, PostgresRenderLeases, lease_number
from segmenter.cluster_flight import LeaseUnavailable
from tests.assets.repository_backends import scratch_postgres_database

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TAKEOVER_LIMIT_SECONDS = 5
"""A killed holder's session ends when its socket closes: the lease is free long before this."""

HOLDER = """
import sys, time
from assets.postgres_leases import PostgresRenderLeases
leases = PostgresRenderLeases(sys.argv[1], max_connections=2)
assert leases.try_acquire(sys.argv[2]) is not None
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module")
def dsn() -> Iterator[str]:
    with scratch_postgres_database() as url:
        yield url


@pytest.fixture
def node(dsn: str) -> Iterator[PostgresRenderLeases]:
    leases = PostgresRenderLeases(dsn, max_connections=4)
    yield leases
    leases.close()


@pytest.fixture
def other_node(dsn: str) -> Iterator[PostgresRenderLeases]:
    leases = PostgresRenderLeases(dsn, max_connections=4)
    yield leases
    leases.close()


def test_a_held_lease_is_refused_to_another_node_until_released(node, other_node):
    lease = node.try_acquire("segment-a")
    assert lease is not None
    assert other_node.try_acquire("segment-a") is None
    lease.release()
    again = other_node.try_acquire("segment-a")
    assert again is not None
    again.release()


def test_leases_on_different_segments_do_not_wait_for_each_other(node, other_node):
    first, second = node.try_acquire("segment-a"), other_node.try_acquire("segment-b")
    assert first is not None and second is not None
    first.release()
    second.release()


def test_a_lease_number_is_a_stable_signed_32_bit_hash_of_the_key():
    assert lease_number("abc") == lease_number("abc")
    assert lease_number("abc") != lease_number("abd")
    assert all(-(2**31) <= lease_number(key) < 2**31 for key in ("", "abc", "x" * 500))


def test_a_holder_killed_mid_render_frees_its_lease_at_once(dsn, other_node):
    """What a node lost to SIGKILL (or the OOM killer) does to a lease: its socket closes, PostgreSQL
    ends its session, and the next node to ask gets the lease."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, dsn, "segment-k"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": REPO},
    )
    try:
        assert holder.stdout.readline().strip() == b"held"
        assert other_node.try_acquire("segment-k") is None
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        killed = time.monotonic()
        while (lease := other_node.try_acquire("segment-k")) is None:
            assert time.monotonic() - killed < TAKEOVER_LIMIT_SECONDS, "the killed holder's lease was never freed"
            time.sleep(0.05)
        lease.release()
    finally:
        holder.kill()
        holder.wait()


def test_an_unreachable_database_is_lease_unavailable_not_a_hang():
    leases = PostgresRenderLeases("postgresql://postgres@127.0.0.1:9/postgres", max_connections=1)
    started = time.monotonic()
    with pytest.raises(LeaseUnavailable):
        leases.try_acquire("segment")
    assert time.monotonic() - started <= CALL_TIMEOUT_SECONDS + 1
    leases.close()
