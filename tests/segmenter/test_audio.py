import numpy as np

from playlists.media import AAC_FRAME_SIZE
from segmenter.audio import BEEP_AMPLITUDE, synthesize
from segmenter.spec import Cue

CUE = Cue(start_sample=10_000, length_samples=7_200)


def test_silence_outside_cues_and_a_beep_inside():
    samples = synthesize(0, 20_000, (CUE,))
    assert samples.shape == (2, 20_000)
    assert not samples[:, :10_000].any()
    assert not samples[:, 17_200:].any()
    assert np.abs(samples[0, 10_000:17_200]).max() > BEEP_AMPLITUDE * 0.95


def test_samples_are_the_same_whichever_range_asks_for_them():
    whole = synthesize(8_000, 12 * AAC_FRAME_SIZE, (CUE,))
    pieces = np.concatenate(
        [synthesize(8_000 + k * AAC_FRAME_SIZE, AAC_FRAME_SIZE, (CUE,)) for k in range(12)], axis=1
    )
    assert np.array_equal(whole, pieces)


def test_beep_fades_in_and_out_without_a_step():
    beep = synthesize(CUE.start_sample, CUE.length_samples, (CUE,))[0]
    assert abs(beep[0]) < 1e-6 and abs(beep[-1]) < 1e-3
    assert np.abs(np.diff(beep)).max() < 0.06
