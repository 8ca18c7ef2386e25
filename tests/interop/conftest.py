"""One server for the interoperability suite, each plan run once, and the tables printed at the end."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import add_terminal_summary, running_server, wait_until_warm

from .plans import PLANS
from .suite import SUITE_SERVER_ENV, PlanRun, markdown_report, run_plan, write_report

REPORT_ENV = "HLS_INTEROP_REPORT"
"""Set to a file path to have the suite's markdown report written there (docs/interop.md is one)."""
_RUNS: dict[str, PlanRun] = {}
_STARTED: list[float] = []
_FINISHED: list[float] = []
"""When the last plan run ended: the rest of the test session runs after it and is not the suite's time."""


@pytest.fixture(scope="module")
def interop_server(tmp_path_factory: pytest.TempPathFactory, sample_clips_dir: Path) -> Iterator[str]:
    """A server with room in its segment cache for every segment the suite fetches; module-scoped, so an
    xdist worker lets it go (about 4 GB) as soon as its half of the suite is done."""
    _STARTED.append(time.monotonic())
    with running_server(tmp_path_factory.mktemp("interop"), sample_clips_dir, SUITE_SERVER_ENV) as server:
        wait_until_warm(server)
        yield server.base_url


@pytest.fixture(scope="module")
def plan_runs(interop_server: str):
    """Plan name -> its run (conformance of both containers, then every client), made on first use."""

    def run(name: str) -> PlanRun:
        if name not in _RUNS:
            plan = next(p for p in PLANS if p.name == name)
            _RUNS[name] = run_plan(interop_server, plan, report=lambda line: None)
            _FINISHED[:] = [time.monotonic()]
        return _RUNS[name]

    return run


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The suite's tables, printed at the end of the run. Under pytest-xdist each worker that ran plans
    prints its own (tests/interop/test_interop.py deals the plans to workers)."""
    if not _RUNS:
        return
    runs = [_RUNS[p.name] for p in PLANS if p.name in _RUNS]
    text = markdown_report(runs, _FINISHED[0] - _STARTED[0])
    title = "interoperability suite" + ("" if len(runs) == len(PLANS) else f": {', '.join(r.plan.name for r in runs)}")
    add_terminal_summary(session.config, title, text)
    if os.environ.get(REPORT_ENV):
        if len(runs) == len(PLANS):
            write_report(Path(os.environ[REPORT_ENV]), text)
        else:
            add_terminal_summary(session.config, f"{REPORT_ENV} not written", (
                "this worker ran only some plans: write the report with -n 0, or with "
                "`python -m tests.interop.suite --write docs/interop.md`"
            ))
