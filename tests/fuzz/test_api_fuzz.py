"""Schemathesis against a running server: every operation of /openapi.json, generated requests, no 5xx.

The server is our own (`running_server`), with its own data directory, an admin token (so the
catalogue writes are exercised too) and no rate limit (so generated bodies reach validation).
Examples per operation are bounded to keep the whole run within a few minutes on this machine.

One pytest test per operation (`test_no_operation_answers_a_server_error[POST /api/plans]`), each a
Hypothesis test over schemathesis' strategy for that operation in every configured generation mode
(positive and negative), plus the operation's explicit examples if the document gains any. The
document is the one the server serves, built in-process at collection (the routes are fixed,
whatever the settings); `test_the_fuzzed_schema_is_the_one_the_server_serves` holds it equal to the
running server's /openapi.json.

Why not schemathesis' pytest integration: `schemathesis.pytest.from_fixture` renames pytest's private
`Node._nodeid`, which pytest 9.2 replaced with a structured node id (every run was an AttributeError),
and `schema.parametrize()` gives all its items one and the same node id under pytest 9.2 (it names
them through `originalname`, from which pytest now builds the id). Plain `pytest.mark.parametrize`
and Hypothesis' `@given` over `operation.as_strategy()` are public API on both sides.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from server.app import create_app
from server.config.settings import Settings
from server.routes.openapi import build_openapi
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
# Hypothesis' explain phase replays a failure with variations: only noise and time against a live server.
PHASES = tuple(phase for phase in Phase if phase is not Phase.explain)

OPENAPI_DOCUMENT = build_openapi(create_app(Settings()).routes)
SCHEMA = schemathesis.openapi.from_dict(OPENAPI_DOCUMENT, config=SchemathesisConfig.from_dict(FUZZ_CONFIG))
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]  # .ok() raises on an invalid operation


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


def test_the_fuzzed_schema_is_the_one_the_server_serves(fuzz_server):
    response = httpx.get(fuzz_server.url("/openapi.json"), timeout=30)
    assert response.status_code == 200
    assert response.json() == OPENAPI_DOCUMENT, "the fuzzed document differs from the served /openapi.json"


def test_every_operation_is_fuzzed():
    documented = {(method.upper(), path) for path, item in OPENAPI_DOCUMENT["paths"].items() for method in item}
    assert {(operation.method.upper(), operation.path) for operation in OPERATIONS} == documented


def fuzzing_strategy(operation) -> st.SearchStrategy:
    """The operation's cases in every generation mode the configuration enables (as schemathesis' fuzzing phase)."""
    modes = SCHEMA.config.generation_for(operation=operation, phase="fuzzing").modes
    return st.one_of([operation.as_strategy(generation_mode=mode) for mode in modes])


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_operation_answers_a_server_error(operation, fuzz_server):
    def call_and_validate(case) -> None:
        case.call_and_validate(
            base_url=fuzz_server.base_url,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            checks=CHECKS,
            timeout=60,
        )

    def run(strategy: st.SearchStrategy, max_examples: int) -> None:
        bounded = settings(
            max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), phases=PHASES
        )
        given(case=strategy)(bounded(call_and_validate))()

    phases = SCHEMA.config.phases_for(operation=operation)
    if phases.examples.enabled:
        for example in operation.get_strategies_from_examples():
            run(example, max_examples=1)
    if phases.fuzzing.enabled:
        run(fuzzing_strategy(operation), max_examples=EXAMPLES_PER_OPERATION)
