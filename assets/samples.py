"""The sample exercise library: generates one looping clip per exercise and its catalogue.

There is no real footage, so the project makes its own, in the formats real
footage arrives in: H.264 MP4s from 1080p down to 360p at 25/30/50/60 fps over a
drawn studio backdrop, and ProRes 4444 MOVs with a transparent background. Frame i
of a clip shows the figure at phase i / frames and carries the frame mark i
(`assets.framemark`), so tests can tell which source frame the server showed.

    python -m assets.samples --out DIR [--force]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.frame import VideoFrame
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc
from PIL import Image

from assets.catalogue import write_catalogue
from assets.figure import POSES, PoseFunction, draw_figure, fit_placement
from assets.framemark import draw_frame_mark
from assets.library import MUSIC_DIR
from assets.music import generate_music
from assets.probe import ClipInfo, ClipProbeError, probe_clip
from assets.records import SAMPLE_FRENCH_NAMES

H264 = "h264"
PRORES = "prores"
CONTAINER_EXTENSION = {H264: ".mp4", PRORES: ".mov"}
CONTAINER_FORMAT = {H264: "mp4", PRORES: "mov"}

H264_CRF = 18
H264_PRESET = "veryfast"
H264_GOP = 30
"""Frames per GOP: a keyframe every 0.5-1.2 s, so decoding needs real inter prediction."""
H264_PIX_FMT = "yuv420p"
PRORES_PROFILE = "4444"
PRORES_PIX_FMT = "yuva444p10le"
PRORES_QSCALE = 2
"""Fixed quantiser (near-lossless). Without one prores_ks searches quantisers per slice: 7x slower."""
FF_QP2LAMBDA = 118
"""FFmpeg's quantiser-to-lambda factor: `global_quality` is a quantiser times this."""


@dataclass(frozen=True)
class SampleExercise:
    """One catalogue exercise and the source format its sample clip is written in."""

    id: str
    name: str
    category: str
    difficulty: str
    jump: bool
    width: int
    height: int
    fps: int
    frames: int
    codec: str
    colour: tuple[int, int, int]
    """Figure colour; one per exercise so clips are told apart at a glance."""
    backdrop: tuple[int, int, int] = (70, 78, 96)
    """Wall colour at the horizon (opaque clips only)."""

    @property
    def alpha(self) -> bool:
        return self.codec == PRORES

    @property
    def clip_name(self) -> str:
        return self.id + CONTAINER_EXTENSION[self.codec]

    @property
    def loop_seconds(self) -> float:
        return self.frames / self.fps

    @property
    def pose(self) -> PoseFunction:
        return POSES[self.id]


SAMPLE_EXERCISES: tuple[SampleExercise, ...] = (
    SampleExercise("squat", "Squat", "legs", "beginner", False, 1920, 1080, 30, 60, H264,
                   colour=(236, 112, 48), backdrop=(92, 100, 118)),
    SampleExercise("jumping_jack", "Jumping Jack", "cardio", "beginner", True, 1280, 720, 30, 36, H264,
                   colour=(40, 150, 225), backdrop=(120, 108, 98)),
    SampleExercise("push_up", "Push-up", "upper_body", "intermediate", False, 1920, 1080, 25, 60, H264,
                   colour=(222, 58, 92), backdrop=(84, 104, 100)),
    SampleExercise("lunge", "Lunge", "legs", "intermediate", False, 1280, 720, 25, 80, PRORES,
                   colour=(80, 190, 96)),
    SampleExercise("plank", "Plank", "core", "beginner", False, 1920, 1080, 30, 90, PRORES,
                   colour=(156, 96, 222)),
    SampleExercise("burpee", "Burpee", "full_body", "advanced", True, 1280, 720, 60, 180, H264,
                   colour=(245, 190, 36), backdrop=(70, 80, 104)),
    SampleExercise("mountain_climber", "Mountain climber", "core", "intermediate", False, 1280, 720, 30, 36, H264,
                   colour=(20, 190, 170), backdrop=(96, 86, 112)),
    SampleExercise("high_knees", "High knees", "cardio", "intermediate", True, 960, 540, 50, 50, H264,
                   colour=(250, 100, 200), backdrop=(76, 98, 118)),
    SampleExercise("glute_bridge", "Glute bridge", "legs", "beginner", False, 1280, 720, 25, 50, PRORES,
                   colour=(120, 220, 245)),
    SampleExercise("crunch", "Crunch", "core", "beginner", False, 1280, 720, 30, 45, H264,
                   colour=(185, 230, 60), backdrop=(104, 92, 88)),
    SampleExercise("calf_raise", "Calf raise", "legs", "beginner", False, 640, 360, 25, 40, H264,
                   colour=(255, 160, 130), backdrop=(72, 94, 92)),
    SampleExercise("knee_push_up", "Knee push-up", "upper_body", "beginner", False, 1280, 720, 30, 48, PRORES,
                   colour=(125, 135, 255)),
    SampleExercise("pike_push_up", "Pike push-up", "upper_body", "advanced", False, 960, 540, 25, 50, H264,
                   colour=(235, 235, 225), backdrop=(88, 76, 96)),
    SampleExercise("jump_squat", "Jump squat", "legs", "advanced", True, 1280, 720, 60, 72, H264,
                   colour=(240, 40, 30), backdrop=(84, 100, 112)),
    SampleExercise("inchworm", "Inchworm", "full_body", "intermediate", False, 1280, 720, 30, 90, H264,
                   colour=(215, 170, 255), backdrop=(90, 96, 80)),
    SampleExercise("seated_knee_tuck", "Seated knee tuck", "core", "advanced", False, 1280, 720, 50, 75, PRORES,
                   colour=(150, 240, 170)),
)  # fmt: skip


