"""A known-good reference HLS VOD stream and a CORS-enabled static server for it.

The harness self-tests need a stream whose correct playback is beyond doubt, made by
ffmpeg's own HLS muxer from synthetic sources, so any client failure on it is a
harness (or client) problem, not a server problem. Broken variants of it prove that
the harness notices real defects.
"""

from __future__ import annotations

import functools
import http.server
import itertools
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from ._http import serve_in_thread

SECONDS = 8
FPS = 30
WIDTH = 640
HEIGHT = 360
SAMPLE_RATE = 48000
SEGMENT_SECONDS = 2
GOP_FRAMES = FPS * SEGMENT_SECONDS
VIDEO_FRAMES = SECONDS * FPS
AAC_FRAME_SAMPLES = 1024
SEGMENT_COUNT = SECONDS // SEGMENT_SECONDS

MEDIA_PLAYLIST = "stream.m3u8"
MULTIVARIANT_PLAYLIST = "master.m3u8"
MISSING_SEGMENT_PLAYLIST = "missing_segment.m3u8"
"""Lists one segment more than exists: the last URI answers 404."""
RESTARTING_PLAYLIST = "restarting.m3u8"
"""Segments encoded one by one: timestamps and TS continuity counters restart in each,
with no EXT-X-DISCONTINUITY (what a naive on-demand segmenter produces)."""

ENCODE_TIMEOUT_SECONDS = 60

LADDER_RUNGS = (("low", 640, 360, "500k"), ("high", 1280, 720, "2000k"))
"""A two-rendition ladder: VLC's own adaptive logic starts on the lowest and moves up after segment 0."""
LADDER_SEGMENT_SECONDS = 2


def ladder_playlist(first_segment_seconds: int) -> str:
    """Multivariant playlist of the ladder whose segment 0 lasts `first_segment_seconds`."""
    return f"ladder-{first_segment_seconds}s/{MULTIVARIANT_PLAYLIST}"

MIME_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".aac": "audio/aac",
}


@dataclass(frozen=True)
class ReferenceStream:
    """Files of the reference stream and what a correct decode must produce."""

    directory: Path
    video_frames: int
    audio_samples: int
    """Samples in the AAC packets, counted by ffprobe (AAC priming included)."""
    duration: float
    width: int
    height: int


def _encode_args(seconds: float) -> list[str]:
    """ffmpeg input + codec arguments shared by the good and the broken streams."""
    return [
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={SAMPLE_RATE}",
        "-t", str(seconds),
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-g", str(GOP_FRAMES), "-keyint_min", str(GOP_FRAMES), "-sc_threshold", "0", "-bf", "0",
        # The AAC encoder stamps its first (priming) packet 1024 samples before the
        # first input sample; shift the input by that much so audio and video both
        # start at the same PTS and MSE's buffered range starts at 0, not at 21 ms.
        "-af", f"asetpts=PTS+{AAC_FRAME_SAMPLES}/(SR*TB)",
        "-c:a", "aac", "-ac", "2", "-b:a", "128k",
    ]


def make_reference_hls(directory: Path) -> ReferenceStream:
    """Encode the reference stream into `directory` (H.264 + stereo AAC in MPEG-TS),
    plus the broken playlists named by MISSING_SEGMENT_PLAYLIST and RESTARTING_PLAYLIST."""
    directory.mkdir(parents=True, exist_ok=True)
    argv = [
        *_encode_args(SECONDS),
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
        "-hls_segment_filename", str(directory / "seg%03d.ts"),
        "-master_pl_name", MULTIVARIANT_PLAYLIST,
        str(directory / MEDIA_PLAYLIST),
    ]
    subprocess.run(argv, check=True, timeout=ENCODE_TIMEOUT_SECONDS)
    _write_missing_segment_playlist(directory)
    _write_restarting_stream(directory)
    return ReferenceStream(
        directory=directory,
        video_frames=VIDEO_FRAMES,
        audio_samples=_count_aac_samples(sorted(directory.glob("seg*.ts"))),
        duration=float(SECONDS),
        width=WIDTH,
        height=HEIGHT,
    )


def _count_aac_samples(segments: list[Path]) -> int:
    """Samples a decoder must output: AAC packets in all segments x 1024."""
    packets = 0
    for segment in segments:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "a:0", "-count_packets",
             "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", str(segment)],
            check=True, capture_output=True, text=True, timeout=ENCODE_TIMEOUT_SECONDS,
        ).stdout
        # MPEG-TS lists the stream under its program too: same count twice.
        packets += int(out.split()[0])
    return packets * AAC_FRAME_SAMPLES


