"""Overlay cost per frame at 720p and 1080p, against the frame copy it rides on and the encoder.

Run: python bench/overlays.py
The overlay for a work frame (countdown, name, round line, progress bar) is
laid out and blended into yuv420p planes; sprites come from the text cache, as
in a real render after the first second.
"""

from __future__ import annotations

import io
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playlists.renditions import DEFAULT_RENDITIONS, Rendition
from playlists.timeline import BlockKind
from segmenter.frames import make_background
from segmenter.overlays import OverlayState, draw, layout
from segmenter.video import configure_video_stream

FRAMES = 300
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def per_frame_ms(work) -> float:
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        for n in range(FRAMES):
            work(n)
        runs.append((time.perf_counter() - started) / FRAMES * 1000)
    return statistics.median(runs)


def encode_ms(width: int, height: int, picture) -> float:
    rendition = Rendition("bench", width, height, 6_000_000, 6_000_000, 128_000, 23, "ultrafast", "4.0")
    container = av.open(io.BytesIO(), "w", format="h264")
    stream = container.add_stream("libx264", rate=30)
    configure_video_stream(stream, rendition, 30)
    started = time.perf_counter()
    for n in range(120):
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        frame.pts, frame.time_base = n, Fraction(1, 30)
        stream.encode(frame)
    stream.encode(None)
    container.close()
    return (time.perf_counter() - started) / 120 * 1000


def main() -> int:
    assert DEFAULT_RENDITIONS
    print(
        "| size | frame copy (ms) | copy + overlay (ms) | overlay alone (ms) | RGB round trip (ms) | encode (ms/frame) |"
    )
    print("|---|---|---|---|---|---|")
    for name, (width, height) in SIZES.items():
        source = make_background(width, height)

        def state(n: int) -> OverlayState:
            return OverlayState(BlockKind.WORK, 40 - n // 30, "Jumping Jack", 2, 3, 4, 6, 5000 + n, 20_000, 30)

        for n in range(FRAMES):  # warm the sprite cache, as the first second of a render does
            draw(source.copy(), layout(state(n), width, height))
        copy = per_frame_ms(lambda n: source.copy())
        overlay = per_frame_ms(lambda n: draw(source.copy(), layout(state(n), width, height)))
        frame = av.VideoFrame.from_ndarray(source, format="yuv420p")
        round_trip = per_frame_ms(
            lambda n: av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"), format="rgb24").reformat(
                format="yuv420p"
            )
        )
        encode = encode_ms(width, height, source)
        print(f"| {name} | {copy:.3f} | {overlay:.3f} | {overlay - copy:.3f} | {round_trip:.2f} | {encode:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