# --- pictures -------------------------------------------------------------------------------------

HORIZON_FRACTION = 0.86
"""Where wall meets floor; matches the figure's ground line."""
WALL_TOP_DARKEN = 0.55
FLOOR_DARKEN = 0.7
VIGNETTE = 0.35


def studio_backdrop(width: int, height: int, colour: tuple[int, int, int]) -> Image.Image:
    """A soft studio cyclorama: wall darkening upwards, a darker floor, a light pool behind the figure."""
    y = (np.arange(height, dtype=np.float32) / height)[:, None]
    x = (np.arange(width, dtype=np.float32) / width)[None, :]
    above = y < HORIZON_FRACTION
    wall = WALL_TOP_DARKEN + (1 - WALL_TOP_DARKEN) * (y / HORIZON_FRACTION) ** 0.8
    floor = FLOOR_DARKEN + 0.15 * (1 - (y - HORIZON_FRACTION) / (1 - HORIZON_FRACTION))
    brightness = np.where(above, wall, floor)
    distance = np.hypot((x - 0.5) * width / height, (y - 0.6) * 1.2)
    brightness = brightness * (1 - VIGNETTE * np.clip(distance, 0, 1) ** 2)
    rgb = np.asarray(colour, dtype=np.float32)[None, None, :] * brightness[:, :, None]
    return Image.fromarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8), "RGB")


def frame_pictures(sample: SampleExercise) -> Callable[[int], Image.Image]:
    """Picture of frame i: backdrop (or transparency), figure at phase i/frames, frame mark i."""
    poses = [sample.pose(i / sample.frames) for i in range(sample.frames)]
    placement = fit_placement(poses, sample.width, sample.height)
    if sample.alpha:
        background = Image.new("RGBA", (sample.width, sample.height), (0, 0, 0, 0))
    else:
        background = studio_backdrop(sample.width, sample.height, sample.backdrop)

    def picture(index: int) -> Image.Image:
        img = background.copy()
        draw_figure(img, poses[index], placement, sample.colour)
        draw_frame_mark(img, index)
        return img

    return picture


# --- encoding -------------------------------------------------------------------------------------


def _add_video_stream(container: av.container.OutputContainer, sample: SampleExercise) -> av.VideoStream:
    if sample.codec == H264:
        options = {"crf": str(H264_CRF), "preset": H264_PRESET, "g": str(H264_GOP)}
        stream = container.add_stream("libx264", rate=sample.fps, options=options)
        stream.pix_fmt = H264_PIX_FMT
    else:
        options = {
            "profile": PRORES_PROFILE,
            "flags": "+qscale",
            "global_quality": str(PRORES_QSCALE * FF_QP2LAMBDA),
        }
        stream = container.add_stream("prores_ks", rate=sample.fps, options=options)
        stream.pix_fmt = PRORES_PIX_FMT
    stream.width, stream.height = sample.width, sample.height
    stream.time_base = Fraction(1, sample.fps)
    context = stream.codec_context
    context.time_base = Fraction(1, sample.fps)
    context.thread_type = "FRAME"
    context.colorspace = Colorspace.ITU709
    context.color_range = ColorRange.MPEG
    context.color_primaries = ColorPrimaries.BT709
    context.color_trc = ColorTrc.BT709
    return stream


