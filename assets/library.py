"""Make sure a usable exercise library exists: generate the samples on first start."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from assets.catalogue import CatalogueError, load_catalogue, write_catalogue


def library_is_complete(clips_dir: Path) -> bool:
    try:
        catalogue = load_catalogue(clips_dir)
    except CatalogueError:
        return False
    return bool(catalogue.exercises) and all(e.clip_path.is_file() for e in catalogue.exercises.values())


def ensure_sample_library(clips_dir: Path, *, announce: bool = False) -> None:
    """Generate the sample clips and catalogue unless a complete library is already there."""
    if library_is_complete(clips_dir):
        return
    from assets.samples import generate_samples  # heavy drawing code, only needed once

    if announce:
        print(f"generating sample exercise clips in {clips_dir} ...", file=sys.stderr, flush=True)
    started = time.monotonic()
    clips_dir.mkdir(parents=True, exist_ok=True)
    write_catalogue(clips_dir, generate_samples(clips_dir))
    if announce:
        print(f"sample library ready in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
