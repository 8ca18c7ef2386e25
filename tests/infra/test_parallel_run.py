"""The default run is parallel (pytest-xdist, `--dist loadgroup`): tests that share one expensive server
(the interoperability suite's halves, the `live_server` users) are grouped onto one worker each."""

from __future__ import annotations

import os

import pytest


@pytest.mark.xdist_group("grouping-probe")
def test_xdist_groups_reach_the_scheduler(request: pytest.FixtureRequest) -> None:
    """Guards the pytest pin in pyproject.toml: with pytest 9.2 and pytest-xdist 3.8 the group suffix never
    reaches the node id, and every group is silently scattered over the workers (pytest-xdist issue 1386)."""
    if not os.environ.get("PYTEST_XDIST_WORKER") or not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not running under pytest-xdist with --dist loadgroup")
    assert request.node.nodeid.endswith("@grouping-probe"), request.node.nodeid
