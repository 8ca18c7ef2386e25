"""The shared tier against an S3-compatible server on loopback (moto's server mode)."""

from __future__ import annotations

import secrets

import boto3
import pytest

from segmenter.shared_store import S3Settings, SharedSegmentStore


@pytest.fixture
def store(s3_endpoint: str) -> SharedSegmentStore:
    bucket = f"segments-{secrets.token_hex(6)}"  # a fresh bucket per test: freed ids come back
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return SharedSegmentStore(S3Settings(bucket, "tier/", s3_endpoint, "us-east-1"))


def test_a_stored_segment_comes_back_byte_for_byte(store):
    assert store.get("abc") is None
    store.put("abc", b"\x47" * 376)
    assert store.get("abc") == b"\x47" * 376
    assert store.counters() == {"hits": 1, "misses": 1, "stored": 1, "failures": 0}


def test_a_second_write_of_the_same_segment_is_a_no_op_not_a_failure(store):
    store.put("abc", b"first")
    store.put("abc", b"second")
    assert store.get("abc") == b"first"
    assert store.counters()["failures"] == 0 and store.counters()["stored"] == 1


def test_an_unreachable_store_is_counted_and_never_raises():
    store = SharedSegmentStore(S3Settings("nowhere", endpoint_url="http://127.0.0.1:9", region="us-east-1"))
    assert store.get("abc") is None
    store.put("abc", b"data")
    assert store.counters()["failures"] == 2
