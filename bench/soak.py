"""Soak: simulated real-time players and bursts of plan creation against `python -m server` for minutes.

Run: python -m bench.soak --minutes 10 --players 30 [--json soak.json] [--clips-dir data/exercises]

What runs, all against one server started as users start it (bench/harness.py, default settings):
- `--players` players (bench/players.py: real-time schedule, three segments ahead, 503 retried after
  Retry-After), their starts spread over `--ramp-seconds`. Player i plays plan (i + s) mod `--plans` in its
  session s, each session `--session-seconds` of media, so viewers keep joining and leaving plans; every
  fifth player watches 360p, the rest 720p. Players on one plan trail each other, so most of their
  segments are cache hits and the plans' leading players keep the renderer busy.
- every `--burst-every` seconds, `--burst-size` concurrent POST /api/plans of plans never seen before.
- every `--sample-every` seconds, the unreclaimable memory of the server's process tree (Pss_Anon + Pss_Shmem) and its caches' bytes (from /health).

It prints requests by kind and status, unexpected 5xx, missed player deadlines, memory first/last/max and
the least-squares memory slope over the second half (MiB/min; flat memory is near 0), and cache bytes against
their budgets; `--json` writes every number.

Expected and unexpected 5xx: a 503 with Retry-After is the server asking a player to come back (overload);
it counts as expected only when a later request for the same URL succeeded, i.e. the player's retry worked,
as an hls.js player's would. Every other 5xx (500, 504, a 503 without Retry-After or never followed by a
success) is unexpected. Requests that fail without an answer (timeouts, resets) are counted apart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from assets.library import ensure_sample_library
from bench.harness import RunningServer, running_server
from bench.players import PlayerResult, play

EXERCISES = ["squat", "jumping_jack", "push_up", "lunge", "plank", "burpee"]
SMALL_RENDITION_EVERY = 5
"""Every fifth player watches 360p; the rest 720p."""
MIN_SESSION_SECONDS = 10.0
"""A player does not start a session shorter than this near the end of the soak."""
REQUEST_TIMEOUT_SECONDS = 120.0
DRAIN_SECONDS = 30.0
"""After the soak's end, how long sessions under way may take to finish before they are cut off
(an overloaded server would otherwise stretch the run without bound)."""
MIB = 1024 * 1024


# the summary maths (pure; tests/bench/test_soak.py) ------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One answered request, in the order answers arrived."""

    kind: str
    url: str
    status: int
    retry_after: bool


@dataclass(frozen=True)
class Classification:
    by_kind: dict[str, dict[int, int]]
    expected_503: int
    unexpected_5xx: int
    unexpected_examples: list[str]


def request_kind(method: str, url: str) -> str:
    path = urlsplit(url).path
    if method == "POST" and path == "/api/plans":
        return "plan"
    if path.endswith(".m3u8"):
        return "playlist"
    if path.endswith((".ts", ".m4s", ".mp4")):
        return "segment"
    if path == "/health":
        return "health"
    return "other"


def classify(exchanges: Sequence[Exchange], examples: int = 10) -> Classification:
    """Count answers by kind and status, and split 5xx into expected (a 503 with Retry-After whose URL a
    later request fetched successfully) and unexpected (every other 5xx)."""
    by_kind: dict[str, Counter[int]] = {}
    succeeded_later: set[str] = set()
    retried_ok = [False] * len(exchanges)
    for position in range(len(exchanges) - 1, -1, -1):  # backwards: which URLs succeed after this answer
        exchange = exchanges[position]
        retried_ok[position] = exchange.url in succeeded_later
        if 200 <= exchange.status < 400:
            succeeded_later.add(exchange.url)
    expected = unexpected = 0
    shown: list[str] = []
    for exchange, ok_later in zip(exchanges, retried_ok):
        by_kind.setdefault(exchange.kind, Counter())[exchange.status] += 1
        if exchange.status < 500:
            continue
        if exchange.status == 503 and exchange.retry_after and ok_later:
            expected += 1
        else:
            unexpected += 1
            if len(shown) < examples:
                shown.append(f"{exchange.status} {exchange.url}")
    return Classification(
        {kind: dict(sorted(counts.items())) for kind, counts in sorted(by_kind.items())}, expected, unexpected, shown
    )


def least_squares_slope(points: Sequence[tuple[float, float]]) -> float:
    """The slope of the least-squares line through (x, y) points (0 with fewer than two distinct x)."""
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


@dataclass(frozen=True)
class Sample:
    seconds: float
    """Since the soak started."""
    memory_mib: float
    segment_cache_bytes: int
    frame_store_bytes: int


def memory_summary(samples: Sequence[Sample]) -> dict[str, float]:
    """Memory first, last and max, and its trend over the second half in MiB per minute (the first half
    holds the warm-up: caches filling up to their budgets)."""
    if not samples:
        raise ValueError("no memory samples")
    middle = (samples[0].seconds + samples[-1].seconds) / 2
    second_half = [(s.seconds / 60, s.memory_mib) for s in samples if s.seconds >= middle]
    return {
        "memory_first_mib": samples[0].memory_mib,
        "memory_last_mib": samples[-1].memory_mib,
        "memory_max_mib": max(s.memory_mib for s in samples),
        "memory_slope_second_half_mib_per_min": least_squares_slope(second_half),
    }


