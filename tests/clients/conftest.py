"""Pytest wiring for the client harness: the `clients` marker and the reference stream."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .reference import ReferenceStream, have, make_reference_hls, make_switching_ladder, serve_directory


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clients: plays streams in real players")


@pytest.fixture(scope="session")
def reference_stream() -> Iterator[ReferenceStream]:
    """The known-good reference HLS stream (and its broken variants), encoded once."""
    if not have("ffmpeg") or not have("ffprobe"):
        pytest.skip("ffmpeg/ffprobe not installed: cannot encode the reference stream")
    with tempfile.TemporaryDirectory(prefix="hls-reference-") as directory:
        yield make_reference_hls(Path(directory))


@pytest.fixture(scope="session")
def reference_base_url(reference_stream: ReferenceStream) -> Iterator[str]:
    """Base URL (http://127.0.0.1:PORT) of a CORS-enabled server for the reference files."""
    with serve_directory(reference_stream.directory) as base:
        yield base


SWITCHING_FIRST_SEGMENTS = (1, 2)
"""Ladders whose segment 0 lasts 1 s (VLC's switch after it logs a decoder error) and 2 s (it does not)."""


@pytest.fixture(scope="session")
def switching_ladders_url() -> Iterator[str]:
    """Base URL of the ffmpeg-made two-rendition ladders (`reference.ladder_playlist`)."""
    if not have("ffmpeg"):
        pytest.skip("ffmpeg not installed: cannot encode the reference ladders")
    with tempfile.TemporaryDirectory(prefix="hls-ladders-") as directory:
        for seconds in SWITCHING_FIRST_SEGMENTS:
            make_switching_ladder(Path(directory), seconds)
        with serve_directory(Path(directory)) as base:
            yield base
