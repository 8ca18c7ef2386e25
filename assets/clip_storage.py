"""Where uploaded exercise clips live: a local directory, or an S3-compatible bucket.

The renderer decodes clips with PyAV, which wants a local file, so both stores
answer `local_path`; the S3 store downloads a clip once into a local cache and
reuses it. Keys are meant to carry the clip's content version (e.g.
"clips/squat/<sha256>.mp4"), so new bytes arrive under a new key and a cached
copy is never stale; the cache does not ask the bucket again. Within one
process, `put` and `delete` also drop the cached copy. Browsers fetch clips through short-lived
download URLs: HMAC-signed for the local store (verified by the server that
serves them), presigned by S3 for the bucket.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote

import boto3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

MAX_KEY_LENGTH = 1024
"""S3's own limit on object keys; the local store keeps the same rule so keys move between stores."""

S3_MAX_URL_LIFETIME_SECONDS = 7 * 24 * 3600
"""SigV4 presigned URLs cannot live longer than seven days."""

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 30
MISSING_OBJECT_CODES = {"NoSuchKey", "404", "NotFound"}
PARTIAL_PREFIX = "."
PARTIAL_SUFFIX = ".part"


class ClipStorageError(RuntimeError):
    """The store could not be reached or failed; the cause is chained."""


class ClipNotFound(LookupError):
    """No clip is stored under that key."""


class InvalidClipKey(ValueError):
    """A key that is empty, absolute, or would leave the store's root (".." and the like)."""


class ClipStorage(Protocol):
    def put(self, key: str, source: Path) -> None:
        """Store the file `source` under `key`, replacing what was there."""
        ...

    def local_path(self, key: str) -> Path:
        """A readable local file holding the clip; raises ClipNotFound."""
        ...

    def delete(self, key: str) -> None:
        """Remove the clip; a missing clip is not an error."""
        ...

    def exists(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raises ClipStorageError unless the storage can be reached (readiness)."""
        ...

    def download_url(self, key: str, lifetime_seconds: int) -> str:
        """A URL a browser can GET the clip from until `lifetime_seconds` have passed."""
        ...


def check_key(key: str) -> str:
    """`key` if it is a relative path of plain names separated by "/", else InvalidClipKey."""
    if not key or len(key) > MAX_KEY_LENGTH or "\\" in key or "\0" in key:
        raise InvalidClipKey(f"invalid clip key {key!r}")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise InvalidClipKey(f"invalid clip key {key!r}: it must be a relative path without '.' or '..'")
    return key


def _check_lifetime(lifetime_seconds: int, maximum: int | None = None) -> None:
    if lifetime_seconds <= 0 or (maximum is not None and lifetime_seconds > maximum):
        raise ValueError(f"download URL lifetime {lifetime_seconds} s is out of range")


def _write_atomically(destination: Path, source: BinaryIO) -> None:
    """Copy `source` to `destination` through a temporary file in the same directory, so readers see
    either no file or the whole file, never a partial one."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=PARTIAL_PREFIX, suffix=PARTIAL_SUFFIX, dir=destination.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            shutil.copyfileobj(source, file)
        os.replace(name, destination)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


class LocalClipStorage:
    """Clips as files under `root`; download URLs carry an HMAC of key and expiry that `verify` checks."""

    def __init__(self, root: Path, url_base: str, signing_key: bytes) -> None:
        if not signing_key:
            raise ValueError("a signing key is required")
        self.root = root
        self.url_base = url_base.rstrip("/")
        self._signing_key = signing_key

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, source: Path) -> None:
        destination = self._path(key)
        with open(source, "rb") as file:
            try:
                _write_atomically(destination, file)
            except OSError as error:
                raise ClipStorageError(f"cannot store clip {key} in {self.root}: {error}") from error

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise ClipNotFound(key)
        return path

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as error:
            raise ClipStorageError(f"cannot delete clip {key} from {self.root}: {error}") from error

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def check(self) -> None:
        if not self.root.is_dir():
            raise ClipStorageError(f"clip directory {self.root} does not exist")

    def _signature(self, key: str, expires: int) -> str:
        return hmac.new(self._signing_key, f"{key}|{expires}".encode(), hashlib.sha256).hexdigest()

    def download_url(self, key: str, lifetime_seconds: int) -> str:
        check_key(key)
        _check_lifetime(lifetime_seconds)
        expires = int(time.time()) + lifetime_seconds
        return f"{self.url_base}/clips/{quote(key)}?expires={expires}&signature={self._signature(key, expires)}"

    def verify(self, key: str, expires: int, signature: str, now: float | None = None) -> bool:
        """Whether a download URL's signature is ours for this key and has not expired (constant-time compare)."""
        if (time.time() if now is None else now) > expires:
            return False
        return hmac.compare_digest(self._signature(key, expires).encode(), signature.encode())


