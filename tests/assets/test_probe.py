"""probe_clip describes real clips from their decoded frames and refuses files that are not video."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from assets.probe import ClipInfo, ClipProbeError, has_alpha, probe_clip
from assets.samples import SAMPLE_EXERCISES, encode_clip

SAMPLES = {sample.id: sample for sample in SAMPLE_EXERCISES}


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One H.264 and one ProRes 4444 sample, the smallest of each."""
    directory = tmp_path_factory.mktemp("probe")
    for exercise_id in ("jumping_jack", "lunge"):
        sample = SAMPLES[exercise_id]
        encode_clip(sample, directory / sample.clip_name)
    return directory


def test_h264_clip(clips: Path) -> None:
    assert probe_clip(clips / "jumping_jack.mp4") == ClipInfo(
        width=1280,
        height=720,
        fps=Fraction(30),
        frames=36,
        duration_seconds=pytest.approx(1.2),
        alpha=False,
        codec="h264",
        pix_fmt="yuv420p",
    )


def test_prores_clip_with_alpha(clips: Path) -> None:
    info = probe_clip(clips / "lunge.mov")
    assert (info.width, info.height, info.fps, info.frames) == (1280, 720, Fraction(25), 80)
    assert info.duration_seconds == pytest.approx(3.2)
    assert info.alpha and info.codec == "prores"
    assert info.pix_fmt.startswith("yuva444p")


def test_extension_does_not_matter(clips: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "lunge.mp4"
    renamed.write_bytes((clips / "lunge.mov").read_bytes())
    assert probe_clip(renamed) == probe_clip(clips / "lunge.mov")


def test_text_file_named_mov(tmp_path: Path) -> None:
    path = tmp_path / "notes.mov"
    path.write_text("these are not the frames you are looking for\n" * 20)
    with pytest.raises(ClipProbeError, match="notes.mov"):
        probe_clip(path)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(ClipProbeError):
        probe_clip(tmp_path / "absent.mp4")
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(ClipProbeError):
        probe_clip(empty)


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "tone.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=48000, layout="mono")
        samples = (np.sin(np.arange(48000) * 2 * np.pi * 440 / 48000) * 0.2).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
        frame.sample_rate = 48000
        frame.pts = 0
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(ClipProbeError, match="no video stream"):
        probe_clip(path)


def test_has_alpha() -> None:
    assert has_alpha("yuva444p12le") and has_alpha("rgba") and has_alpha("yuva420p")
    assert not has_alpha("yuv420p") and not has_alpha("yuv444p10le") and not has_alpha("rgb24")
