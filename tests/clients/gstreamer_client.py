"""GStreamer's playbin3 (hlsdemux2 + tsdemux/qtdemux + libav decoders) as an HLS client.

playbin3 with hlsdemux2 is GStreamer's current HLS stack (hlsdemux2 is ranked above the legacy
hlsdemux since 1.22, and only playbin3 can use it). The legacy pair, playbin + hlsdemux, deadlocked
intermittently on our streams in GStreamer 1.22.0 (3 runs in 15 on the same cached 1 s-segment
stream: every thread parked in a futex wait, mid-stream, with no buffering pause); playbin3 played
the same stream 15 times in 15 (docs/interop.md).

GStreamer is the strictest of the desktop clients about timestamps: with segments whose
timestamps restart it logs "decreasing timestamp" and/or stops long before the end. The
report says whether the pipeline reached EOS, how many video frames reached the sink
(with their PTS, from fakesink's `last-message` under `-v`), and what it warned about.
Sinks run with `sync=false`, so this decodes as fast as the CPU allows, not in real time.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace

from ._process import run_bounded

GST_LAUNCH = "gst-launch-1.0"
PLAYBIN = "playbin3"
VIDEO_SINK_NAME = "videosink"
AUDIO_SINK_NAME = "audiosink"
GST_DEBUG_LEVEL = "2"  # WARN and ERROR

EOS_RE = re.compile(r'Got EOS from element "playbin\d*(-\d+)?"')
DECREASING_RE = re.compile(r"decreasing timestamp", re.IGNORECASE)
DEBUG_LINE_RE = re.compile(r"^\d+:\d\d:\d\d\.\d+\s+\d+\s+0x[0-9a-f]+\s+(WARN|ERROR|FIXME)\s")
ERROR_MESSAGE_RE = re.compile(r"^ERROR: ")
VIDEO_CHAIN_RE = re.compile(
    rf"GstFakeSink:{VIDEO_SINK_NAME}: last-message = chain .*?pts: (\d+):(\d\d):(\d\d\.\d+|none)"
)
BENIGN_WARNINGS = (
    # gst-launch cannot print the soup session in its context messages.
    r"No value transform to serialize field 'session'",
    # playbin (v1) tries hlsdemux2 first, which needs playbin3, then uses hlsdemux.
    r"requires a streams-aware context",
    r"Couldn't set hlsdemux2-\d+ to READY",
    # Plugin registry rebuild on first use: optional hardware/plugin libraries absent.
    r"msdk|ladspa|cudaloader|nvcodec|gstsfelement|libcuda|vaapi|opencv|plugin_init",
)
BENIGN_WARNING_RE = re.compile("|".join(BENIGN_WARNINGS))
EXPOSURE_RACE = "Can't push EOS on non-exposed pad"
"""hlsdemux2's error when its downloads reach the end of the playlist before playbin3 has exposed its
output pads (`gst_adaptive_demux2_stream_end_of_manifest` in gstadaptivedemux-stream.c, 1.22 and still
upstream). A short presentation served from memory on loopback downloads whole in a tenth of a second;
on a loaded machine the pads can come later, and the demuxer gives up before it has handed a single
byte to a parser (seen once in a full run: 0 buffers after 0.2 s, every segment answered 200)."""


@dataclass(frozen=True)
class GstReport:
    """What gst-launch playbin did with a stream."""

    returncode: int | None
    reached_eos: bool
    decreasing_timestamps: list[str]
    """GST_DEBUG lines mentioning "decreasing timestamp"."""
    warnings: list[str]
    """WARN/ERROR debug lines and `ERROR:` messages, minus known headless noise."""
    errors: list[str]
    """ERROR-level debug lines and gst-launch `ERROR:` messages (subset of warnings)."""
    video_buffers: int
    """Decoded video frames that reached the video sink."""
    video_pts: list[float | None]
    """Their PTS in seconds (running on GStreamer's segment timeline), None if unset."""
    elapsed: float
    timed_out: bool
    log_lines: list[str] = field(default_factory=list)
    exposure_races: int = 0
    """Earlier attempts lost to hlsdemux2's exposure race (EXPOSURE_RACE) and played again."""

    @property
    def lost_exposure_race(self) -> bool:
        """Ended by EXPOSURE_RACE before anything was decoded: nothing about the stream was judged."""
        return self.video_buffers == 0 and any(EXPOSURE_RACE in line for line in self.errors)

    @property
    def clean(self) -> bool:
        return (self.returncode == 0 and self.reached_eos and not self.timed_out
                and not self.decreasing_timestamps and not self.warnings)


def play_with_gstreamer(
    url: str, timeout: float = 120, *, real_time: bool = False, connection_speed_kbps: int | None = None
) -> GstReport:
    """Decode `url` through playbin3 into fakesinks and parse what gst-launch printed.

    By default the sinks do not wait for the clock, so playbin decodes as fast as it can;
    `real_time` plays against the clock as a player does. `connection_speed_kbps` is playbin's
    `connection-speed`, which makes hlsdemux pick the variant that fits it.
    """
    sync = "true" if real_time else "false"
    speed = [f"connection-speed={connection_speed_kbps}"] if connection_speed_kbps is not None else []
    argv = [
        GST_LAUNCH, "-v",
        PLAYBIN, f"uri={url}", *speed,
        f"video-sink=fakesink name={VIDEO_SINK_NAME} sync={sync} silent=false",
        f"audio-sink=fakesink name={AUDIO_SINK_NAME} sync={sync}",
    ]
    env = {**os.environ, "GST_DEBUG": GST_DEBUG_LEVEL, "GST_DEBUG_NO_COLOR": "1"}
    report = _run_once(argv, timeout, env)
    if not report.lost_exposure_race:
        return report
    # GStreamer's own race, not the stream's doing: one more attempt, which must pass on its own merits.
    again = _run_once(argv, timeout, env)
    return replace(again, exposure_races=1, elapsed=report.elapsed + again.elapsed)


def _run_once(argv: list[str], timeout: float, env: dict[str, str]) -> GstReport:
    run = run_bounded(argv, timeout, env=env)
    return parse_gst_output(run.stdout, run.stderr, run.returncode, run.elapsed, run.timed_out)


def _seconds(hours: str, minutes: str, seconds: str) -> float | None:
    if seconds == "none":
        return None
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def parse_gst_output(
    stdout: str, stderr: str, returncode: int | None, elapsed: float, timed_out: bool
) -> GstReport:
    """Extract EOS, frames, timestamps and warnings from gst-launch stdout/stderr."""
    video_pts: list[float | None] = []
    warnings: list[str] = []
    errors: list[str] = []
    decreasing: list[str] = []
    reached_eos = False
    log_lines: list[str] = []
    for line in (stdout + "\n" + stderr).splitlines():
        if not line.strip():
            continue
        chain = VIDEO_CHAIN_RE.search(line)
        if chain:
            video_pts.append(_seconds(*chain.groups()))
            continue  # one per frame: counted, not kept in the log
        log_lines.append(line)
        reached_eos = reached_eos or bool(EOS_RE.search(line))
        if DECREASING_RE.search(line):
            decreasing.append(line)
        level = DEBUG_LINE_RE.match(line)
        is_error = ERROR_MESSAGE_RE.match(line) is not None or (level is not None and level.group(1) == "ERROR")
        if (level or is_error) and not BENIGN_WARNING_RE.search(line):
            warnings.append(line)
            if is_error:
                errors.append(line)
    return GstReport(
        returncode=returncode,
        reached_eos=reached_eos,
        decreasing_timestamps=decreasing,
        warnings=warnings,
        errors=errors,
        video_buffers=len(video_pts),
        video_pts=video_pts,
        elapsed=elapsed,
        timed_out=timed_out,
        log_lines=log_lines,
    )
