"""Issue 4's seven figures, each beside its anchor measured in the same run.

Run: ./scripts/bench  (installs nginx, wrk and a font for the ffmpeg anchor, then runs this)
or:  python bench/run.py [--json out.json] [--seek-anchor] [--player-seconds 48]

1. time to first segment   POST /api/plans -> last byte of segment 0 (new plan, 720p)
                           anchor: the seed design's one ffmpeg command until segment 0 is complete
2. throughput              every segment of a 10-minute plan; anchor: the same ffmpeg command to its end
3. pipeline efficiency     segment render time / bare libx264 encode of the same frames, same settings
4. seek                    cold request for the segment at minute 30 of a 45-minute plan
5. cache hits              100 concurrent wrk clients on ~1 MB segments; anchor: nginx, same files
6. concurrency             simulated real-time players on distinct plans; 200 players on one plan
7. memory                  peak unreclaimable memory of the server and its render processes through (6)

This machine is shared and noisy: compare each figure with its anchor, not
with last week's absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import av
import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assets.catalogue import Catalogue, load_catalogue
from assets.library import ensure_sample_library
from bench.anchor import build_command, run_anchor
from bench.harness import RunningServer, running_server
from bench.http_load import nginx_serving, run_wrk
from bench.players import crowd, segment_starts
from playlists.media import OUTPUT_FPS
from playlists.plan import Plan
from playlists.presentation import Presentation, build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from playlists.timeline import BlockKind
from segmenter.frame_store import FrameStore
from segmenter.render import render_segment
from segmenter.spec import SegmentSpec, build_segment_spec, clip_ref_of
from segmenter.video import configure_video_stream, video_frames

RENDITION = DEFAULT_RENDITIONS[0]  # 720p
EXERCISES = ["squat", "jumping_jack", "push_up", "lunge", "plank", "burpee"]


def workout(rounds: int, work: int = 40, rest: int = 10, first_work: int | None = None, **extra) -> dict:
    items = [{"exercise_id": e, "work_seconds": work, "rest_seconds": rest} for e in EXERCISES]
    if first_work is not None:
        items[0]["work_seconds"] = first_work
    return {"items": items, "rounds": rounds, "rest_between_rounds_seconds": rest, **extra}


FORTY_FIVE_MINUTES = workout(rounds=9)
SEEK_AT_SECONDS = 30 * 60
HITS_RENDITION = "540p"
"""4 s segments at 540p (1.8 Mbit/s with audio) weigh about 0.9 MB: the issue's 1 MB segments."""
SECTIONS = ("efficiency", "throughput", "latency", "hits", "players")


def presentation_of(plan: dict) -> Presentation:
    return build_presentation(Plan.model_validate(plan), DEFAULT_RENDITIONS)


def specs_of(presentation: Presentation, catalogue: Catalogue) -> list[SegmentSpec]:
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    return [build_segment_spec(presentation, RENDITION, n, clips) for n in range(len(presentation.segments))]


def median(values: list[float]) -> float:
    return statistics.median(values)


# 3. pipeline efficiency -----------------------------------------------------------------------


def bare_encode_seconds(frames: list[av.VideoFrame]) -> float:
    """The encoder's limit: libx264 alone, same settings, frames already in memory, no audio or mux."""
    container = av.open(io.BytesIO(), "w", format="h264")
    stream = container.add_stream("libx264", rate=OUTPUT_FPS)
    configure_video_stream(stream, RENDITION, OUTPUT_FPS)
    started = time.perf_counter()
    for frame in frames:
        stream.encode(frame)
    stream.encode(None)
    elapsed = time.perf_counter() - started
    container.close()
    return elapsed