def cache_summary(samples: Sequence[Sample], segment_budget: int, frame_budget: int) -> dict[str, float | bool]:
    segment_max = max((s.segment_cache_bytes for s in samples), default=0)
    frame_max = max((s.frame_store_bytes for s in samples), default=0)
    return {
        "segment_cache_max_mib": segment_max / MIB,
        "segment_cache_budget_mib": segment_budget / MIB,
        "segment_cache_within_budget": segment_max <= segment_budget,
        "frame_store_max_mib": frame_max / MIB,
        "frame_store_budget_mib": frame_budget / MIB,
        "frame_store_within_budget": frame_max <= frame_budget,
    }


# the load ------------------------------------------------------------------------------------------


def player_plans(count: int) -> list[dict]:
    """Long workouts (over an hour) that share no segment: each has its own exercise order and rest."""
    plans = []
    for n in range(count):
        order = EXERCISES[n % len(EXERCISES) :] + EXERCISES[: n % len(EXERCISES)]
        items = [{"exercise_id": e, "work_seconds": 40, "rest_seconds": 15 + n} for e in order]
        plans.append({"items": items, "rounds": 12, "rest_between_rounds_seconds": 30})
    return plans


def burst_plan(burst: int, index: int) -> dict:
    """A plan never posted before (its rest between rounds is unique to the burst and index)."""
    exercise = EXERCISES[(burst + index) % len(EXERCISES)]
    return {
        "items": [{"exercise_id": exercise, "work_seconds": 20 + index % 40, "rest_seconds": 10}],
        "rounds": 2,
        "rest_between_rounds_seconds": 1 + burst * 100 + index,
    }


@dataclass
class Tally:
    exchanges: list[Exchange] = field(default_factory=list)
    transport_errors: Counter[str] = field(default_factory=Counter)
    players: list[PlayerResult] = field(default_factory=list)
    sessions: int = 0
    sessions_cut_off: int = 0
    samples: list[Sample] = field(default_factory=list)

    async def on_response(self, response: httpx.Response) -> None:
        request = response.request
        self.exchanges.append(
            Exchange(
                request_kind(request.method, str(request.url)),
                str(request.url),
                response.status_code,
                "retry-after" in response.headers,
            )
        )


async def player(
    client: httpx.AsyncClient, base: str, plans: list[dict], number: int, start: float, end: float, args, tally: Tally
) -> None:
    await asyncio.sleep(max(0.0, start - time.monotonic()))
    rendition = "360p" if number % SMALL_RENDITION_EVERY == SMALL_RENDITION_EVERY - 1 else "720p"
    session = 0
    while (remaining := end - time.monotonic()) >= MIN_SESSION_SECONDS:
        plan = plans[(number + session) % len(plans)]
        media_seconds = min(args.session_seconds, remaining)
        result = PlayerResult()
        tally.players.append(result)  # before playing: a session cut off at the end keeps its counts
        await play(client, base, plan, media_seconds, 0.0, rendition, result)
        tally.sessions += 1
        session += 1


async def bursts(client: httpx.AsyncClient, base: str, end: float, args, tally: Tally) -> None:
    burst = 0
    while time.monotonic() + args.burst_every < end:
        await asyncio.sleep(args.burst_every)
        answers = await asyncio.gather(
            *(client.post(base + "/api/plans", json=burst_plan(burst, n)) for n in range(args.burst_size)),
            return_exceptions=True,
        )
        for answer in answers:
            if isinstance(answer, BaseException):
                tally.transport_errors[f"plan: {type(answer).__name__}"] += 1
        burst += 1


async def sampler(
    client: httpx.AsyncClient, server: RunningServer, began: float, end: float, every: float, tally: Tally
) -> dict:
    """Samples memory every `every` seconds until the end, with the caches' bytes from /health (the last
    known ones when /health does not answer within `every`); returns the last /health body (budgets)."""
    health: dict = {}
    while True:
        due = time.monotonic() + every
        try:
            health = (await client.get(server.base + "/health", timeout=every)).json()
        except httpx.HTTPError as error:  # counted, and the soak goes on: a slow /health is a finding
            tally.transport_errors[f"health: {type(error).__name__}"] += 1
        if health:
            tally.samples.append(
                Sample(
                    time.monotonic() - began,
                    server.memory_mib(),
                    int(health["segment_cache"]["bytes"]),
                    int(health["frame_store"]["bytes"]),
                )
            )
        if due > end:
            return health
        await asyncio.sleep(max(0.0, due - time.monotonic()))


