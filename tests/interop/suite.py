"""The interoperability suite: every plan, checked rule by rule and played by every client.

One command runs it against a server it starts itself and prints the tables:

    python -m tests.interop.suite                 # or: --url http://127.0.0.1:8000 (a running server)
    python -m tests.interop.suite --write docs/interop.md

CI runs the same suite through pytest (tests/interop/test_interop.py, part of ./scripts/test).
For each plan the conformance checker fetches every playlist and segment of both containers
first (which renders them all), so the clients that follow are served from the segment cache
and are judged on the stream, not on the renderer's speed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .clients import FMP4, SCENARIOS, TS, ClientResult, Stream, client_available
from .conformance import FETCH_TIME_SCOPE, RuleResult, check_presentation, format_table
from .plans import PLANS, InteropPlan

SUITE_SERVER_ENV = {"HLS_SEGMENT_CACHE_MIB": "1024"}
"""Room for every segment of every plan in both containers (about 750 MB), so clients hit the cache. The
access log stays on: its `server.log` (in the run's temporary directory) tells whether a client that
could not download a resource was answered an error."""
CONTAINERS = (TS, FMP4)


@dataclass
class PlanRun:
    plan: InteropPlan
    stream: Stream
    conformance: dict[str, list[RuleResult]] = field(default_factory=dict)
    """Container -> the checker's results."""
    clients: list[ClientResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    """Wall time per stage: "conformance" (both containers at once), "clients"; and of each container's
    check within it ("conformance/ts", "conformance/fmp4")."""


def create_stream(base_url: str, plan: InteropPlan) -> Stream:
    response = httpx.post(f"{base_url}/api/plans", json=plan.body, timeout=30)
    response.raise_for_status()
    document = response.json()
    if document["duration_seconds"] != plan.duration_seconds:
        raise AssertionError(f"{plan.name}: server says {document['duration_seconds']} s, plan {plan.duration_seconds} s")
    return Stream(plan, {TS: document["playlist_url"], FMP4: document["fmp4_playlist_url"]}, document["segment_count"])


def run_plan(base_url: str, plan: InteropPlan, *, report: Callable[[str], None] = print) -> PlanRun:
    run = PlanRun(plan, create_stream(base_url, plan))

    def check(container: str) -> None:
        started = time.monotonic()
        run.conformance[container] = check_presentation(run.stream.urls[container])
        run.seconds[f"conformance/{container}"] = time.monotonic() - started
        failed = [r for r in run.conformance[container] if r.ok is False]
        report(f"{plan.name}/{container}: conformance {'FAIL' if failed else 'pass'} "
               f"({run.seconds[f'conformance/{container}']:.1f} s)")

    # Both containers at once: the server renders one while the checker decodes the other.
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(CONTAINERS), thread_name_prefix="conformance") as pool:
        list(pool.map(check, CONTAINERS))
    run.seconds["conformance"] = time.monotonic() - started
    run.conformance = {container: run.conformance[container] for container in CONTAINERS}  # TS first, always
    started = time.monotonic()
    for scenario in SCENARIOS:
        if not client_available(scenario.binary):
            raise FileNotFoundError(f"{scenario.binary} is not installed (./scripts/test installs it)")
        if not scenario.applies_to(run.stream):
            continue
        # Clients judged on what they decoded, not on timing, take both containers at once.
        workers = len(scenario.containers) if scenario.unpaced else 1
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="client") as pool:
            streams = [run.stream] * len(scenario.containers)
            results = list(pool.map(scenario.run, streams, scenario.containers))
        for container, result in zip(scenario.containers, results, strict=True):
            run.clients.append(result)
            report(f"{plan.name}/{container}: {result.client}: {'pass' if result.ok else 'FAIL'} "
                   f"({result.elapsed:.1f} s) {result.detail}")
    run.seconds["clients"] = time.monotonic() - started
    return run


def run_suite(base_url: str, plans: Sequence[InteropPlan] = PLANS, report: Callable[[str], None] = print) -> list[PlanRun]:
    return [run_plan(base_url, plan, report=report) for plan in plans]


def _rule_lines(runs: Sequence[PlanRun], *, fetch_time: bool) -> list[str]:
    return [
        f"{run.plan.name}/{container} rule {r.rule} ({r.title}) {r.scope}: {r.detail}"
        for run in runs
        for container, results in run.conformance.items()
        for r in results
        if r.ok is False and r.scope.endswith(FETCH_TIME_SCOPE) == fetch_time
    ]