class S3ClipStorage:
    """Clips as objects under `prefix` in `bucket`; credentials come from the environment (boto3's chain)."""

    def __init__(self, bucket: str, prefix: str, cache_dir: Path, endpoint_url: str | None, region: str | None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.cache_dir = cache_dir
        self._client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                signature_version="s3v4",
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                read_timeout=READ_TIMEOUT_SECONDS,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )
        self._locks_guard = threading.Lock()
        self._download_locks: dict[str, threading.Lock] = {}

    def _object_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _cache_path(self, key: str) -> Path:
        return self.cache_dir / check_key(key)

    def _download_lock(self, key: str) -> threading.Lock:
        """One lock per key, so threads asking for the same clip at once download it once."""
        with self._locks_guard:
            return self._download_locks.setdefault(key, threading.Lock())

    def _forget_cached(self, key: str) -> None:
        try:
            self._cache_path(key).unlink(missing_ok=True)
        except OSError as error:
            raise ClipStorageError(f"cannot drop cached clip {key}: {error}") from error

    def put(self, key: str, source: Path) -> None:
        object_key = self._object_key(key)
        with open(source, "rb") as file:
            try:
                self._client.upload_fileobj(file, self.bucket, object_key)
            except (Boto3Error, BotoCoreError, ClientError) as error:
                raise ClipStorageError(f"cannot store clip {key} in s3://{self.bucket}: {error}") from error
        self._forget_cached(key)

    def local_path(self, key: str) -> Path:
        path = self._cache_path(key)
        object_key = self._object_key(key)
        with self._download_lock(key):
            if path.is_file():
                return path
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=object_key)
                with response["Body"] as body:
                    _write_atomically(path, body)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES:
                    raise ClipNotFound(key) from error
                raise ClipStorageError(f"cannot fetch clip {key} from s3://{self.bucket}: {error}") from error
            except (BotoCoreError, OSError) as error:
                raise ClipStorageError(f"cannot fetch clip {key} from s3://{self.bucket}: {error}") from error
        return path

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self._object_key(key))
        except (BotoCoreError, ClientError) as error:
            raise ClipStorageError(f"cannot delete clip {key} from s3://{self.bucket}: {error}") from error
        self._forget_cached(key)

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._object_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES:
                return False
            raise ClipStorageError(f"cannot look up clip {key} in s3://{self.bucket}: {error}") from error
        except BotoCoreError as error:
            raise ClipStorageError(f"cannot look up clip {key} in s3://{self.bucket}: {error}") from error
        return True

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            raise ClipStorageError(f"cannot reach s3://{self.bucket}: {error}") from error

    def download_url(self, key: str, lifetime_seconds: int) -> str:
        _check_lifetime(lifetime_seconds, S3_MAX_URL_LIFETIME_SECONDS)
        params = {"Bucket": self.bucket, "Key": self._object_key(key)}
        try:
            return self._client.generate_presigned_url("get_object", Params=params, ExpiresIn=lifetime_seconds)
        except BotoCoreError as error:
            raise ClipStorageError(f"cannot sign a download URL for clip {key}: {error}") from error
