"""Clip storage on a local directory and on an S3-compatible server (moto on loopback): the same
behaviour from both, the S3 store's local cache, and the download URLs each hands out."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import httpx
import pytest

from assets.clip_storage import (
    ClipNotFound,
    ClipStorage,
    ClipStorageError,
    InvalidClipKey,
    LocalClipStorage,
    S3ClipStorage,
)

REGION = "us-east-1"
PREFIX = "media/"
KEY = "clips/squat/0123abcd.mp4"
URL_BASE = "https://clips.example.test"
SIGNING_KEY = b"clip-signing-key-for-tests"
REFUSED_KEYS = [
    "../outside.mp4",
    "/etc/passwd",
    "clips/../../outside.mp4",
    "",
    "clips//squat.mp4",
    "./squat.mp4",
    "clips\\..\\outside.mp4",
    "clips/squat.mp4\0",
]


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3(s3_endpoint: str, s3_credentials: None):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)


@pytest.fixture
def bucket(s3) -> str:
    name = f"clips-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def make_s3_storage(s3_endpoint: str, bucket: str, tmp_path: Path) -> Callable[..., S3ClipStorage]:
    def make(bucket: str = bucket, endpoint_url: str = s3_endpoint) -> S3ClipStorage:
        return S3ClipStorage(bucket, PREFIX, tmp_path / "cache", endpoint_url, REGION)

    return make


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalClipStorage:
    return LocalClipStorage(tmp_path / "root", URL_BASE, SIGNING_KEY)


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest) -> ClipStorage:
    if request.param == "local":
        return request.getfixturevalue("local_storage")
    return request.getfixturevalue("make_s3_storage")()


def clip(tmp_path: Path, name: str, size: int = 300_000) -> tuple[Path, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


def partial_files(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if path.name.endswith(".part")]


def test_a_stored_clip_exists_and_reads_back_byte_for_byte(storage: ClipStorage, tmp_path: Path) -> None:
    source, data = clip(tmp_path, "upload.mp4")
    assert not storage.exists(KEY)
    storage.put(KEY, source)
    assert storage.exists(KEY)
    assert storage.local_path(KEY).read_bytes() == data


def test_put_replaces_the_clip_under_the_same_key(storage: ClipStorage, tmp_path: Path) -> None:
    first, _ = clip(tmp_path, "first.mp4")
    second, second_data = clip(tmp_path, "second.mp4", size=1000)
    storage.put(KEY, first)
    storage.local_path(KEY)  # the S3 store caches the first version here
    storage.put(KEY, second)
    assert storage.local_path(KEY).read_bytes() == second_data


def test_a_deleted_clip_is_gone_and_deleting_again_is_fine(storage: ClipStorage, tmp_path: Path) -> None:
    source, _ = clip(tmp_path, "upload.mp4")
    storage.put(KEY, source)
    storage.local_path(KEY)
    storage.delete(KEY)
    assert not storage.exists(KEY)
    with pytest.raises(ClipNotFound):
        storage.local_path(KEY)
    storage.delete(KEY)


def test_a_clip_never_stored_is_not_found_and_leaves_no_partial_file(storage: ClipStorage, tmp_path: Path) -> None:
    assert not storage.exists("clips/nothing/here.mp4")
    with pytest.raises(ClipNotFound):
        storage.local_path("clips/nothing/here.mp4")
    assert partial_files(tmp_path) == []


@pytest.mark.parametrize("key", REFUSED_KEYS)
def test_keys_that_are_not_plain_relative_paths_are_refused(storage: ClipStorage, tmp_path: Path, key: str) -> None:
    (tmp_path / "in").mkdir()
    source, _ = clip(tmp_path / "in", "upload.mp4")
    for operation in (
        lambda: storage.put(key, source),
        lambda: storage.local_path(key),
        lambda: storage.delete(key),
        lambda: storage.exists(key),
        lambda: storage.download_url(key, 60),
    ):
        with pytest.raises(InvalidClipKey):
            operation()
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["in", "upload.mp4"]


def test_the_local_store_writes_under_its_root_without_leftovers(local_storage: LocalClipStorage, tmp_path: Path):
    source, _ = clip(tmp_path, "upload.mp4")
    local_storage.put(KEY, source)
    assert local_storage.local_path(KEY) == tmp_path / "root" / KEY
    assert [
        path.relative_to(tmp_path / "root").as_posix() for path in (tmp_path / "root").rglob("*") if path.is_file()
    ] == [KEY]


def test_the_s3_store_keeps_objects_under_its_prefix(make_s3_storage, s3, bucket: str, tmp_path: Path) -> None:
    source, data = clip(tmp_path, "upload.mp4")
    make_s3_storage().put(KEY, source)
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == [PREFIX + KEY]
    assert s3.get_object(Bucket=bucket, Key=PREFIX + KEY)["Body"].read() == data


def test_the_s3_cache_is_reused_without_asking_the_bucket_again(make_s3_storage, s3, bucket, tmp_path) -> None:
    storage = make_s3_storage()
    source, data = clip(tmp_path, "upload.mp4")
    storage.put(KEY, source)
    cached = storage.local_path(KEY)
    assert cached == tmp_path / "cache" / KEY
    s3.delete_object(Bucket=bucket, Key=PREFIX + KEY)  # behind the store's back
    assert storage.local_path(KEY) == cached
    assert cached.read_bytes() == data


def test_a_second_store_on_the_same_cache_dir_reuses_the_downloaded_file(make_s3_storage, s3, bucket, tmp_path):
    source, data = clip(tmp_path, "upload.mp4")
    make_s3_storage().put(KEY, source)
    make_s3_storage().local_path(KEY)
    s3.delete_object(Bucket=bucket, Key=PREFIX + KEY)
    assert make_s3_storage().local_path(KEY).read_bytes() == data


def test_concurrent_readers_all_get_the_whole_clip(make_s3_storage, tmp_path: Path) -> None:
    storage = make_s3_storage()
    source, data = clip(tmp_path, "upload.mp4", size=2_000_000)
    storage.put(KEY, source)
    results: list[bytes] = []
    lock = threading.Lock()

    def read() -> None:
        content = storage.local_path(KEY).read_bytes()
        with lock:
            results.append(content)

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [data] * 8
    assert partial_files(tmp_path / "cache") == []


def test_a_missing_bucket_is_a_storage_error_not_a_missing_clip(make_s3_storage, tmp_path: Path) -> None:
    storage = make_s3_storage(bucket=f"absent-{uuid.uuid4().hex[:12]}")
    source, _ = clip(tmp_path, "upload.mp4")
    with pytest.raises(ClipStorageError):
        storage.put(KEY, source)
    with pytest.raises(ClipStorageError):
        storage.local_path(KEY)
    with pytest.raises(ClipStorageError):
        storage.delete(KEY)


def test_an_unreachable_s3_endpoint_raises_a_storage_error_with_its_cause(make_s3_storage, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    storage = make_s3_storage(endpoint_url=f"http://127.0.0.1:{closed_port}")
    source, _ = clip(tmp_path, "upload.mp4", size=1000)
    for operation in (lambda: storage.put(KEY, source), lambda: storage.local_path(KEY)):  # ~1 s of retries each
        with pytest.raises(ClipStorageError) as raised:
            operation()
        assert raised.value.__cause__ is not None


def test_a_presigned_url_downloads_the_clip(make_s3_storage, tmp_path: Path) -> None:
    storage = make_s3_storage()
    source, data = clip(tmp_path, "upload.mp4")
    storage.put(KEY, source)
    response = httpx.get(storage.download_url(KEY, 60))
    assert response.status_code == 200
    assert response.content == data


def test_a_presigned_url_declares_the_requested_lifetime(make_s3_storage) -> None:
    # moto (5.x, server mode) does not enforce presigned-URL expiry, so a GET after the lifetime still
    # answers 200 there; what the URL declares is what real S3 enforces, so that is what is checked.
    before = datetime.now(UTC).replace(microsecond=0)
    query = parse_qs(urlsplit(make_s3_storage().download_url(KEY, 1)).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert query["X-Amz-Expires"] == ["1"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert before <= signed_at <= datetime.now(UTC)


@pytest.mark.parametrize("lifetime", [0, -5, 7 * 24 * 3600 + 1])
def test_a_presigned_url_lifetime_out_of_range_is_refused(make_s3_storage, lifetime: int) -> None:
    with pytest.raises(ValueError):
        make_s3_storage().download_url(KEY, lifetime)


def signed_url_parts(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.scheme + "://" + parts.netloc == URL_BASE
    assert parts.path.startswith("/clips/")
    return unquote(parts.path.removeprefix("/clips/")), int(query["expires"][0]), query["signature"][0]


def test_a_local_download_url_verifies_for_its_key_until_it_expires(local_storage: LocalClipStorage) -> None:
    before = time.time()
    key, expires, signature = signed_url_parts(local_storage.download_url(KEY, 300))
    assert key == KEY
    assert before + 299 <= expires <= time.time() + 300
    assert local_storage.verify(key, expires, signature)
    assert local_storage.verify(key, expires, signature, now=expires)
    assert not local_storage.verify(key, expires, signature, now=expires + 1)


def test_a_local_download_url_with_a_changed_part_does_not_verify(local_storage: LocalClipStorage) -> None:
    key, expires, signature = signed_url_parts(local_storage.download_url(KEY, 300))
    wrong = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert not local_storage.verify(key, expires, wrong)
    assert not local_storage.verify(key, expires, "")
    assert not local_storage.verify(key, expires, "not hex at all ☃")
    assert not local_storage.verify("clips/plank/0123abcd.mp4", expires, signature)
    assert not local_storage.verify(key, expires + 3600, signature)


def test_a_local_download_url_from_another_signing_key_does_not_verify(tmp_path: Path) -> None:
    other = LocalClipStorage(tmp_path, URL_BASE, b"someone else's key")
    key, expires, signature = signed_url_parts(other.download_url(KEY, 300))
    assert not LocalClipStorage(tmp_path, URL_BASE, SIGNING_KEY).verify(key, expires, signature)


def test_local_storage_check_fails_until_its_directory_exists(local_storage: LocalClipStorage) -> None:
    with pytest.raises(ClipStorageError, match="does not exist"):
        local_storage.check()
    local_storage.root.mkdir(parents=True)
    local_storage.check()


def test_s3_storage_check_passes_for_its_bucket_and_fails_for_a_missing_one(make_s3_storage) -> None:
    make_s3_storage().check()
    with pytest.raises(ClipStorageError, match="no-such-bucket"):
        make_s3_storage(bucket="no-such-bucket").check()