def video_frames(sample: SampleExercise, pix_fmt: str) -> Iterator[VideoFrame]:
    """The clip's frames in the encoder's pixel format, BT.709 limited range, stamped pts = i at 1/fps.

    Each frame is drawn in a worker thread while the previous one is encoded:
    Pillow, swscale and the encoders release the GIL, so both cores stay busy.
    """
    picture = frame_pictures(sample)
    time_base = Fraction(1, sample.fps)

    def make(index: int) -> VideoFrame:
        img = picture(index)
        # Not VideoFrame.from_image: it always makes rgb24 and drops the alpha channel.
        rgb = VideoFrame.from_ndarray(np.asarray(img), format="rgba" if img.mode == "RGBA" else "rgb24")
        frame = rgb.reformat(
            format=pix_fmt,
            dst_colorspace=Colorspace.ITU709,
            dst_color_range=ColorRange.MPEG,
            dst_color_trc=ColorTrc.BT709,
            dst_color_primaries=ColorPrimaries.BT709,
        )
        frame.pts = index
        frame.time_base = time_base
        return frame

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"draw-{sample.id}") as pool:
        pending = pool.submit(make, 0)
        for index in range(1, sample.frames + 1):
            frame = pending.result()
            if index < sample.frames:
                pending = pool.submit(make, index)
            yield frame


def encode_clip(sample: SampleExercise, path: Path) -> None:
    """Write the sample's clip to `path` (in its container format, whatever the file name)."""
    options = {"movflags": "+faststart"} if sample.codec == H264 else {}
    with av.open(str(path), "w", format=CONTAINER_FORMAT[sample.codec], options=options) as container:
        stream = _add_video_stream(container, sample)
        for frame in video_frames(sample, stream.pix_fmt):
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _matches(sample: SampleExercise, info: ClipInfo) -> bool:
    return (
        (info.width, info.height, info.frames, info.alpha, info.codec)
        == (sample.width, sample.height, sample.frames, sample.alpha, sample.codec)
        and info.fps == sample.fps
    )


def catalogue_entry(sample: SampleExercise, info: ClipInfo) -> dict[str, object]:
    """The catalogue's view of a clip, from its probed facts."""
    return {
        "id": sample.id,
        "name": sample.name,
        "name_fr": SAMPLE_FRENCH_NAMES[sample.id],
        "category": sample.category,
        "difficulty": sample.difficulty,
        "jump": sample.jump,
        "clip": sample.clip_name,
        "loop_seconds": info.duration_seconds,
        "fps": f"{info.fps.numerator}/{info.fps.denominator}",
        "frames": info.frames,
        "width": info.width,
        "height": info.height,
        "alpha": info.alpha,
        "codec": info.codec,
    }


def _usable_clip(sample: SampleExercise, path: Path) -> ClipInfo | None:
    """Facts of an existing clip that still is what the sample promises, else None (make it again)."""
    if not path.exists():
        return None
    try:
        info = probe_clip(path)
    except ClipProbeError:
        return None
    return info if _matches(sample, info) else None


ClipReport = Callable[[SampleExercise, Path, "float | None"], None]
"""Called once per clip with the seconds spent generating it, or None if an existing file was kept."""


def generate_samples(clips_dir: Path, *, force: bool = False, report: ClipReport | None = None) -> list[dict]:
    """Make sure every sample clip exists in `clips_dir` and return its catalogue entries.

    Existing clips are kept unless `force`, or unless they no longer probe as
    the sample they stand for. Clips are written under a temporary name and
    renamed, so an interrupted run never leaves a half-written clip behind.
    """
    clips_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for sample in SAMPLE_EXERCISES:
        path = clips_dir / sample.clip_name
        info = None if force else _usable_clip(sample, path)
        seconds = None
        if info is None:
            started = time.perf_counter()
            partial = path.with_name(f".{sample.id}.{os.getpid()}.partial{path.suffix}")
            try:
                encode_clip(sample, partial)
                os.replace(partial, path)
            finally:
                partial.unlink(missing_ok=True)
            seconds = time.perf_counter() - started
            info = probe_clip(path)
            if not _matches(sample, info):
                raise RuntimeError(f"generated {path} does not match its sample: {info}")
        if report is not None:
            report(sample, path, seconds)
        entries.append(catalogue_entry(sample, info))
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the sample exercise clips and their catalogue.")
    parser.add_argument("--out", type=Path, required=True, help="directory for the clips and catalogue.json")
    parser.add_argument("--force", action="store_true", help="regenerate clips that already exist")
    args = parser.parse_args(argv)

    def report(sample: SampleExercise, path: Path, seconds: float | None) -> None:
        took = "kept existing" if seconds is None else f"{seconds:.2f} s"
        size = path.stat().st_size / 1e6
        print(
            f"{path.name:22} {sample.width}x{sample.height} {sample.fps} fps {sample.frames:4} frames "
            f"{sample.codec:7} {size:6.2f} MB  {took}",
            flush=True,
        )

    started = time.perf_counter()
    entries = generate_samples(args.out, force=args.force, report=report)
    catalogue = write_catalogue(args.out, entries, generate_music(args.out / MUSIC_DIR))
    print(f"{catalogue}: {len(entries)} exercises in {time.perf_counter() - started:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
