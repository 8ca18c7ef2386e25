"""Memory with a real-sized catalogue: 200 clips, players on all four renditions.

    python -m bench.catalogue_memory [--clips 200] [--players 8] [--seconds 120] [--work DIR]

Clips are variations of the samples made with the ffmpeg command line: sizes
from 640x272 to 1920x1080 (and portrait), 25-60 fps, loops of 2 s to 60 s,
H.264 and ProRes 4444 with alpha, plus one 59 s 1080p60 clip (the one that
took the first release to 19 GB). They are generated once into `--work` and
reused.

The server runs as users run it (`python -m server`, default settings, render
processes, warming on). Measured, as a container limit sees it: the peak of
`Pss_Anon + Pss_Shmem` summed over the server and every render process
(`bench.process_memory`), sampled every 0.2 s,
1. while the server starts and prepares the catalogue (until /ready), and
2. while `--players` players fetch every segment of distinct plans, each plan
   on one of the four renditions, round robin, for `--seconds`.
The anchor is the same two phases with the sample library only, in the
same run. Prints a table; the goal is at most 1.5 GiB, whatever the catalogue.
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from assets.catalogue import write_catalogue
from assets.library import ensure_sample_library
from assets.probe import probe_clip
from bench.harness import running_server
from playlists.renditions import DEFAULT_RENDITIONS

GOAL_MIB = 1536
SIZES = [(640, 272), (854, 480), (1280, 720), (720, 1280), (960, 540), (1920, 1080)]
RATES = [25, 30, 50, 60]
LENGTHS = [2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 30, 45, 60]
CATEGORIES = ["legs", "core", "upper_body", "full_body", "cardio"]
LEVELS = ["beginner", "intermediate", "advanced"]
BIG_CLIP = ("big_1080p60", 1920, 1080, 60, 59, False)
LARGE_PIXELS = 1280 * 720
"""Clips above this size are kept short, so generating the catalogue takes minutes, not an hour."""


@dataclass(frozen=True)
class ClipPlan:
    name: str
    width: int
    height: int
    fps: int
    seconds: int
    alpha: bool


def clip_plans(count: int) -> list[ClipPlan]:
    plans = [ClipPlan(*BIG_CLIP)]
    shapes = itertools.cycle(itertools.product(SIZES, RATES))
    lengths = itertools.cycle(LENGTHS)
    for number in range(count - 1):
        (width, height), fps = next(shapes)
        seconds = next(lengths)
        if width * height > LARGE_PIXELS:
            seconds = min(seconds, 6)
        alpha = number % 7 == 3
        if alpha:  # ProRes 4444 is large and slow to write: small and short
            width, height, seconds = 640, 360, min(seconds, 8)
        plans.append(ClipPlan(f"clip_{number:03d}", width, height, fps, seconds, alpha))
    return plans


def generate(plan: ClipPlan, number: int, sources: list[Path], out_dir: Path) -> Path:
    source = sources[number % len(sources)]
    suffix = ".mov" if plan.alpha else ".mp4"
    path = out_dir / f"{plan.name}{suffix}"
    if path.exists():
        return path
    codec = (
        ["-c:v", "prores_ks", "-profile:v", "4444", "-pix_fmt", "yuva444p10le"]
        if plan.alpha
        else ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(plan.fps)]
    )
    partial = path.with_name(path.stem + ".partial" + suffix)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(source), "-t", str(plan.seconds)]
        + ["-vf", f"scale={plan.width}:{plan.height},fps={plan.fps}", "-an", *codec, str(partial)],
        check=True,
    )
    partial.rename(path)
    return path


def build_catalogue(work: Path, count: int) -> Path:
    samples = work / "samples"
    ensure_sample_library(samples)
    sources = sorted(p for p in samples.iterdir() if p.suffix in (".mp4", ".mov"))
    clips_dir = work / f"catalogue-{count}"
    clips_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    started = time.monotonic()
    for number, plan in enumerate(clip_plans(count)):
        path = generate(plan, number, sources, clips_dir)
        info = probe_clip(path)
        entries.append(
            {
                "id": plan.name,
                "name": f"Exercise {number:03d}",
                "category": CATEGORIES[number % len(CATEGORIES)],
                "difficulty": LEVELS[number % len(LEVELS)],
                "jump": number % 3 == 0,
                "clip": path.name,
                "loop_seconds": info.duration_seconds,
                "fps": str(info.fps),
                "frames": info.frames,
                "width": info.width,
                "height": info.height,
                "alpha": info.alpha,
                "codec": info.codec,
            }
        )
    write_catalogue(clips_dir, entries, _sample_music(samples, clips_dir))
    print(f"catalogue of {count} clips ready in {time.monotonic() - started:.0f} s: {clips_dir}")
    return clips_dir


def _sample_music(samples: Path, clips_dir: Path) -> list[dict]:
    import json

    music = json.loads((samples / "catalogue.json").read_text()).get("music", [])
    for track in music:
        target = clips_dir / track["file"]
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(samples / track["file"], target)
    return music


@dataclass
class Phase:
    start_peak_mib: float
    start_seconds: float
    play_peak_mib: float
    segments: int
    renders: int
    disk_mib: float


def player(base: str, plan_id: str, rendition: str, stop: threading.Event, fetched: list[int]) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        playlist = client.get(f"/hls/{plan_id}/{rendition}/index.m3u8").text
        uris = [line for line in playlist.splitlines() if line and not line.startswith("#")]
        for uri in itertools.cycle(uris):
            if stop.is_set():
                return
            if client.get(f"/hls/{plan_id}/{rendition}/{uri}").status_code == 200:
                fetched.append(1)


def run_phase(clips_dir: Path, work: Path, label: str, players: int, seconds: float) -> Phase:
    data_dir = work / f"data-{label}"
    shutil.rmtree(data_dir, ignore_errors=True)
    started = time.monotonic()
    with running_server(data_dir, clips_dir, {"HLS_LOG_LEVEL": "warning"}, prepare_timeout=3600) as server:
        start_seconds = time.monotonic() - started
        start_peak = server.peak_memory_mib()
        server.sampler.reset()
        exercises = httpx.get(server.base + "/api/exercises", timeout=30).json()["exercises"]
        ids = [e["id"] for e in exercises]
        rng = random.Random(7)
        stop, fetched, threads = threading.Event(), [], []
        for number in range(players):
            chosen = rng.sample(ids, min(4, len(ids)))
            plan = {"items": [{"exercise_id": e, "work_seconds": 20, "rest_seconds": 5} for e in chosen], "rounds": 2}
            plan_id = httpx.post(server.base + "/api/plans", json=plan, timeout=30).json()["id"]
            rendition = DEFAULT_RENDITIONS[number % len(DEFAULT_RENDITIONS)].name
            thread = threading.Thread(target=player, args=(server.base, plan_id, rendition, stop, fetched))
            thread.start()
            threads.append(thread)
        time.sleep(seconds)
        stop.set()
        for thread in threads:
            thread.join()
        health = server.health()
        return Phase(
            start_peak,
            start_seconds,
            server.peak_memory_mib(),
            len(fetched),
            int(health["segments_rendered"]),
            health["frame_store"]["bytes"] / (1 << 20),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--players", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-catalogue"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    catalogue = build_catalogue(args.work, args.clips)
    samples = args.work / "samples"
    anchor = run_phase(samples, args.work, "samples", args.players, args.seconds)
    big = run_phase(catalogue, args.work, f"{args.clips}", args.players, args.seconds)
    print()
    print("| catalogue | start: peak MiB | start to ready | playing: peak MiB | segments fetched | renders "
          "| frame store on disk | goal |")
    print("|---|---|---|---|---|---|---|---|")
    for label, phase in (("the sample library (anchor)", anchor), (f"{args.clips} clips", big)):
        print(
            f"| {label} | {phase.start_peak_mib:.0f} | {phase.start_seconds:.0f} s | {phase.play_peak_mib:.0f} "
            f"| {phase.segments} | {phase.renders} | {phase.disk_mib:.0f} MiB | <= {GOAL_MIB} MiB |"
        )
    ratio = big.play_peak_mib / anchor.play_peak_mib if anchor.play_peak_mib else float("nan")
    print(f"\npeak while playing, {args.clips} clips / samples: {ratio:.2f}x "
          f"(unreclaimable memory: Pss_Anon + Pss_Shmem of the server and its render processes)")


if __name__ == "__main__":
    main()
