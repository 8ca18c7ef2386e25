"""Pytest wiring for the client harness: the `clients` marker and the reference stream."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .reference import ReferenceStream, have, make_reference_hls, serve_directory


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
