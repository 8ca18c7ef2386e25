"""Schemathesis against a running server: every operation of /openapi.json, generated requests, no 5xx.

The server is our own (`running_server`), with its own data directory, an admin token (so the
catalogue writes are exercised too) and no rate limit (so generated bodies reach validation).
Examples per operation are bounded to keep the whole run within a few minutes on this machine.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from tests.conftest import running_server

ADMIN_TOKEN = "fuzz-admin-token"
EXAMPLES_PER_OPERATION = 50
FUZZ_CONFIG = {
    # The explicit-examples and fuzzing phases; the coverage phase adds hundreds of boundary cases per
    # operation and the stateful phase chains calls, both too slow for a test run on two shared cores.
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
    "generation": {"max-examples": EXAMPLES_PER_OPERATION},
}
CLIP_MEDIA_TYPES = ("video/mp4", "video/quicktime", "video/webm", "video/x-matroska")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@schemathesis.serializer(*CLIP_MEDIA_TYPES)
def clip_bytes(ctx, value) -> bytes:
    """Clip uploads are raw bytes: the generated value as they are, or its text (the server must refuse either)."""
    return value if isinstance(value, bytes) else str(value).encode()


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory, sample_clips_dir):
    env = {
        "HLS_ADMIN_TOKEN": ADMIN_TOKEN,
        "HLS_RATE_LIMIT_PER_MINUTE": "0",
        "HLS_WARM_CLIPS": "0",
        "HLS_ACCESS_LOG": "0",
    }
    with running_server(tmp_path_factory.mktemp("fuzz"), sample_clips_dir, env) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzz_server):
    config = SchemathesisConfig.from_dict(FUZZ_CONFIG)
    return schemathesis.openapi.from_url(fuzz_server.url("/openapi.json"), config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_operation_answers_a_server_error(case, fuzz_server):
    case.call_and_validate(
        base_url=fuzz_server.base_url,
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        checks=CHECKS,
        timeout=60,
    )
