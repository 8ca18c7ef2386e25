from fractions import Fraction

import pytest

from segmenter.sampling import source_frame_index


def test_same_rate_at_normal_speed_shows_each_clip_frame_once_and_loops():
    shown = [source_frame_index(n, Fraction(1), Fraction(30), 60, 30) for n in range(130)]
    assert shown == [n % 60 for n in range(130)]


def test_a_25_fps_clip_in_30_fps_output_holds_every_fifth_frame():
    shown = [source_frame_index(n, Fraction(1), Fraction(25), 80, 30) for n in range(12)]
    assert shown == [0, 0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9]


def test_a_60_fps_clip_at_half_speed_shows_every_frame():
    shown = [source_frame_index(n, Fraction(1, 2), Fraction(60), 180, 30) for n in range(5)]
    assert shown == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("speed", [Fraction(1, 2), Fraction(3, 4), Fraction(133, 100), Fraction(2)])
def test_frame_shown_is_floor_of_clip_time_never_drifting(speed):
    for n in (0, 1, 29, 30, 299, 3000, 107_999):
        exact = Fraction(n, 30) * speed  # seconds into the clip
        assert source_frame_index(n, speed, Fraction(30), 90, 30) == int(exact * 30) % 90
