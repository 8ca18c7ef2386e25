"""ffmpeg as an HLS client: decode every frame of a playlist and report what came out.

`-f framecrc` prints one line per decoded frame (pts, duration) per stream, so the
report says exactly how many video frames and audio samples a real demuxer + decoder
got out of the playlist, and at which timestamps. `-fps_mode passthrough` keeps ffmpeg
from duplicating/dropping frames to fake a constant rate, and `-copyts` keeps the
stream's own timestamps (seconds on the 90 kHz stream clock, not rebased to 0).
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction

from ._process import run_bounded

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
PROBE_TIMEOUT_SECONDS = 60

# Video is wrapped, not converted to raw pixels: same decode, no per-frame copy + CRC of
# megabytes (the CRC column is then meaningless; only timestamps/durations are used).
# Audio becomes PCM at the decoder's rate, so one duration unit is one sample.
DECODE_ARGS = (
    "-map", "0:v?", "-map", "0:a?",
    "-fps_mode", "passthrough", "-copyts",
    "-enc_time_base:v", "-1",  # demuxer time base (90 kHz): exact PTS, no 1/fps rounding
    "-c:v", "wrapped_avframe", "-c:a", "pcm_s16le",
    "-f", "framecrc", "-",
)


@dataclass(frozen=True)
class StreamFrames:
    """Decoded frames of one output stream, from the framecrc header and lines."""

    index: int
    media_type: str
    time_base: Fraction
    sample_rate: int | None
    frames: int
    duration_units: int
    """Sum of frame durations in `time_base` units."""
    pts: tuple[float, ...]
    """Presentation timestamps in seconds, in output order."""


@dataclass(frozen=True)
class FfmpegReport:
    """What ffmpeg decoded from an HLS URL."""

    returncode: int | None
    video_frames: int
    """Frames of the first video stream."""
    audio_samples: int
    """Samples (per channel) of the first audio stream, at its sample rate."""
    audio_sample_rate: int | None
    video_pts: list[float]
    """First video stream's PTS in seconds (stream clock, not rebased)."""
    warnings: list[str]
    """Every stderr line (-v warning: only warnings and errors reach stderr)."""
    elapsed: float
    timed_out: bool = False
    streams: list[StreamFrames] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Exit 0, no warnings, not killed."""
        return self.returncode == 0 and not self.warnings and not self.timed_out


def decode_with_ffmpeg(url: str, timeout: float = 120) -> FfmpegReport:
    """Decode all video and audio of `url` (multivariant or media playlist) with ffmpeg."""
    argv = [FFMPEG, "-nostdin", "-hide_banner", "-v", "warning", "-xerror", "-i", url, *DECODE_ARGS]
    run = run_bounded(argv, timeout)
    streams = parse_framecrc(run.stdout)
    video = next((s for s in streams if s.media_type == "video"), None)
    audio = next((s for s in streams if s.media_type == "audio"), None)
    return FfmpegReport(
        returncode=run.returncode,
        video_frames=video.frames if video else 0,
        audio_samples=_samples(audio) if audio else 0,
        audio_sample_rate=audio.sample_rate if audio else None,
        video_pts=list(video.pts) if video else [],
        warnings=[line for line in run.stderr.splitlines() if line.strip()],
        elapsed=run.elapsed,
        timed_out=run.timed_out,
        streams=streams,
    )


def _samples(audio: StreamFrames) -> int:
    """Convert summed durations to samples (exact: PCM durations are in 1/sample_rate)."""
    if audio.sample_rate is None:
        raise ValueError(f"audio stream {audio.index} has no sample rate in framecrc header")
    samples = audio.duration_units * audio.time_base * audio.sample_rate
    if samples.denominator != 1:
        raise ValueError(f"audio duration {samples} is not a whole number of samples")
    return int(samples)


def parse_framecrc(text: str) -> list[StreamFrames]:
    """Parse framecrc output: `#tb N: a/b`, `#media_type N: ...` headers, then
    `stream, dts, pts, duration, size, crc` lines."""
    time_bases: dict[int, Fraction] = {}
    media_types: dict[int, str] = {}
    sample_rates: dict[int, int] = {}
    frames: dict[int, int] = {}
    durations: dict[int, int] = {}
    pts: dict[int, list[float]] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            name, _, index = key.partition(" ")
            if not index.strip().isdigit():
                continue
            i = int(index)
            value = value.strip()
            if name == "tb":
                num, den = value.split("/")
                time_bases[i] = Fraction(int(num), int(den))
            elif name == "media_type":
                media_types[i] = value
            elif name == "sample_rate":
                sample_rates[i] = int(value)
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) < 6 or not fields[0].isdigit():
            continue
        i = int(fields[0])
        frames[i] = frames.get(i, 0) + 1
        durations[i] = durations.get(i, 0) + int(fields[3])
        pts.setdefault(i, []).append(float(int(fields[2]) * time_bases[i]))
    return [
        StreamFrames(
            index=i,
            media_type=media_types.get(i, "unknown"),
            time_base=time_bases[i],
            sample_rate=sample_rates.get(i),
            frames=frames.get(i, 0),
            duration_units=durations.get(i, 0),
            pts=tuple(pts.get(i, [])),
        )
        for i in sorted(time_bases)
    ]


def probe_streams(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> list[dict]:
    """ffprobe's `-show_streams` JSON for `url` (one dict per stream)."""
    out = subprocess.run(
        [FFPROBE, "-v", "error", "-show_streams", "-of", "json", url],
        check=True, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
    ).stdout
    return json.loads(out).get("streams", [])
