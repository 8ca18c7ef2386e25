"""Measured bit rates of the cellular baseline (App Store rule 9.4: at most 192 kbit/s, container included),
segment by segment, in MPEG-TS and fMP4, with 360p rendered the same way as the anchor.

Run: python bench/baseline_rates.py [--plans one-second-items,speed-0.5-music] [--out DIR]
Renders every interoperability plan (tests/interop/plans.py) with background music added (every AAC frame
sounds: the loudest audio a plan can have) straight through the renderer, no server. Prints one row per
plan and container: the per-segment rate range, the RFC 8216 peak and average measured, what the
multivariant playlist declares, the share of the TS bytes that are container rather than media, and the
render time per second of media (the clips' frames prepared by a first pass; one process, load-sensitive:
compare the rows of one run).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assets.catalogue import load_catalogue
from assets.library import ensure_sample_library
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import CELLULAR_BASELINE, CELLULAR_BASELINE_LIMIT, DEFAULT_RENDITIONS, rendition_named
from playlists.segments import target_duration
from segmenter.frame_store import FrameStore
from segmenter.render import render_segment
from segmenter.spec import Container, MusicRef, SpecBuilder, clip_ref_of
from tests.interop.plans import PLANS
from tests.mediainspect import rfc_peak_and_average

ANCHOR = "360p"
FRAME_STORE_BYTES = 8 << 30


def media_bytes(segment: bytes) -> int:
    """The encoded audio and video inside a TS segment, without any container."""
    with av.open(io.BytesIO(segment), format="mpegts") as container:
        return sum(packet.size for packet in container.demux() if packet.size)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", default=",".join(p.name for p in PLANS))
    parser.add_argument("--out", type=Path, default=Path("data/bench-baseline"), help="clips and frame store")
    args = parser.parse_args()
    clips_dir = args.out / "exercises"
    ensure_sample_library(clips_dir)
    store = FrameStore(args.out / "frames", FRAME_STORE_BYTES)
    catalogue = load_catalogue(clips_dir)
    clips = {e.id: clip_ref_of(e) for e in catalogue.exercises.values()}
    track = catalogue.music["groove"]
    music = MusicRef(track.id, str(track.path), track.version())
    wanted = set(args.plans.split(","))

    print(
        "| plan | rendition | container | segments | per-segment kbit/s (min-max) | measured peak / average "
        "| declared BANDWIDTH / AVERAGE | TS container share | render s per s of media |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    worst = 0.0
    for plan in (p for p in PLANS if p.name in wanted):
        presentation = build_presentation(Plan.model_validate({**plan.body, "music": "groove"}), DEFAULT_RENDITIONS)
        durations = [s.duration for s in presentation.segments]
        target = target_duration(presentation.segments)
        for rendition in (CELLULAR_BASELINE, rendition_named(ANCHOR)):
            for container in (Container.TS, Container.FMP4):
                builder = SpecBuilder(presentation, rendition, clips, music, container=container)
                for index in range(builder.segment_count):  # prepares the clips' frames at this size
                    render_segment(builder.spec(index), store)
                started = time.perf_counter()
                segments = [render_segment(builder.spec(i), store) for i in range(builder.segment_count)]
                render_seconds = (time.perf_counter() - started) / float(sum(durations))
                rates = [len(data) * 8 / float(d) / 1000 for data, d in zip(segments, durations, strict=True)]
                peak, average = rfc_peak_and_average(durations, [len(s) for s in segments], target)
                declared = presentation.declared_bandwidth(rendition, container.value)
                share = ""
                if container == Container.TS:
                    total = sum(len(s) for s in segments)
                    share = f"{1 - sum(media_bytes(s) for s in segments) / total:.0%}"
                if rendition == CELLULAR_BASELINE:
                    worst = max(worst, *rates)
                print(
                    f"| {plan.name} | {rendition.name} | {container.value} | {len(segments)} | "
                    f"{min(rates):.1f}-{max(rates):.1f} | {peak / 1000:.1f} / {average / 1000:.1f} | "
                    f"{declared.peak / 1000:.1f} / {declared.average / 1000:.1f} | {share} | {render_seconds:.3f} |"
                )
    print(f"\nHighest baseline segment: {worst:.1f} kbit/s (limit {CELLULAR_BASELINE_LIMIT / 1000:.0f})")
    return 0 if worst * 1000 <= CELLULAR_BASELINE_LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