def failures(runs: Sequence[PlanRun]) -> list[str]:
    """Everything that fails the suite: rules and clients. A slow fetch is not one (see `slow_fetches`)."""
    lines = _rule_lines(runs, fetch_time=False)
    for run in runs:
        lines += [f"{run.plan.name}/{c.container} {c.client}: {c.detail}" for c in run.clients if not c.ok]
    return lines


def slow_fetches(runs: Sequence[PlanRun]) -> list[str]:
    """Segments fetched slower than real time (rule 9's fetch-time scope): a number about this shared
    machine's load when a cold render was asked for, reported as pytest reports it, not failed."""
    return _rule_lines(runs, fetch_time=True)


def clients_table(runs: Sequence[PlanRun]) -> str:
    """Markdown: one row per client scenario and container, one column per plan."""
    columns = [run.plan.name for run in runs]
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for run in runs:
        for result in run.clients:
            cell = "pass" if result.ok else "**FAIL**"
            rows.setdefault((result.client, result.container), {})[run.plan.name] = cell
    lines = ["| client | container | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for (client, container), cells in rows.items():
        lines.append(f"| {client} | {container} | " + " | ".join(cells.get(c, "") for c in columns) + " |")
    return "\n".join(lines)


def plans_table(runs: Sequence[PlanRun]) -> str:
    lines = ["| plan | length | what makes it hard | conformance | clients |", "|---|---|---|---|---|"]
    for run in runs:
        lines.append(f"| {run.plan.name} | {run.plan.duration_seconds} s | {run.plan.why} | "
                     f"{run.seconds.get('conformance', 0):.0f} s | {run.seconds.get('clients', 0):.0f} s |")
    return "\n".join(lines)


def conformance_table(runs: Sequence[PlanRun]) -> str:
    return format_table({f"{run.plan.name}/{c}": results for run in runs for c, results in run.conformance.items()})


def markdown_report(runs: Sequence[PlanRun], total_seconds: float) -> str:
    problems = failures(runs)
    parts = [
        (
            f"Suite run: {len(runs)} plans x {len(CONTAINERS)} containers, {total_seconds / 60:.1f} min; "
            f"{'all pass' if not problems else f'{len(problems)} failures'}."
        ),
        "### Plans\n\n" + plans_table(runs),
        "### Conformance (rules of shared/hls-interop.md and items of Apple's HLS Authoring Specification, every rendition)\n\n" + conformance_table(runs),
        "### Clients\n\n" + clients_table(runs),
    ]
    if problems:
        parts.append("### Failures\n\n" + "\n".join(f"- {line}" for line in problems))
    if slow := slow_fetches(runs):
        parts.append("### Slow fetches (reported, not failed)\n\n" + "\n".join(f"- {line}" for line in slow))
    return "\n\n".join(parts) + "\n"


REPORT_BEGINS = "<!-- interop suite report begins: written by python -m tests.interop.suite --write -->"
REPORT_ENDS = "<!-- interop suite report ends -->"


def write_report(path: Path, report: str) -> None:
    """Replace the report between the markers in `path` (the prose around it is kept), or write it alone."""
    block = f"{REPORT_BEGINS}\n{report}{REPORT_ENDS}"
    text = path.read_text() if path.exists() else ""
    if REPORT_BEGINS in text and REPORT_ENDS in text:
        head, rest = text.split(REPORT_BEGINS, 1)
        tail = rest.split(REPORT_ENDS, 1)[1]
        path.write_text(head + block + tail)
    else:
        path.write_text(text + block + "\n")


@contextmanager
def suite_server() -> Iterator[str]:
    """`python -m server` with its own data directory and sample clips, warmed up."""
    from assets.library import ensure_sample_library
    from tests.conftest import running_server, wait_until_warm

    with tempfile.TemporaryDirectory(prefix="interop-") as root:
        clips_dir = Path(root) / "samples"
        ensure_sample_library(clips_dir)
        with running_server(Path(root) / "server", clips_dir, SUITE_SERVER_ENV) as server:
            wait_until_warm(server)
            yield server.base_url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.interop.suite", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server's base URL (default: start one)")
    parser.add_argument("--plan", action="append", help="only these plans (by name; repeatable)")
    parser.add_argument("--write", type=Path, help="also write the markdown report to this file")
    args = parser.parse_args(argv)
    plans = [p for p in PLANS if not args.plan or p.name in args.plan]
    started = time.monotonic()
    with (contextmanager(lambda: iter([args.url]))() if args.url else suite_server()) as base_url:
        runs = run_suite(base_url, plans)
    text = markdown_report(runs, time.monotonic() - started)
    print(text)
    if args.write:
        write_report(args.write, text)
    return 1 if failures(runs) else 0


if __name__ == "__main__":
    sys.exit(main())
