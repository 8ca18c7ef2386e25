"""Parsing in the benchmark's load tools: wrk's output and media playlists."""

from __future__ import annotations

from fractions import Fraction

from bench.http_load import _megabytes, _milliseconds
from bench.players import segment_starts


def test_wrk_durations_and_sizes_are_read_in_their_units():
    assert _milliseconds("850.00us") == 0.85
    assert _milliseconds("12.5ms") == 12.5
    assert _milliseconds("1.41s") == 1410.0
    assert round(_megabytes("2.68GB"), 1) == round(2.68 * 1e3 * 1.048576, 1)
    assert _megabytes("512B") == 512e-6


def test_segment_starts_accumulate_extinf_durations():
    playlist = "#EXTM3U\n#EXTINF:1.000000,\n0.ts\n#EXTINF:2.000000,\n1.ts\n#EXTINF:4.000000,\n2.ts\n#EXT-X-ENDLIST\n"
    assert segment_starts(playlist) == [("0.ts", Fraction(0)), ("1.ts", Fraction(1)), ("2.ts", Fraction(3))]
