"""The anchor: the seed design's approach, one ffmpeg command per plan.

It renders the whole plan in one pass, as the design this project replaces
did: each work block loops its clip (`-stream_loop -1`), changes speed with
`setpts`, scales to the rendition, composites alpha clips over a backdrop,
burns in a `drawtext` countdown, name and round line and a progress bar,
concatenates the blocks, adds an audio track, encodes with the same libx264
preset and rate control as the server, and writes HLS with ffmpeg's muxer at
the server's own cut points. Timings come from watching its output directory:
with `-hls_flags temp_file` a segment file appears under its final name only
once it is complete.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from assets.catalogue import Catalogue
from playlists.presentation import Presentation
from playlists.renditions import Rendition
from playlists.timeline import BlockKind

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
BACKDROP = "0x1c2430"
ORANGE = "0xff9500"
MARGIN = 36
BAR_HEIGHT = 10


def _escape(text: str) -> str:
    """drawtext text, escaped for both the filter parser and the option parser."""
    return text.replace("\\", "\\\\\\\\").replace("'", "\u2019").replace(":", "\\:").replace(",", "\\,")


def _text(text: str, size: int, x: str, y: str) -> str:
    return (
        f"drawtext=fontfile={FONT}:text='{text}':fontsize={size}:fontcolor=white"
        f":borderw={max(1, size // 14)}:bordercolor=black@0.7:x={x}:y={y}"
    )


def _countdown(seconds: int) -> str:
    """m:ss counting down from `seconds`, evaluated per frame by drawtext."""
    left = f"ceil({seconds}-t)"
    return (
        f"drawtext=fontfile={FONT}:fontsize=104:fontcolor=white:borderw=7:bordercolor=black@0.7"
        f":x=w-tw-{MARGIN}:y={MARGIN}"
        f":text='%{{eif\\:floor({left}/60)\\:d}}\\:%{{eif\\:mod({left}\\,60)\\:d\\:2}}'"
    )


@dataclass(frozen=True)
class AnchorCommand:
    argv: list[str]
    output_dir: Path
    segment_count: int

    def segment_path(self, index: int) -> Path:
        return self.output_dir / f"seg{index:05d}.ts"


def build_command(
    presentation: Presentation, catalogue: Catalogue, rendition: Rendition, output_dir: Path
) -> AnchorCommand:
    timeline = presentation.timeline
    fps = timeline.fps
    width, height = rendition.width, rendition.height
    total = timeline.duration
    inputs: list[str] = []
    chains: list[str] = []
    bar_width = width - 2 * MARGIN
    bar_top = height - MARGIN - BAR_HEIGHT
    for number, block in enumerate(timeline.blocks):
        seconds = Fraction(block.frames, fps)
        start = Fraction(block.start_frame, fps)
        exercise = catalogue.exercises[block.exercise_id] if block.exercise_id else None
        label = f"b{number}"
        if block.kind is BlockKind.WORK and exercise is not None:
            inputs += ["-stream_loop", "-1", "-i", str(exercise.clip_path)]
            source = len(inputs) // 4 - 1
            clip = (
                f"[{source}:v]setpts=(PTS-STARTPTS)/{float(block.speed)},fps={fps},"
                f"scale={width}:{height}:force_original_aspect_ratio=decrease,format=yuva420p[c{number}];"
                f"color=c={BACKDROP}:s={width}x{height}:r={fps}[k{number}];"
                f"[k{number}][c{number}]overlay=(W-w)/2:(H-h)/2:shortest=1,format=yuv420p,"
                f"trim=end_frame={block.frames},setpts=PTS-STARTPTS,"
                + _countdown(block.frames // fps)
                + ","
                + _text(_escape(exercise.name), 60, str(MARGIN), f"{bar_top - 110}")
                + ","
                + _text(
                    _escape(f"Round {block.round}/{timeline.rounds} - Exercise {block.item + 1}"),
                    34,
                    str(MARGIN),
                    f"{bar_top - 48}",
                )
            )
        else:
            words = {
                BlockKind.INTRO: "Get ready",
                BlockKind.REST: "Rest",
                BlockKind.OUTRO: "Workout complete",
                BlockKind.WORK: "",
            }[block.kind]
            clip = (
                f"color=c={BACKDROP}:s={width}x{height}:r={fps}:d={float(seconds)},format=yuv420p,"
                + _text(_escape(words), 100, "(w-tw)/2", "h*0.35")
                + (
                    "," + _text(_escape(f"Next: {exercise.name}"), 56, "(w-tw)/2", "h*0.6")
                    if exercise is not None
                    else ""
                )
                + ","
                + _countdown(block.frames // fps)
            )
        chains.append(
            clip + f",drawbox=x={MARGIN}:y={bar_top}:w={bar_width}:h={BAR_HEIGHT}:color=black@0.55:t=fill"
            f"[p{number}];color=c={ORANGE}:s={bar_width}x{BAR_HEIGHT}:r={fps}[f{number}];"
            f"[p{number}][f{number}]overlay=x='{MARGIN}-overlay_w+overlay_w*({float(start)}+t)/{float(total)}'"
            f":y={bar_top}:shortest=1[{label}]"
        )
    concat = "".join(f"[b{n}]" for n in range(len(timeline.blocks)))
    graph = ";".join(chains) + f";{concat}concat=n={len(timeline.blocks)}:v=1:a=0[v]"
    cut_times = ",".join(str(float(segment.start_time)) for segment in presentation.segments)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "graph.txt").write_text(graph)
    argv = [
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        *inputs,
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=660:sample_rate=48000:duration={float(total)}",
        "-filter_complex_script",
        str(output_dir / "graph.txt"),
        "-map",
        "[v]",
        "-map",
        f"{len(inputs) // 4}:a",
        "-c:v",
        "libx264",
        "-preset",
        rendition.preset,
        "-b:v",
        str(rendition.video_bitrate),
        "-maxrate",
        str(rendition.video_bitrate),
        "-bufsize",
        str(rendition.video_bufsize),
        "-x264-params",
        "nal-hrd=cbr",
        "-g",
        "100000",
        "-sc_threshold",
        "0",
        "-bf",
        "0",
        "-force_key_frames",
        cut_times,
        "-c:a",
        "aac",
        "-b:a",
        str(rendition.audio_bitrate),
        "-ac",
        "2",
        "-f",
        "hls",
        "-hls_time",
        "1",
        "-hls_playlist_type",
        "vod",
        "-hls_flags",
        "temp_file",
        "-hls_segment_filename",
        str(output_dir / "seg%05d.ts"),
        str(output_dir / "index.m3u8"),
    ]
    return AnchorCommand(argv, output_dir, len(presentation.segments))


@dataclass(frozen=True)
class AnchorRun:
    first_segment: float
    """Seconds from starting ffmpeg until segment 0's file is complete."""
    segment_times: dict[int, float]
    """Seconds until each segment watched for was complete."""
    total: float | None
    """Seconds until ffmpeg exited (None if stopped early)."""


def run_anchor(command: AnchorCommand, until_segment: int | None = None, poll: float = 0.005) -> AnchorRun:
    """Run the command, noting when segment files complete; stop after `until_segment` if given."""
    last = command.segment_count - 1 if until_segment is None else until_segment
    started = time.perf_counter()
    process = subprocess.Popen(command.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    times: dict[int, float] = {}
    try:
        watching = 0
        while watching <= last:
            if command.segment_path(watching).exists():
                times[watching] = time.perf_counter() - started
                watching += 1
                continue
            if process.poll() is not None:
                break
            time.sleep(poll)
        if until_segment is not None and process.poll() is None:
            process.kill()
            process.wait()
            return AnchorRun(times[0], times, None)
        _, errors = process.communicate()
        total = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"anchor ffmpeg failed: {errors.decode(errors='replace')[-2000:]}")
        for index in range(watching, last + 1):  # the last segment completes as ffmpeg exits
            if command.segment_path(index).exists():
                times[index] = total
        return AnchorRun(times[0], times, total)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
