"""Core scaling of the render engine: the pool of render processes against the ideal.

    python -m bench.scaling [--minutes 10] [--workers 1,2,4,8,16] [--renditions 720p,1080p]

Every segment of a plan (`--minutes` long, clips prepared beforehand) is
rendered through the server's own engine (`segmenter.pool.RenderPool` with one
`segmenter.workers.RenderProcess` per worker, all submitted at once) with W
workers, W from `--workers`. Two anchors are measured in the same run:
- ideal: W independent processes, each rendering its share of the same specs
  in process, no scheduling, no transfer of bytes (what the machine can do);
- threads: the same pool rendering on W threads of one process
  (`HLS_RENDER_PROCESSES=0`, how the first release rendered).
Each is run `--repeat` times, interleaved, and the best kept (the machine is
shared). Prints x real time (media seconds rendered per wall second) for each,
and the pool's efficiency against the ideal (goal: at least 0.8 at 16 workers, on a
16-core machine; on 2 cores, not slower than threads).
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
from concurrent.futures import wait
from pathlib import Path

from assets.catalogue import load_catalogue
from assets.library import ensure_sample_library
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS, Rendition
from segmenter.frame_store import FrameStore
from segmenter.pool import Priority, RenderPool
from segmenter.spec import SegmentSpec, SpecBuilder, clip_ref_of
from segmenter.workers import InProcessRenderer, RenderKind, RenderProcess, StoreSettings, WorkerSettings

BUDGET = 64 << 30
EXERCISES = ["squat", "jumping_jack", "push_up", "lunge", "plank", "burpee"]


def plan_of(minutes: float) -> Plan:
    """Work 40 s, rest 20 s per exercise, cycling through the samples, for `minutes`."""
    count = max(1, round(minutes))
    items = [{"exercise_id": EXERCISES[n % len(EXERCISES)], "work_seconds": 40, "rest_seconds": 20} for n in range(count)]
    return Plan.model_validate({"items": items})


def specs_of(clips_dir: Path, minutes: float, rendition: Rendition) -> tuple[list[SegmentSpec], float]:
    catalogue = load_catalogue(clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    presentation = build_presentation(plan_of(minutes), DEFAULT_RENDITIONS)
    builder = SpecBuilder(presentation, rendition, clips)
    specs = [builder.spec(i) for i in range(builder.segment_count)]
    media_seconds = sum(spec.frames for spec in specs) / specs[0].fps
    return specs, media_seconds


def through_pool(specs: list[SegmentSpec], workers: int, store_dir: Path, processes: bool) -> float:
    """Wall seconds for the pool to render every spec (workers started before the clock starts)."""
    settings = WorkerSettings(StoreSettings(store_dir, BUDGET))
    store = FrameStore(store_dir, BUDGET)

    def make(name: str):
        if not processes:
            return InProcessRenderer(store)
        worker = RenderProcess(settings, name)
        worker.start()
        return worker

    pool = RenderPool(workers, max_urgent_queued=len(specs), max_ahead_queued=1, make_renderer=make)
    while len(pool.worker_pids()) < (workers if processes else 0):
        time.sleep(0.05)
    time.sleep(0.5 if processes else 0.1)
    started = time.perf_counter()
    jobs = [pool.submit(lambda r, s=spec: r.render(RenderKind.SEGMENT, s), Priority.URGENT) for spec in specs]
    wait([job.future for job in jobs])
    elapsed = time.perf_counter() - started
    for job in jobs:
        job.future.result()
    pool.close()
    return elapsed


def _render_share(specs: list[SegmentSpec], store_dir: str, go, done) -> None:
    renderer = InProcessRenderer(FrameStore(Path(store_dir), BUDGET))
    go.wait()  # every process started and imported: the clock measures rendering only
    for spec in specs:
        renderer.render(RenderKind.SEGMENT, spec)
    done.put(time.perf_counter())


def ideal(specs: list[SegmentSpec], workers: int, store_dir: Path) -> float:
    """Wall seconds for `workers` independent processes, each rendering every W-th spec, counted from
    the moment all of them are ready to the moment the last one finishes."""
    context = multiprocessing.get_context("forkserver")
    go, done = context.Event(), context.Queue()
    processes = [
        context.Process(target=_render_share, args=(specs[n::workers], str(store_dir), go, done))
        for n in range(workers)
    ]
    for process in processes:
        process.start()
    time.sleep(3.0)  # imports done (a render process starts in about 1 s)
    started = time.perf_counter()
    go.set()
    finished = max(done.get() for _ in processes)
    for process in processes:
        process.join()
    return finished - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--renditions", default="720p,1080p")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement, interleaved; the best is kept")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "bench-scaling")
    args = parser.parse_args()
    clips_dir = args.work / "samples"
    ensure_sample_library(clips_dir)
    store_dir = args.work / "frames"
    counts = [int(n) for n in args.workers.split(",")]
    rows = []
    for name in args.renditions.split(","):
        rendition = next(r for r in DEFAULT_RENDITIONS if r.name == name)
        specs, media = specs_of(clips_dir, args.minutes, rendition)
        store = FrameStore(store_dir, BUDGET)
        for clip in {run.clip for spec in specs for run in spec.runs if run.clip is not None}:
            store.prepare(clip, rendition)  # clips prepared: the engine, not decoding, is measured
        for workers in counts:
            pool = threads = best = float("inf")
            for _ in range(args.repeat):  # interleaved, best of each: the machine is shared
                pool = min(pool, through_pool(specs, workers, store_dir, processes=True))
                threads = min(threads, through_pool(specs, workers, store_dir, processes=False))
                best = min(best, ideal(specs, workers, store_dir))
            rows.append((name, workers, len(specs), media / pool, media / threads, media / best, best / pool))
            print(f"{name} x{workers}: pool {media / pool:.1f}x, threads {media / threads:.1f}x, ideal {media / best:.1f}x")
    print()
    print(f"{args.minutes:g}-minute plan, every segment, clips prepared; x real time (higher is better)")
    print("| rendition | workers | segments | render processes (pool) | threads (anchor) | ideal (anchor) "
          "| pool / ideal |")
    print("|---|---|---|---|---|---|---|")
    for name, workers, segments, pool, threads, best, efficiency in rows:
        print(f"| {name} | {workers} | {segments} | {pool:.1f} | {threads:.1f} | {best:.1f} | {efficiency:.2f} |")


if __name__ == "__main__":
    main()
