"""VLC 3 as an HLS client (its own `adaptive` demuxer, not ffmpeg's), judged by its log.

VLC exits 0 even when playback fails, so the report counts the log lines that reveal
problems: "discontinuity received" (MPEG-TS continuity counters reset), late pictures
(timestamps that jump), corrupt data, error-level messages (decoder errors counted apart),
and lists the media segments its adaptive demuxer fetched, so a rendition switch shows. VLC refuses to run as
root, hence `runuser -u nobody` with a private HOME. It plays in real time: `elapsed`
is about the stream duration; much shorter means it gave up early.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field

from ._process import run_bounded

CVLC = "cvlc"
RUN_AS_USER = "nobody"
VLC_ARGS = (
    "-I",
    "dummy",
    "--no-dbus",  # no D-Bus here: avoids a startup error line per run
    "--vout",
    "dummy",
    "--aout",
    "dummy",
    "--no-video-title-show",
    "--play-and-exit",
    "-vv",
)

LEVEL_RE = re.compile(r"^\[[0-9a-f]+\] [^:]*? (debug|warning|error): ")
"""VLC's `[object] module type level: message`; info-level lines carry no level word."""
DISCONTINUITY_RE = re.compile(r"discontinuity received", re.IGNORECASE)
LATE_RE = re.compile(r"\blate\b", re.IGNORECASE)  # not "deflate", "translate"
CORRUPT_RE = re.compile(r"corrupt", re.IGNORECASE)
HTTP_ERROR_RE = re.compile(r"^HTTP/\d(?:\.\d)? [45]\d\d\b")
EOF_RE = re.compile(r"main input debug: EOF reached")
DECODER_ERROR_RE = re.compile(r" decoder error: ")
"""An error-level line from a decoder object, e.g. `main decoder error: buffer deadlock prevented` (the input
waited for a decoder that had nothing to decode; see docs/interop.md, VLC's own adaptive logic)."""
SEGMENT_FETCH_RE = re.compile(r"adaptive demux debug: Retrieving \S*/(?P<rendition>[^/\s]+)/(?P<index>\d+)\.(?:ts|m4s)\b")
"""VLC's adaptive demuxer names every media segment it downloads: `Retrieving http://.../1080p/3.ts`."""
BENIGN_ERROR_RE = re.compile(
    # Interfaces VLC always tries and this headless machine lacks (hotkeys, D-Bus).
    r'no suitable interface module|interface "[^"]*" initialization failed|D-Bus'
)
LATE_TOLERANCE = 0.25
"""Share of frames that may be reported late (seen: 0 on an idle machine, 37 of 240 under load)."""
CONFIGURE_LINE_RE = re.compile(r"libvlc debug: configured with ")
"""The build-flags line (`--enable-...` for every module) is skipped before matching."""


@dataclass(frozen=True)
class VlcReport:
    """What VLC logged while playing a stream."""

    returncode: int | None
    elapsed: float
    timed_out: bool
    reached_eof: bool
    """The input logged "EOF reached" (it read to the end, or gave up on the rest)."""
    discontinuities: int
    late: int
    """Warning/error lines about late pictures ("picture is too late to be displayed",
    "More than 11 late frames"); debug-level "might be displayed late" is load noise."""
    corrupt: int
    errors: int
    """Error-level lines, minus headless-startup noise."""
    http_errors: int
    """4xx/5xx HTTP responses VLC received (VLC skips missing segments silently)."""
    decoder_errors: int
    """Error-level lines from a decoder (also counted in `errors`)."""
    segments_fetched: list[tuple[str, int]] = field(default_factory=list)
    """(rendition, segment index) of every media segment VLC downloaded, in order."""
    problem_lines: list[str] = field(default_factory=list)
    """Every line counted in one of the counters above, in log order."""
    log_lines: list[str] = field(default_factory=list)

    def plays_through(self, frames: int, late_tolerance: float = LATE_TOLERANCE) -> bool:
        """Clean except for a few late pictures, which CPU contention on a shared 2-core
        machine causes on any stream; broken streams show discontinuities, corruption,
        errors or an early end instead."""
        return (
            self.reached_eof
            and not (self.timed_out or self.discontinuities or self.corrupt or self.errors or self.http_errors)
            and self.late <= late_tolerance * frames
        )

    @property
    def renditions_fetched(self) -> list[str]:
        """The renditions in the order VLC moved between them, e.g. ["360p", "1080p"]."""
        order: list[str] = []
        for rendition, _ in self.segments_fetched:
            if not order or order[-1] != rendition:
                order.append(rendition)
        return order

    @property
    def clean(self) -> bool:
        return (
            not (self.timed_out or self.discontinuities or self.late or self.corrupt or self.errors or self.http_errors)
            and self.reached_eof
        )


