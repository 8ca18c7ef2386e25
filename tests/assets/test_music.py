from pathlib import Path

import av
import numpy as np

from assets.music import LOOP_SAMPLES, SAMPLE_RATE, generate_music, groove


def test_the_groove_loops_without_a_seam():
    samples = groove()
    assert samples.shape == (2, LOOP_SAMPLES) and np.abs(samples).max() <= 0.9 + 1e-6
    steps = np.abs(np.diff(samples, axis=1))
    seam = np.abs(samples[:, 0] - samples[:, -1])
    assert (seam <= np.percentile(steps, 99.9, axis=1)).all()


def test_generated_track_decodes_to_the_loop_at_48k_stereo(tmp_path: Path):
    (entry,) = generate_music(tmp_path / "music")
    assert entry == {"id": "groove", "name": "Studio groove", "file": "music/groove.flac", "loop_seconds": 8.0}
    with av.open(str(tmp_path / entry["file"])) as container:
        stream = container.streams.audio[0]
        assert (stream.sample_rate, stream.channels) == (SAMPLE_RATE, 2)
        decoded = sum(frame.samples for frame in container.decode(stream))
    assert decoded == LOOP_SAMPLES


def test_an_existing_track_is_kept(tmp_path: Path):
    generate_music(tmp_path / "music")
    path = tmp_path / "music" / "groove.flac"
    before = path.stat().st_mtime_ns
    generate_music(tmp_path / "music")
    assert path.stat().st_mtime_ns == before
