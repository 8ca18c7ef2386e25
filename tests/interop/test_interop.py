"""The interoperability suite under pytest: every plan, every rule, every client.

`python -m tests.interop.suite` runs the same suite outside pytest; see its docstring.
"""

from __future__ import annotations

import pytest

from .clients import FMP4, SCENARIOS, TS
from .conformance import FETCH_TIME_SCOPE
from .plans import PLANS

pytestmark = [pytest.mark.clients, pytest.mark.interop]

INTEROP_WORKERS = 2
"""Under pytest-xdist the plans are dealt to this many groups, each run by one worker with one server:
every test of a plan lands where its run (`plan_runs`) is kept, and half the suite's real-time playing
overlaps the other half's rendering."""
PLAN_NAMES = [
    pytest.param(plan.name, marks=pytest.mark.xdist_group(f"interop-{index % INTEROP_WORKERS}"))
    for index, plan in enumerate(PLANS)
]


def _failed(results) -> list[str]:
    return [
        f"rule {r.rule} ({r.title}) {r.scope}: {r.detail}"
        for r in results
        if r.ok is False and not r.scope.endswith(FETCH_TIME_SCOPE)
    ]


@pytest.mark.parametrize("container", [TS, FMP4])
@pytest.mark.parametrize("name", PLAN_NAMES)
def test_every_checkable_interop_rule_holds_on_every_rendition(plan_runs, name: str, container: str) -> None:
    """Every rule; a segment fetched slower than real time on this shared machine
    is reported in the table (rule 9's fetch-time scope), not asserted."""
    results = plan_runs(name).conformance[container]
    assert {r.rule for r in results} >= set(range(1, 19)), "a rule of shared/hls-interop.md was not checked"
    assert _failed(results) == []


@pytest.mark.parametrize("name", PLAN_NAMES)
def test_every_client_plays_the_plan_as_promised(plan_runs, name: str) -> None:
    results = plan_runs(name).clients
    assert results, "no client ran"
    failed = [f"{r.client} ({r.container}): {r.detail}" for r in results if not r.ok]
    assert failed == []


def test_every_plan_a_client_scenario_is_limited_to_is_a_plan_of_the_suite() -> None:
    """A misspelt plan name would silently leave a client out of the suite."""
    names = {plan.name for plan in PLANS}
    limited = {name for scenario in SCENARIOS for name in scenario.only_plans or ()}
    assert limited and limited <= names, limited - names
