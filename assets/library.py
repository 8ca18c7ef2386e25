"""Make sure a usable exercise library exists: generate the samples on first start."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from assets.catalogue import CatalogueError, load_catalogue, write_catalogue

MUSIC_DIR = "music"
log = logging.getLogger(__name__)


def library_is_complete(clips_dir: Path) -> bool:
    """Every clip the catalogue names is there; and a sample library written by an older release
    (only sample ids, fewer than today) counts as incomplete, so it gains the new samples."""
    from assets.samples import SAMPLE_EXERCISES

    try:
        catalogue = load_catalogue(clips_dir)
    except CatalogueError:
        return False
    files = [e.clip_path for e in catalogue.exercises.values()] + [t.path for t in catalogue.music.values()]
    samples = {sample.id for sample in SAMPLE_EXERCISES}
    older_samples = set(catalogue.exercises) < samples
    return bool(catalogue.exercises) and bool(catalogue.music) and all(p.is_file() for p in files) and not older_samples


def ensure_sample_library(clips_dir: Path, *, announce: bool = False) -> None:
    """Generate the sample clips and catalogue unless a complete library is already there."""
    if library_is_complete(clips_dir):
        return
    from assets.music import generate_music  # generators: only needed once
    from assets.samples import generate_samples

    if announce:
        log.info("generating sample exercise clips in %s ...", clips_dir)
    started = time.monotonic()
    clips_dir.mkdir(parents=True, exist_ok=True)
    write_catalogue(clips_dir, generate_samples(clips_dir), generate_music(clips_dir / MUSIC_DIR))
    if announce:
        log.info("sample library ready in %.1f s", time.monotonic() - started)
