"""Core-issue numbers: segment render time and POST /api/plans -> first segment's last byte.

Run: python bench/first_segment.py [--repeat 5]
Prints a table; anchors (a bare libx264 encode of the same frames) are measured in
the same run, since this machine is shared and absolute times drift.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from assets.catalogue import load_catalogue
from assets.library import ensure_sample_library
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.frames import FrameLibrary
from segmenter.render import render_segment
from segmenter.spec import build_segment_spec, clip_ref_of
from segmenter.video import configure_video_stream, segment_pictures

PLAN = {
    "items": [
        {"exercise_id": "squat", "work_seconds": 40, "rest_seconds": 20},
        {"exercise_id": "lunge", "work_seconds": 40, "rest_seconds": 20},
        {"exercise_id": "burpee", "work_seconds": 40, "rest_seconds": 20},
    ],
    "rounds": 2,
    "intensity": "medium",
}


def bare_encode(pictures: list, rendition) -> float:
    """The anchor: libx264 alone, same settings, same frames, no audio or mux."""
    container = av.open(io.BytesIO(), "w", format="h264")
    stream = container.add_stream("libx264", rate=30)
    configure_video_stream(stream, rendition, 30)
    started = time.perf_counter()
    for n, picture in enumerate(pictures):
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts = n
        frame.time_base = Fraction(1, 30)
        stream.encode(frame)
    stream.encode(None)
    elapsed = time.perf_counter() - started
    container.close()
    return elapsed


def render_times(clips_dir: Path, repeat: int) -> dict[str, float]:
    catalogue = load_catalogue(clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    presentation = build_presentation(Plan.model_validate(PLAN), DEFAULT_RENDITIONS)
    rendition = DEFAULT_RENDITIONS[0]
    spec = build_segment_spec(presentation, rendition, 1, clips)  # a 4 s work segment (squat)
    library = FrameLibrary(4 << 30)
    started = time.perf_counter()
    render_segment(spec, library)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        render_segment(spec, library)
        warm.append(time.perf_counter() - started)
    pictures = list(segment_pictures(spec, library))
    anchor = statistics.median(bare_encode(pictures, rendition) for _ in range(repeat))
    return {"frames": spec.frames, "cold": cold, "warm": statistics.median(warm), "anchor": anchor}


def wait_until_idle(client: httpx.Client, base: str, quiet_seconds: float = 1.0) -> None:
    """Until the server's render count stops moving (look-ahead of the last request done)."""
    last = client.get(base + "/health").json()["segments_rendered"]
    while True:
        time.sleep(quiet_seconds)
        now = client.get(base + "/health").json()["segments_rendered"]
        if now == last:
            return
        last = now


def first_segment_latency(clips_dir: Path, repeat: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        (data / "exercises").symlink_to(clips_dir)
        port = 18_765
        server = subprocess.Popen(
            [sys.executable, "-m", "server", "--port", str(port), "--data-dir", str(data)],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    health = httpx.get(base + "/health", timeout=1).json()
                    if health["clips_prepared"] == health["clips_total"]:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            latencies = []
            with httpx.Client(timeout=60) as client:
                for attempt in range(repeat):
                    wait_until_idle(client, base)  # the previous plan's look-ahead must not queue ahead of us
                    # a new plan whose first segment differs each time: nothing can come from a cache
                    first_item = dict(PLAN["items"][0], work_seconds=41 + attempt)
                    plan = dict(PLAN, items=[first_item, *PLAN["items"][1:]])
                    started = time.perf_counter()
                    created = client.post(base + "/api/plans", json=plan).json()
                    client.get(created["playlist_url"]).raise_for_status()
                    media = client.get(created["media_playlist_urls"]["720p"])
                    lines = media.text.splitlines()
                    first = lines[next(i for i, line in enumerate(lines) if line.startswith("#EXTINF")) + 1]
                    segment = client.get(created["media_playlist_urls"]["720p"].replace("index.m3u8", first))
                    segment.raise_for_status()
                    latencies.append(time.perf_counter() - started)
        finally:
            server.terminate()
            server.wait(timeout=30)
    return {"median": statistics.median(latencies), "max": max(latencies)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clips_dir = Path(tmp) / "exercises"
        ensure_sample_library(clips_dir)
        render = render_times(clips_dir, args.repeat)
        latency = first_segment_latency(clips_dir, args.repeat)
    print(f"| measure (720p, {render['frames']} frames = 4 s, ultrafast) | seconds |")
    print("|---|---|")
    print(f"| render one segment, clip not yet decoded (cold) | {render['cold']:.3f} |")
    print(f"| render one segment, clip frames prepared (median) | {render['warm']:.3f} |")
    print(f"| anchor: bare libx264 encode of the same frames (median) | {render['anchor']:.3f} |")
    print(f"| pipeline efficiency (render / bare encode) | {render['warm'] / render['anchor']:.2f} |")
    print(f"| POST /api/plans -> first segment's last byte, new plan (median) | {latency['median']:.3f} |")
    print(f"| POST /api/plans -> first segment's last byte, new plan (max) | {latency['max']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