def efficiency(presentation: Presentation, catalogue: Catalogue, repeat: int) -> dict:
    specs = specs_of(presentation, catalogue)
    library = FrameStore(4 << 30)
    out = {}
    for kind in (BlockKind.INTRO, BlockKind.WORK, BlockKind.REST):
        # the intro is segment 0 (3 s); for work and rest, a whole 4 s segment of one block
        spec = next(s for s in specs if s.runs[0].kind is kind and (kind is BlockKind.INTRO or len(s.runs) == 1))
        render_segment(spec, library)  # clip prepared, caches warm
        frames = list(video_frames(spec, library))
        renders, bares = [], []
        for _ in range(repeat):  # interleaved, so drift hits both alike
            started = time.perf_counter()
            render_segment(spec, library)
            renders.append(time.perf_counter() - started)
            bares.append(bare_encode_seconds(frames))
        out[kind.value] = {
            "frames": spec.frames,
            "render": median(renders),
            "bare_encode": median(bares),
            "ratio": median([r / b for r, b in zip(renders, bares, strict=True)]),
        }
    return out


# 2. throughput ---------------------------------------------------------------------------------


def render_all(specs: list[SegmentSpec], library: FrameStore, workers: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        sizes = list(pool.map(lambda spec: len(render_segment(spec, library)), specs))
    assert all(sizes)
    return time.perf_counter() - started


def throughput(presentation: Presentation, catalogue: Catalogue, workers: int) -> dict:
    specs = specs_of(presentation, catalogue)
    cold = render_all(specs, FrameStore(4 << 30), workers)  # includes decoding every clip once
    warm_library = FrameStore(4 << 30)
    for spec in specs[:: max(1, len(specs) // 12)]:
        render_segment(spec, warm_library)
    warm = render_all(specs, warm_library, workers)
    return {"media_seconds": float(presentation.timeline.duration), "segments": len(specs), "cold": cold, "warm": warm}


def anchor_runs(presentation: Presentation, catalogue: Catalogue, workdir: Path, first_segment_repeats: int) -> dict:
    full = run_anchor(build_command(presentation, catalogue, RENDITION, workdir / "anchor-full"))
    firsts = [full.first_segment]
    for n in range(first_segment_repeats - 1):
        command = build_command(presentation, catalogue, RENDITION, workdir / f"anchor-first-{n}")
        firsts.append(run_anchor(command, until_segment=0).first_segment)
    return {"total": full.total, "first_segment": median(firsts), "first_segment_runs": firsts}


# 1. and 4. latency through the server ---------------------------------------------------------


def first_segment_latency(server: RunningServer, repeat: int) -> list[float]:
    latencies = []
    with httpx.Client(timeout=120) as client:
        for attempt in range(repeat):
            server.wait_until_idle()  # the previous plan's look-ahead must not be ahead of us
            plan = workout(rounds=2, first_work=41 + attempt)  # a new plan: nothing can come from a cache
            started = time.perf_counter()
            created = client.post(server.base + "/api/plans", json=plan).json()
            client.get(created["playlist_url"]).raise_for_status()
            media_url = created["media_playlist_urls"][RENDITION.name]
            first_uri = segment_starts(client.get(media_url).text)[0][0]
            client.get(media_url.rsplit("/", 1)[0] + "/" + first_uri).raise_for_status()
            latencies.append(time.perf_counter() - started)
    return latencies


def seek_latency(server: RunningServer, repeat: int) -> list[float]:
    latencies = []
    with httpx.Client(timeout=120) as client:
        for attempt in range(repeat):
            server.wait_until_idle()
            created = client.post(server.base + "/api/plans", json=workout(rounds=9, first_work=41 + attempt)).json()
            media_url = created["media_playlist_urls"][RENDITION.name]
            segments = segment_starts(client.get(media_url).text)
            uri = next(uri for uri, start in reversed(segments) if start <= SEEK_AT_SECONDS)
            started = time.perf_counter()
            client.get(media_url.rsplit("/", 1)[0] + "/" + uri).raise_for_status()
            latencies.append(time.perf_counter() - started)
    return latencies


# 5. cache hits ---------------------------------------------------------------------------------


def cache_hits(server: RunningServer, workdir: Path, seconds: int, think_ms: list[int]) -> dict:
    plan = {
        "items": [
            {"exercise_id": "burpee", "work_seconds": 36, "rest_seconds": 0},
            {"exercise_id": "jumping_jack", "work_seconds": 36, "rest_seconds": 0},
        ],
        "rounds": 1,
        "intensity": "high",
    }
    root = workdir / "nginx-root"
    paths = []
    with httpx.Client(timeout=120) as client:
        created = client.post(server.base + "/api/plans", json=plan).json()
        media_url = created["media_playlist_urls"][HITS_RENDITION]
        prefix = media_url.rsplit("/", 1)[0] + "/"
        for uri, _ in segment_starts(client.get(media_url).text):
            body = client.get(prefix + uri).content
            if len(body) >= 800_000:  # the 4 s segments, about 0.9 MB each at 540p
                path = httpx.URL(prefix + uri).path
                (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
                (root / path.lstrip("/")).write_bytes(body)
                paths.append(path)
    sizes = [(root / p.lstrip("/")).stat().st_size for p in paths]
    results = {"segments": len(paths), "mean_bytes": statistics.mean(sizes)}
    with nginx_serving(root) as nginx:
        for name, base in (("server", server.base), ("nginx", nginx)):
            run_wrk(base, paths, connections=100, seconds=2)  # warm-up
            results[name] = {
                "saturated": asdict(run_wrk(base, paths, connections=100, seconds=seconds)),
                "paced": {
                    str(think): asdict(run_wrk(base, paths, connections=100, seconds=seconds, think_ms=think))
                    for think in think_ms
                },
            }
    return results


# 6. and 7. players -----------------------------------------------------------------------------


def distinct_plans(count: int, trial: int) -> list[dict]:
    """Plans no two of which share a segment (their lengths differ, so their progress bars do)."""
    plans = []
    for n in range(count):
        rotation = (n + trial) % len(EXERCISES)
        order = EXERCISES[rotation:] + EXERCISES[:rotation]
        items = [{"exercise_id": e, "work_seconds": 40 + (n % 7), "rest_seconds": 15} for e in order[:3]]
        plans.append({"items": items, "rounds": 2, "rest_between_rounds_seconds": 10 + trial * 200 + n})
    return plans


def concurrency(server: RunningServer, player_seconds: float, start: int, step: int, ceiling: int) -> dict:
    trials = []
    best = 0
    count = start
    trial = 0
    while 0 < count <= ceiling:
        server.wait_until_idle()
        result = asyncio.run(crowd(server.base, distinct_plans(count, trial), player_seconds, ramp_seconds=8))
        trial += 1
        ok = result.missed == 0 and not result.errors
        trials.append(asdict(result) | {"ok": ok, "memory_mib": server.memory_mib()})
        print(
            f"  {count} players: missed {result.missed}, worst lateness {result.worst_lateness:.2f} s, "
            f"retries {result.retries}, startup median {result.startup_median:.2f} s",
            flush=True,
        )
        if ok:
            best = max(best, count)
            if count < start:
                break
            count += step
        else:
            if count <= start and best == 0:
                count -= step // 2 or 1
                continue
            break
    return {"largest_without_a_miss": best, "trials": trials}


def one_plan_crowd(server: RunningServer, players: int, ramp_seconds: float) -> dict:
    plan = {
        "items": [
            {"exercise_id": "squat", "work_seconds": 20, "rest_seconds": 10},
            {"exercise_id": "burpee", "work_seconds": 20, "rest_seconds": 10},
        ],
        "rounds": 1,
    }
    server.wait_until_idle()
    segments = len(presentation_of(plan).segments)
    before = server.renders()
    result = asyncio.run(crowd(server.base, [plan] * players, media_seconds=10_000, ramp_seconds=ramp_seconds))
    server.wait_until_idle()
    renders = server.renders() - before
    return asdict(result) | {"plan_segments": segments, "renders": renders}


# the table -------------------------------------------------------------------------------------


def table(r: dict) -> str:
    eff, thr, anc = r["efficiency"], r["throughput"], r["anchor"]
    first = median(r["first_segment"])
    seek = median(r["seek"])
    anchor_rate = thr["media_seconds"] / anc["total"]
    seek_anchor = r.get("seek_anchor_measured") or anc["first_segment"] + SEEK_AT_SECONDS / anchor_rate
    seek_anchor_how = "measured" if r.get("seek_anchor_measured") else "its first segment + 30 min at its rate in (2)"
    hits = r["cache_hits"]
    srv, ngx = hits["server"], hits["nginx"]
    conc, crowd200, mem = r["concurrency"], r["one_plan"], r["memory_peak_mib"]
    rows = [
        (
            "1. time to first segment, new 10-min plan (median)",
            f"{first:.3f} s (max {max(r['first_segment']):.3f})",
            f"{anc['first_segment']:.3f} s",
            f"{anc['first_segment'] / first:.1f}x sooner",
            "<= 0.35 s, >= 5x",
        ),
        (
            "2. throughput, all segments of a 10-min plan, clips prepared",
            f"{thr['warm']:.1f} s ({thr['media_seconds'] / thr['warm']:.1f}x real time)",
            f"{anc['total']:.1f} s ({anchor_rate:.1f}x)",
            f"{anc['total'] / thr['warm']:.1f}x faster",
            ">= 3x",
        ),
        (
            "2. throughput, same, clips decoded from cold during the run",
            f"{thr['cold']:.1f} s ({thr['media_seconds'] / thr['cold']:.1f}x real time)",
            f"{anc['total']:.1f} s",
            f"{anc['total'] / thr['cold']:.1f}x faster",
            ">= 3x",
        ),
    ]
    for kind in ("work", "intro", "rest"):
        e = eff[kind]
        rows.append(
            (
                f"3. pipeline efficiency, {kind} segment ({e['frames']} frames)",
                f"{e['render']:.3f} s",
                f"bare x264 {e['bare_encode']:.3f} s",
                f"{e['ratio']:.2f}",
                "<= 1.2" if kind == "work" else "",
            )
        )
    rows += [
        (
            "4. seek: cold segment at minute 30 of a 45-min plan (median)",
            f"{seek:.3f} s (max {max(r['seek']):.3f})",
            f"{seek_anchor:.1f} s ({seek_anchor_how})",
            f"{seek_anchor / seek:.0f}x sooner",
            "<= 0.35 s, >= 5x",
        ),
        (
            f"5. cache hits, 100 clients, {hits['mean_bytes'] / 1e6:.2f} MB segments, saturated: req/s",
            f"{srv['saturated']['requests_per_second']:.0f} ({srv['saturated']['megabytes_per_second']:.0f} MB/s)",
            f"nginx {ngx['saturated']['requests_per_second']:.0f} ({ngx['saturated']['megabytes_per_second']:.0f} MB/s)",
            f"{srv['saturated']['requests_per_second'] / ngx['saturated']['requests_per_second']:.0%} of nginx",
            ">= 40%",
        ),
        (
            "5. cache hits, 100 clients, saturated: p50 / p99 latency",
            f"{srv['saturated']['p50_ms']:.1f} / {srv['saturated']['p99_ms']:.1f} ms",
            f"nginx {ngx['saturated']['p50_ms']:.1f} / {ngx['saturated']['p99_ms']:.1f} ms",
            "",
            "",
        ),
    ]
    for think in r["think_ms"]:
        ours, theirs = srv["paced"][str(think)], ngx["paced"][str(think)]
        rows.append(
            (
                f"5. cache hits, 100 clients each pausing {think} ms between requests: p50 / p99",
                f"{ours['p50_ms']:.1f} / {ours['p99_ms']:.1f} ms ({ours['requests_per_second']:.0f} req/s)",
                f"nginx {theirs['p50_ms']:.1f} / {theirs['p99_ms']:.1f} ms ({theirs['requests_per_second']:.0f} req/s)",
                "",
                "p99 <= 10 ms",
            )
        )
    rows += [
        (
            "6. real-time players on distinct plans, zero missed deadlines",
            f"{conc['largest_without_a_miss']}",
            f"ffmpeg per viewer: {anchor_rate:.1f} (its real-time factor in (2))",
            "",
            ">= 12",
        ),
        (
            f"6. {crowd200['players']} players on one plan: renders / segments",
            f"{crowd200['renders']} / {crowd200['plan_segments']}, missed {crowd200['missed']}",
            "",
            "",
            "each rendered once",
        ),
        ("7. peak unreclaimable memory (process tree) through (6)", f"{mem:.0f} MiB", "", "", "<= 1536 MiB"),
    ]
    lines = ["| figure | this server | anchor | ratio | goal |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write every raw number here")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--plan-rounds", type=int, default=2, help="rounds of the throughput plan (2: 10 minutes)")
    parser.add_argument("--seek-anchor", action="store_true", help="run the anchor to minute 30 (about 7 min)")
    parser.add_argument("--player-seconds", type=float, default=48.0, help="media each simulated player plays")
    parser.add_argument("--players-from", type=int, default=12)
    parser.add_argument("--players-step", type=int, default=4)
    parser.add_argument("--players-max", type=int, default=40)
    parser.add_argument("--crowd", type=int, default=200)
    parser.add_argument("--think-ms", type=int, nargs="+", default=[1000, 200], help="pauses for the paced runs")
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run these sections, keep the rest from --json")
    args = parser.parse_args()
    wanted = set(args.only or SECTIONS)
    results: dict = json.loads(args.json.read_text()) if args.only and args.json and args.json.exists() else {}
    results["think_ms"] = args.think_ms

    def save() -> None:  # after every section, so a failure late in the run keeps the rest
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str))

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        clips_dir = workdir / "exercises"
        ensure_sample_library(clips_dir)
        catalogue = load_catalogue(clips_dir)
        ten = presentation_of(workout(rounds=args.plan_rounds))

        if "efficiency" in wanted:
            print("3. pipeline efficiency ...", flush=True)
            results["efficiency"] = efficiency(ten, catalogue, repeat=max(9, args.repeat))
            save()
        if "throughput" in wanted:
            print("2. throughput: this server's renderer ...", flush=True)
            results["throughput"] = throughput(ten, catalogue, workers=2)
            print("1./2. the ffmpeg anchor on the same plan ...", flush=True)
            results["anchor"] = anchor_runs(ten, catalogue, workdir, first_segment_repeats=3)
            save()
        if args.seek_anchor:
            print("4. the ffmpeg anchor to minute 30 of the 45-minute plan ...", flush=True)
            forty_five = presentation_of(FORTY_FIVE_MINUTES)
            target = next(s.index for s in reversed(forty_five.segments) if s.start_time <= SEEK_AT_SECONDS)
            command = build_command(forty_five, catalogue, RENDITION, workdir / "anchor-seek")
            results["seek_anchor_measured"] = run_anchor(command, until_segment=target).segment_times[target]
            save()

        if wanted & {"latency", "hits"}:
            with running_server(workdir / "server-a", clips_dir) as server:
                if "latency" in wanted:
                    print("1. first segment through the server ...", flush=True)
                    results["first_segment"] = first_segment_latency(server, args.repeat)
                    print("4. seek ...", flush=True)
                    results["seek"] = seek_latency(server, max(3, args.repeat // 2))
                    save()
                if "hits" in wanted:
                    print("5. cache hits (wrk; nginx anchor) ...", flush=True)
                    results["cache_hits"] = cache_hits(server, workdir, args.wrk_seconds, args.think_ms)
                    save()

        if "players" in wanted:
            with running_server(workdir / "server-b", clips_dir) as server:
                print("6. simulated players on distinct plans ...", flush=True)
                results["concurrency"] = concurrency(
                    server, args.player_seconds, args.players_from, args.players_step, args.players_max
                )
                results["memory_peak_mib"] = server.peak_memory_mib()
                save()
                print(f"6. {args.crowd} players on one plan ...", flush=True)
                results["one_plan"] = one_plan_crowd(server, args.crowd, ramp_seconds=20)
                save()

    needed = ("efficiency", "throughput", "anchor", "first_segment", "seek", "cache_hits", "concurrency", "one_plan")
    missing = [name for name in needed if name not in results]
    if missing:
        print(f"not every section has run yet (missing: {', '.join(missing)}); raw numbers: --json")
        return 0
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