def _write_missing_segment_playlist(directory: Path) -> None:
    """Copy the media playlist with one extra, non-existent segment before ENDLIST."""
    text = (directory / MEDIA_PLAYLIST).read_text()
    missing = f"#EXTINF:{SEGMENT_SECONDS:.6f},\nseg{SEGMENT_COUNT:03d}.ts\n"
    assert not (directory / f"seg{SEGMENT_COUNT:03d}.ts").exists()
    (directory / MISSING_SEGMENT_PLAYLIST).write_text(text.replace("#EXT-X-ENDLIST", missing + "#EXT-X-ENDLIST"))


def _write_restarting_stream(directory: Path) -> None:
    """Encode each segment as its own MPEG-TS file (timestamps restart at 1.4 s and
    continuity counters at 0 in every one) and list them without DISCONTINUITY tags."""
    lines = [
        "#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{SEGMENT_SECONDS}",
        "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD",
    ]
    for index in range(SEGMENT_COUNT):
        name = f"restart{index:03d}.ts"
        subprocess.run([*_encode_args(SEGMENT_SECONDS), "-f", "mpegts", str(directory / name)],
                       check=True, timeout=ENCODE_TIMEOUT_SECONDS)
        lines += [f"#EXTINF:{SEGMENT_SECONDS:.6f},", name]
    lines.append("#EXT-X-ENDLIST")
    (directory / RESTARTING_PLAYLIST).write_text("\n".join(lines) + "\n")


def make_switching_ladder(directory: Path, first_segment_seconds: int) -> None:
    """ffmpeg's own HLS ladder (`-var_stream_map`) of the synthetic source, its first segment
    `first_segment_seconds` long (`-hls_init_time`) and the rest LADDER_SEGMENT_SECONDS, written
    where `ladder_playlist` points. With a first segment no longer than VLC's 1 s of input
    buffering, VLC's switch after segment 0 logs `buffer deadlock prevented` (docs/interop.md)."""
    target = directory / ladder_playlist(first_segment_seconds)
    target.parent.mkdir(parents=True, exist_ok=True)
    first, step = first_segment_seconds * FPS, LADDER_SEGMENT_SECONDS * FPS
    split = ";".join(
        [f"[0:v]split={len(LADDER_RUNGS)}" + "".join(f"[s{i}]" for i in range(len(LADDER_RUNGS)))]
        + [f"[s{i}]scale={w}:{h}[v{i}]" for i, (_, w, h, _) in enumerate(LADDER_RUNGS)]
    )
    argv = [
        "ffmpeg", "-nostdin", "-v", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={LADDER_RUNGS[-1][1]}x{LADDER_RUNGS[-1][2]}:rate={FPS}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={SAMPLE_RATE}",
        "-t", str(SECONDS), "-filter_complex", split,
    ]
    for index in range(len(LADDER_RUNGS)):
        argv += ["-map", f"[v{index}]", "-map", "1:a"]
    argv += [
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-bf", "0", "-sc_threshold", "0",
        "-g", str(VIDEO_FRAMES), "-force_key_frames", f"expr:eq(n,0)+gte(n,{first})*eq(mod(n-{first},{step}),0)",
        *itertools.chain.from_iterable((f"-b:v:{i}", rate) for i, (*_, rate) in enumerate(LADDER_RUNGS)),
        "-c:a", "aac", "-ac", "2", "-b:a", "128k",
        "-f", "hls", "-hls_init_time", str(first_segment_seconds), "-hls_time", str(LADDER_SEGMENT_SECONDS),
        "-hls_playlist_type", "vod", "-hls_segment_filename", str(target.parent / "%v" / "%d.ts"),
        "-master_pl_name", MULTIVARIANT_PLAYLIST,
        "-var_stream_map", " ".join(f"v:{i},a:{i},name:{name}" for i, (name, *_) in enumerate(LADDER_RUNGS)),
        str(target.parent / "%v" / "index.m3u8"),
    ]
    subprocess.run(argv, check=True, timeout=ENCODE_TIMEOUT_SECONDS)


class _CorsHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with HLS MIME types and `Access-Control-Allow-Origin: *`."""

    extensions_map: ClassVar[dict[str, str]] = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self.send_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "*")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_directory(directory: Path) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 (free port) in a thread; yields the base URL."""

    handler = functools.partial(_CorsHandler, directory=str(directory))
    with serve_in_thread(handler, "reference-hls-http") as base:
        yield base


def have(binary: str) -> bool:
    """True if `binary` is on PATH (clients are skipped, not failed, when absent)."""
    return shutil.which(binary) is not None