async def soak(server: RunningServer, args) -> dict:
    tally = Tally()
    plans = player_plans(args.plans)
    limits = httpx.Limits(max_connections=args.players + args.burst_size + 10)
    async with httpx.AsyncClient(
        limits=limits, timeout=REQUEST_TIMEOUT_SECONDS, event_hooks={"response": [tally.on_response]}
    ) as client:
        began = time.monotonic()
        end = began + args.minutes * 60
        step = args.ramp_seconds / max(1, args.players)
        players = [
            asyncio.ensure_future(player(client, server.base, plans, n, began + n * step, end, args, tally))
            for n in range(args.players)
        ]
        health, _ = await asyncio.gather(
            sampler(client, server, began, end, args.sample_every, tally),
            bursts(client, server.base, end, args, tally),
        )
        _, late = await asyncio.wait(players, timeout=max(0.0, end + DRAIN_SECONDS - time.monotonic()))
        for task in late:
            task.cancel()
            tally.sessions_cut_off += 1
        await asyncio.gather(*players, return_exceptions=True)
        if not health:
            raise RuntimeError("the server never answered /health during the soak")
        for task in players:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()
    classification = classify(tally.exchanges)
    played = tally.players
    return {
        "settings": {
            "minutes": args.minutes,
            "players": args.players,
            "plans": args.plans,
            "session_seconds": args.session_seconds,
            "burst_size": args.burst_size,
            "burst_every": args.burst_every,
            "server_env": args.server_env,
        },
        "requests": asdict(classification),
        "transport_errors": dict(tally.transport_errors),
        "player_errors": [error for result in played for error in result.errors],
        "sessions": tally.sessions,
        "sessions_cut_off": tally.sessions_cut_off,
        "segments_played": sum(r.segments for r in played),
        "startup_median_seconds": _median([r.startup for r in played if r.startup]),
        "missed_deadlines": sum(r.missed for r in played),
        "worst_lateness_seconds": max((r.worst_lateness for r in played), default=0.0),
        "retries": sum(r.retries for r in played),
        "memory": memory_summary(tally.samples),
        "caches": cache_summary(tally.samples, health["segment_cache"]["budget"], health["frame_store"]["budget"]),
        "health_at_end": health,
        "samples": [asdict(s) for s in tally.samples],
    }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def report(result: dict) -> str:
    requests, memory, caches = result["requests"], result["memory"], result["caches"]
    settings = result["settings"]
    lines = [
        f"soak: {settings['minutes']:g} min, {settings['players']} players, "
        f"{result['sessions']} sessions ({result['sessions_cut_off']} cut off {DRAIN_SECONDS:g} s after the end), "
        f"{result['segments_played']} segments played"
    ]
    for kind, counts in requests["by_kind"].items():
        lines.append(f"  {kind:9} " + ", ".join(f"{status}: {count}" for status, count in counts.items()))
    lines.append(f"  unexpected 5xx: {requests['unexpected_5xx']} (expected 503 retried: {requests['expected_503']})")
    lines += [f"    {example}" for example in requests["unexpected_examples"]]
    if result["transport_errors"] or result["player_errors"]:
        errors = len(result["player_errors"])
        lines.append(f"  without an answer: {result['transport_errors']}; player errors: {errors}")
        lines += [f"    {error}" for error in result["player_errors"][:10]]
    lines.append(
        f"  missed deadlines: {result['missed_deadlines']} (worst {result['worst_lateness_seconds']:.2f} s late), "
        f"503 retries: {result['retries']}, startup median {result['startup_median_seconds']} s"
    )
    lines.append(
        f"  unreclaimable MiB (process tree) first {memory['memory_first_mib']:.0f}, last {memory['memory_last_mib']:.0f}, "
        f"max {memory['memory_max_mib']:.0f}; "
        f"second-half slope {memory['memory_slope_second_half_mib_per_min']:+.2f} MiB/min"
    )
    lines.append(
        f"  segment cache max {caches['segment_cache_max_mib']:.0f} / {caches['segment_cache_budget_mib']:.0f} MiB, "
        f"frame store (disk) max {caches['frame_store_max_mib']:.0f} / {caches['frame_store_budget_mib']:.0f} MiB"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--players", type=int, default=30)
    parser.add_argument("--plans", type=int, default=5, help="distinct plans the players share")
    parser.add_argument("--session-seconds", type=float, default=150.0, help="media per player session")
    parser.add_argument("--ramp-seconds", type=float, default=30.0)
    parser.add_argument("--burst-size", type=int, default=20)
    parser.add_argument("--burst-every", type=float, default=30.0)
    parser.add_argument("--sample-every", type=float, default=5.0)
    parser.add_argument("--clips-dir", type=Path, help="an existing sample library (default: generate one)")
    parser.add_argument("--json", type=Path, help="write every number here")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="a server setting (repeatable)"
    )
    parser.add_argument("--prepare-timeout", type=float, default=600.0, help="seconds to wait for clip warming")
    args = parser.parse_args(argv)
    server_env = dict(setting.split("=", 1) for setting in args.server_env)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        workdir = Path(tmp)
        clips_dir = args.clips_dir or workdir / "exercises"
        ensure_sample_library(clips_dir)
        with running_server(workdir / "server", clips_dir, server_env, args.prepare_timeout) as server:
            print(f"soak: {args.players} players for {args.minutes:g} min against {server.base} ...", flush=True)
            result = asyncio.run(soak(server, args))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    print(report(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
