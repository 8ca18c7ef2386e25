import numpy as np

from playlists.cues import Cue
from playlists.media import AAC_FRAME_SIZE
from segmenter.audio import CUE_AMPLITUDE, MUSIC_GAIN, synthesize

CUE = Cue(start_sample=10_000, length_samples=7_200, frequency=880.0)


def test_silence_outside_cues_and_a_tone_inside():
    samples = synthesize(0, 20_000, (CUE,))
    assert samples.shape == (2, 20_000)
    assert not samples[:, :10_000].any()
    assert not samples[:, 17_200:].any()
    assert np.abs(samples[0, 10_000:17_200]).max() > CUE_AMPLITUDE * 0.95


def test_the_tone_has_the_cues_frequency():
    tone = synthesize(CUE.start_sample, CUE.length_samples, (CUE,))[0]
    spectrum = np.abs(np.fft.rfft(tone))
    peak_hz = np.argmax(spectrum) * 48_000 / len(tone)
    assert abs(peak_hz - 880) < 10


def test_samples_are_the_same_whichever_range_asks_for_them():
    music = np.random.default_rng(1).uniform(-1, 1, (2, 5000)).astype(np.float32)
    whole = synthesize(8_000, 12 * AAC_FRAME_SIZE, (CUE,), music)
    pieces = np.concatenate(
        [synthesize(8_000 + k * AAC_FRAME_SIZE, AAC_FRAME_SIZE, (CUE,), music) for k in range(12)], axis=1
    )
    assert np.array_equal(whole, pieces)


def test_tone_fades_in_and_out_without_a_step():
    tone = synthesize(CUE.start_sample, CUE.length_samples, (CUE,))[0]
    assert abs(tone[0]) < 1e-6 and abs(tone[-1]) < 1e-3
    assert np.abs(np.diff(tone)).max() < 0.06


def test_music_loops_under_the_cues_and_is_silent_before_the_start():
    music = np.vstack([np.linspace(-1, 1, 1000), np.linspace(1, -1, 1000)]).astype(np.float32)
    samples = synthesize(-500, 3000, (), music)
    assert not samples[:, :500].any()
    assert np.allclose(samples[:, 500:1500], MUSIC_GAIN * music, atol=1e-6)
    assert np.allclose(samples[:, 1500:2500], MUSIC_GAIN * music, atol=1e-6)
