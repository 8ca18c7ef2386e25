"""What the VLC report reads from a `-vv` log: segment fetches, rendition switches, decoder errors.

Lines are VLC 3's own, copied from a run of its adaptive logic on this server's ladder.
"""

from __future__ import annotations

from .vlc_client import parse_vlc_log

SWITCH_LOG = [
    "[00007f2798001160] adaptive demux debug: Retrieving http://127.0.0.1:8731/hls/f07ad/360p/0.ts",
    "[00007f27980babe0] main decoder debug: restarting module due to input format change",
    "[00007f2798001160] adaptive demux debug: Retrieving http://127.0.0.1:8731/hls/f07ad/1080p/index.m3u8",
    "[00007f2798001160] adaptive demux debug: Retrieving http://127.0.0.1:8731/hls/f07ad/1080p/1.ts",
    "[00007f279803ad10] main decoder error: buffer deadlock prevented",
    "[00007f2798001160] adaptive demux debug: Retrieving http://127.0.0.1:8731/hls/f07ad/1080p/2.ts",
    "[00007f27a0000c90] main input debug: EOF reached",
]


def test_segment_fetches_name_the_rendition_and_index_in_order():
    report = parse_vlc_log(SWITCH_LOG, 0, 10.0, False)
    assert report.segments_fetched == [("360p", 0), ("1080p", 1), ("1080p", 2)]
    assert report.renditions_fetched == ["360p", "1080p"]


def test_fmp4_media_segments_count_and_init_segments_do_not():
    lines = [
        "[0] adaptive demux debug: Retrieving http://h/hls/p/fmp4/360p/init.mp4",
        "[0] adaptive demux debug: Retrieving http://h/hls/p/fmp4/360p/0.m4s",
    ]
    assert parse_vlc_log(lines, 0, 1.0, False).segments_fetched == [("360p", 0)]


def test_a_decoder_error_is_counted_as_a_decoder_error_and_an_error():
    report = parse_vlc_log(SWITCH_LOG, 0, 10.0, False)
    assert (report.decoder_errors, report.errors) == (1, 1)
    assert report.problem_lines == ["[00007f279803ad10] main decoder error: buffer deadlock prevented"]


def test_decoder_debug_lines_are_not_decoder_errors():
    report = parse_vlc_log([line for line in SWITCH_LOG if "error" not in line], 0, 10.0, False)
    assert report.decoder_errors == 0 and report.reached_eof
