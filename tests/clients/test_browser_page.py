"""How the page harness builds its page, starts a browser and reads a report: a stall is the stream's fault
only when data was missing.

No browser needed: these feed `_report` the JSON the page posts.
"""

from __future__ import annotations

from pathlib import Path

from .browser_page import BUFFER_STALLED_ERROR, FIREFOX, _report, page_html


def report_of(raw: dict):
    return _report(raw, seeks_back=False, elapsed=1.0, timed_out=False, no_report_reason=None, browser_log="")


def stalled_error(ahead: float, to_end: bool = False, fatal: bool = False) -> dict:
    return {"details": BUFFER_STALLED_ERROR, "fatal": fatal, "ahead": ahead, "toEnd": to_end, "episode": 1}


def test_a_stall_with_seconds_buffered_ahead_is_the_decoder_not_the_stream():
    # As measured: 13 s buffered at the playhead, 4x playback on a busy machine.
    report = report_of({
        "stalls": 1,
        "stallEvents": [{"episode": 1, "kind": "waiting", "ahead": 13.2, "toEnd": True}],
        "errors": [stalled_error(13.2, to_end=True)],
    })
    assert (report.stalls, report.decoder_stalls) == (0, 1)
    assert report.stream_errors == []
    assert len(report.errors) == 1  # still reported as it happened


def test_a_stall_with_nothing_buffered_ahead_is_counted_against_the_stream():
    report = report_of({
        "stalls": 1,
        "stallEvents": [{"episode": 1, "kind": "waiting", "ahead": 0.1, "toEnd": False}],
        "errors": [stalled_error(0.1)],
    })
    assert (report.stalls, report.decoder_stalls) == (1, 0)
    assert report.stream_errors == report.errors


def test_the_last_fraction_of_a_second_counts_as_buffered_when_it_reaches_the_end():
    report = report_of({"stallEvents": [{"episode": 1, "ahead": 0.2, "toEnd": True}], "errors": []})
    assert (report.stalls, report.decoder_stalls) == (0, 1)


def test_a_stall_on_a_fragment_already_downloaded_is_the_machine_not_the_stream():
    report = report_of({
        "stallEvents": [{"episode": 1, "kind": "waiting", "ahead": 0.1, "toEnd": False, "loaded": True}],
        "errors": [stalled_error(0.1) | {"loaded": True}],
    })
    assert (report.stalls, report.decoder_stalls) == (0, 1)
    assert report.stream_errors == []


def test_a_stall_waiting_for_a_fragment_still_downloading_is_counted_against_the_stream():
    report = report_of({"stallEvents": [{"episode": 1, "kind": "waiting", "ahead": 0.1, "toEnd": False, "loaded": False}]})
    assert (report.stalls, report.decoder_stalls) == (1, 0)


def test_one_starved_event_makes_its_whole_episode_a_data_stall():
    report = report_of({
        "stallEvents": [
            {"episode": 1, "ahead": 5.0, "toEnd": False},
            {"episode": 1, "ahead": 0.0, "toEnd": False},
            {"episode": 2, "ahead": 3.0, "toEnd": False},
        ],
    })
    assert (report.stalls, report.decoder_stalls) == (1, 1)


def test_fatal_and_other_errors_always_count():
    fragment = {"details": "fragLoadError", "fatal": False, "httpStatus": 404}
    report = report_of({"errors": [stalled_error(9.0, fatal=True), fragment]})
    assert report.stream_errors == report.errors


def test_a_stall_event_without_buffer_facts_counts_as_starved():
    report = report_of({"stallEvents": [{"episode": 1, "kind": "waiting"}], "errors": [{"details": BUFFER_STALLED_ERROR}]})
    assert report.stalls == 1 and len(report.stream_errors) == 1


def test_the_page_loads_its_scripts_in_order_after_the_video_element():
    """The player library before the harness before the player's script, which uses both."""
    page = page_html("t", [Path("lib/hls.min.js"), Path("page_harness.js"), Path("hlsjs_player.js")]).decode()
    positions = [page.index(f'src="/{name}"') for name in ("hls.min.js", "page_harness.js", "hlsjs_player.js")]
    assert positions == sorted(positions) and page.index('<video id="video"') < positions[0]


def test_firefox_starts_headless_on_its_own_profile_with_a_real_time_mock_audio_device(tmp_path):
    launch = FIREFOX.launch("/usr/bin/firefox-esr", tmp_path, "http://127.0.0.1:1/?src=x")
    assert launch.argv == ["/usr/bin/firefox-esr", "--headless", "--no-remote", "--profile", str(tmp_path),
                           "http://127.0.0.1:1/?src=x"]
    assert launch.env is not None and launch.env["HOME"] == str(tmp_path) and launch.env["MOZ_HEADLESS"] == "1"
    prefs = (tmp_path / "user.js").read_text()
    assert 'user_pref("media.cubeb.force_mock_context", true);' in prefs
    assert 'user_pref("media.autoplay.default", 0);' in prefs