def play_with_vlc(
    url: str, timeout: float = 120, *, adaptive_logic: str | None = None, rate: float | None = None
) -> VlcReport:
    """Play `url` with cvlc (dummy audio/video outputs) in real time and parse its log.

    `adaptive_logic` is VLC's `--adaptive-logic` (e.g. "highest": one rendition, no switching);
    `rate` is its `--rate` (playback speed; 4 plays a 20 s stream in about 5 s).
    """
    runuser = shutil.which("runuser")
    if os.geteuid() == 0 and runuser is None:
        raise FileNotFoundError("VLC refuses to run as root and runuser is missing")
    with tempfile.TemporaryDirectory(prefix="vlc-home-") as home:
        os.chmod(home, 0o777)  # nobody writes VLC's config/cache here
        extra = [f"--adaptive-logic={adaptive_logic}"] if adaptive_logic else []
        if rate is not None:
            extra.append(f"--rate={rate:g}")
        command = ["env", f"HOME={home}", CVLC, *VLC_ARGS, *extra, url]
        if os.geteuid() == 0:
            command = [runuser, "-u", RUN_AS_USER, "--", *command]
        run = run_bounded(command, timeout, cwd=home)
    lines = [line for line in (run.stderr + "\n" + run.stdout).splitlines() if line.strip()]
    return parse_vlc_log(lines, run.returncode, run.elapsed, run.timed_out)


def parse_vlc_log(lines: list[str], returncode: int | None, elapsed: float, timed_out: bool) -> VlcReport:
    """Count the problem lines in a `-vv` VLC log."""
    counts = {"discontinuities": 0, "late": 0, "corrupt": 0, "errors": 0, "http_errors": 0, "decoder_errors": 0}
    problems: list[str] = []
    fetched: list[tuple[str, int]] = []
    reached_eof = False
    for line in lines:
        if CONFIGURE_LINE_RE.search(line):
            continue
        reached_eof = reached_eof or bool(EOF_RE.search(line))
        if fetch := SEGMENT_FETCH_RE.search(line):
            fetched.append((fetch["rendition"], int(fetch["index"])))
        level_match = LEVEL_RE.match(line)
        level = level_match.group(1) if level_match else None
        hit = False
        for key, pattern in (
            ("discontinuities", DISCONTINUITY_RE),
            ("corrupt", CORRUPT_RE),
            ("http_errors", HTTP_ERROR_RE),
            ("decoder_errors", DECODER_ERROR_RE),
        ):
            if pattern.search(line):
                counts[key] += 1
                hit = True
        if level in ("warning", "error") and LATE_RE.search(line):
            counts["late"] += 1
            hit = True
        if level == "error" and not BENIGN_ERROR_RE.search(line):
            counts["errors"] += 1
            hit = True
        if hit:
            problems.append(line)
    return VlcReport(
        returncode=returncode,
        elapsed=elapsed,
        timed_out=timed_out,
        reached_eof=reached_eof,
        segments_fetched=fetched,
        problem_lines=problems,
        log_lines=lines,
        **counts,
    )
