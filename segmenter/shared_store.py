"""The shared tier of the segment cache: rendered segments in S3-compatible storage.

A segment rendered by one server node is stored under its content key, so any
other node serves it without rendering it again. Writes are conditional
(`If-None-Match: *`): when two nodes render the same segment at once, one write
wins and the other is a no-op. The store is an optimisation, never a
dependency: when it cannot be reached the node renders locally and counts the
failure.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 2
READ_TIMEOUT_SECONDS = 10
SEGMENT_CONTENT_TYPE = "video/mp2t"
MISSING_CODES = {"NoSuchKey", "404", "NotFound"}
ALREADY_STORED_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


@dataclass(frozen=True)
class S3Settings:
    bucket: str
    prefix: str = "segments/"
    endpoint_url: str | None = None
    region: str | None = None


class SharedSegmentStore:
    """get/put of segment bytes by content key; errors are logged and counted, never raised."""

    def __init__(self, settings: S3Settings) -> None:
        self.settings = settings
        self._client = boto3.client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            config=Config(
                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                read_timeout=READ_TIMEOUT_SECONDS,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.stored = 0
        self.failures = 0

    def _object_key(self, key: str) -> str:
        return f"{self.settings.prefix}{key}.ts"

    def _count(self, counter: str) -> None:
        with self._lock:
            setattr(self, counter, getattr(self, counter) + 1)

    def get(self, key: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self.settings.bucket, Key=self._object_key(key))
            data = response["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in MISSING_CODES:
                self._count("misses")
            else:
                self._failed("read", key, error)
            return None
        except BotoCoreError as error:
            self._failed("read", key, error)
            return None
        self._count("hits")
        return data

    def put(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(
                Bucket=self.settings.bucket,
                Key=self._object_key(key),
                Body=data,
                ContentType=SEGMENT_CONTENT_TYPE,
                IfNoneMatch="*",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ALREADY_STORED_CODES:
                self._failed("write", key, error)
            return
        except BotoCoreError as error:
            self._failed("write", key, error)
            return
        self._count("stored")

    def _failed(self, action: str, key: str, error: Exception) -> None:
        self._count("failures")
        log.warning("shared segment store: %s of %s failed: %s", action, key, error)

    def counters(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "stored": self.stored, "failures": self.failures}
