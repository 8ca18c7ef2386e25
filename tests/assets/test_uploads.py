"""Upload checks against real files made at test time with the ffmpeg CLI: good clips are described
correctly, bad ones are refused with the right status before anything is stored, and a long clip is
refused from its header without reading its packets."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from fractions import Fraction
from pathlib import Path

import av
import pytest

from assets.uploads import ClipProbe, ClipRejected, UploadLimits, receive_upload, validate_clip

TOO_LARGE, NOT_A_VIDEO, OUT_OF_RANGE = 413, 415, 422
DEFAULT_LIMITS = UploadLimits()


FFMPEG = ["ffmpeg", "-v", "error", "-nostdin", "-y"]


def ffmpeg(*args: str) -> None:
    subprocess.run([*FFMPEG, *args], check=True)


def colour_input(size: str, fps: int, seconds: float) -> list[str]:
    """A solid-colour H.264 clip: cheap to encode at any length."""
    source = f"color=c=orange:s={size}:r={fps}:d={seconds}"
    return ["-f", "lavfi", "-i", source, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("uploads")
    ffmpeg(*colour_input("320x240", 30, 2), str(directory / "good.mp4"))
    ffmpeg(*colour_input("320x240", 30, 0.5), str(directory / "short.mp4"))
    ffmpeg(*colour_input("64x64", 5, 2), str(directory / "five_fps.mp4"))
    ffmpeg(*colour_input("4096x2160", 15, 1), str(directory / "wide.mp4"))
    ffmpeg(*colour_input("16x16", 15, 7200), str(directory / "two_hours.mp4"))
    ffmpeg("-i", str(directory / "two_hours.mp4"), "-c", "copy", str(directory / "two_hours.mkv"))
    # Written to a pipe, Matroska carries no duration and no frame count: both must come from the packets.
    for name, seconds in (("streamed.mkv", 2), ("streamed_long.mkv", 90)):
        with open(directory / name, "wb") as out:
            command = [*FFMPEG, *colour_input("16x16", 15, seconds), "-f", "matroska", "pipe:1"]
            subprocess.run(command, stdout=out, check=True)
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:duration=3", "-c:a", "aac", str(directory / "audio_only.mp4"))
    (directory / "notes.mov").write_text("warm up, then three rounds of squats\n" * 40)
    return directory


def rejection(path: Path, limits: UploadLimits = DEFAULT_LIMITS) -> ClipRejected:
    with pytest.raises(ClipRejected) as raised:
        validate_clip(path, limits)
    return raised.value


def test_a_good_h264_clip_is_described_from_its_header_and_first_frame(media: Path) -> None:
    assert validate_clip(media / "good.mp4") == ClipProbe(
        fps=Fraction(30),
        frames=60,
        width=320,
        height=240,
        alpha=False,
        codec="h264",
        duration_seconds=2.0,
        size_bytes=(media / "good.mp4").stat().st_size,
    )


def test_a_prores_4444_clip_with_alpha_is_accepted(sample_clips_dir: Path) -> None:
    path = sample_clips_dir / "lunge.mov"
    assert validate_clip(path) == ClipProbe(
        fps=Fraction(25),
        frames=80,
        width=1280,
        height=720,
        alpha=True,
        codec="prores",
        duration_seconds=3.2,
        size_bytes=path.stat().st_size,
    )


def test_frames_are_counted_from_packets_when_the_header_has_no_count(media: Path) -> None:
    probe = validate_clip(media / "streamed.mkv")
    assert (probe.frames, probe.fps, probe.duration_seconds) == (30, Fraction(15), 2.0)


def test_a_text_file_named_mov_is_not_a_video(media: Path) -> None:
    assert rejection(media / "notes.mov").status == NOT_A_VIDEO


def test_an_empty_file_is_not_a_video(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").touch()
    assert rejection(tmp_path / "empty.mp4").status == NOT_A_VIDEO


def test_an_audio_only_file_has_no_video_stream(media: Path) -> None:
    refused = rejection(media / "audio_only.mp4")
    assert refused.status == NOT_A_VIDEO
    assert "no video stream" in refused.reason


def test_a_clip_with_its_video_packets_corrupted_is_not_a_video(media: Path, tmp_path: Path) -> None:
    data = bytearray((media / "good.mp4").read_bytes())
    mdat = data.index(b"mdat") + 4
    data[mdat : mdat + 2000] = b"\xff" * 2000
    (tmp_path / "corrupt.mp4").write_bytes(data)
    assert rejection(tmp_path / "corrupt.mp4").status == NOT_A_VIDEO


@pytest.fixture(scope="module")
def demux_seconds(media: Path) -> float:
    """How long merely reading every packet of the two-hour clip takes on this machine, now."""
    started = time.perf_counter()
    with av.open(str(media / "two_hours.mp4")) as container:
        for _ in container.demux(video=0):
            pass
    return time.perf_counter() - started


@pytest.mark.parametrize("name", ["two_hours.mp4", "two_hours.mkv"])
def test_a_two_hour_clip_is_refused_from_its_header_without_reading_it(media, demux_seconds, name) -> None:
    started = time.perf_counter()
    refused = rejection(media / name)
    elapsed = time.perf_counter() - started
    assert refused.status == OUT_OF_RANGE
    assert "7200" in refused.reason
    assert elapsed < demux_seconds / 4, f"took {elapsed:.3f} s; reading all packets takes {demux_seconds:.3f} s"


def test_a_long_clip_without_a_declared_duration_is_refused_by_counting_up_to_the_limit(media: Path) -> None:
    refused = rejection(media / "streamed_long.mkv")
    assert refused.status == OUT_OF_RANGE
    assert "more than 60" in refused.reason


def test_a_clip_shorter_than_the_minimum_is_refused(media: Path) -> None:
    refused = rejection(media / "short.mp4")
    assert refused.status == OUT_OF_RANGE
    assert "minimum" in refused.reason


def test_a_clip_over_the_byte_limit_is_too_large(media: Path) -> None:
    size = (media / "good.mp4").stat().st_size
    assert rejection(media / "good.mp4", UploadLimits(max_bytes=size - 1)).status == TOO_LARGE
    assert validate_clip(media / "good.mp4", UploadLimits(max_bytes=size)).size_bytes == size


def test_a_five_fps_clip_is_refused_for_its_frame_rate(media: Path) -> None:
    refused = rejection(media / "five_fps.mp4")
    assert refused.status == OUT_OF_RANGE
    assert "frame rate" in refused.reason


def test_a_clip_wider_than_4k_uhd_is_refused_for_its_size(media: Path) -> None:
    refused = rejection(media / "wide.mp4")
    assert refused.status == OUT_OF_RANGE
    assert "4096x2160" in refused.reason


def test_inconsistent_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        UploadLimits(min_seconds=10, max_seconds=5)


async def body(chunks: list[bytes], pulled: list[int] | None = None) -> AsyncIterator[bytes]:
    for chunk in chunks:
        if pulled is not None:
            pulled.append(len(chunk))
        yield chunk


def test_an_upload_body_is_written_whole_and_in_order(tmp_path: Path) -> None:
    chunks = [bytes([index]) * 1000 for index in range(10)]
    path = asyncio.run(receive_upload(body(chunks), tmp_path / "incoming", 10_000))
    assert path.parent == tmp_path / "incoming"
    assert path.read_bytes() == b"".join(chunks)


def test_an_oversized_upload_is_refused_as_soon_as_it_passes_the_limit(tmp_path: Path) -> None:
    pulled: list[int] = []
    with pytest.raises(ClipRejected) as raised:
        asyncio.run(receive_upload(body([b"\0" * 4096] * 100, pulled), tmp_path, 10_000))
    assert raised.value.status == TOO_LARGE
    assert len(pulled) == 3  # 3 x 4096 is the first total past 10 000 bytes; the rest is never read
    assert list(tmp_path.iterdir()) == []


def test_a_body_that_breaks_off_leaves_no_file(tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * 1000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        asyncio.run(receive_upload(broken(), tmp_path, 10_000))
    assert list(tmp_path.iterdir()) == []


def test_a_received_upload_validates_like_the_file_itself(media: Path, tmp_path: Path) -> None:
    data = (media / "good.mp4").read_bytes()
    chunks = [data[offset : offset + 65536] for offset in range(0, len(data), 65536)]
    path = asyncio.run(receive_upload(body(chunks), tmp_path, len(data)))
    assert validate_clip(path) == validate_clip(media / "good.mp4")
