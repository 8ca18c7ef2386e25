"""Reading gst-launch's output: what counts as a clean play, and GStreamer's own exposure race, which is
played again once and never taken for the stream's fault."""

from __future__ import annotations

from tests.clients import gstreamer_client
from tests.clients._process import Completed
from tests.clients.gstreamer_client import EXPOSURE_RACE, parse_gst_output, play_with_gstreamer

# What hlsdemux2 printed in the full run that lost the race (every segment had been answered 200).
RACE_STDERR = "\n".join(
    [
        "0:00:00.173852828 14322 0x7fbab004d9e0 ERROR         adaptivedemux2 "
        "gstadaptivedemux-stream.c:1641:gst_adaptive_demux2_stream_end_of_manifest:<hlsdemux2-0> "
        f"{EXPOSURE_RACE}",
        "0:00:00.181627494 14322 0x7fbab004d9e0 ERROR         adaptivedemux2 "
        "gstadaptivedemux-stream.c:1602:gst_adaptive_demux2_stream_error:<hlsstream-variant> "
        "Download error: Couldn't download fragments, too many failures",
    ]
)
RACE_STDOUT = (
    "ERROR: from element /GstPlayBin3:playbin3-0/GstURIDecodeBin3:uridecodebin3/GstURISourceBin:"
    "urisourcebin0/GstHLSDemux2:hlsdemux2-0: Couldn't download fragments\n"
)
CLEAN_STDOUT = "\n".join(
    [
        "/GstPlayBin3:playbin3-0/GstFakeSink:videosink: last-message = chain   ******* (videosink:sink) "
        "(1382400 bytes, dts: none, pts: 0:00:00.000000000, duration: 0:00:00.033333333)",
        "/GstPlayBin3:playbin3-0/GstFakeSink:videosink: last-message = chain   ******* (videosink:sink) "
        "(1382400 bytes, dts: none, pts: 0:00:00.033333333, duration: 0:00:00.033333333)",
        'Got EOS from element "playbin3-0".',
    ]
)


def completed(stdout: str, stderr: str = "", returncode: int = 0) -> Completed:
    return Completed(returncode=returncode, stdout=stdout, stderr=stderr, elapsed=0.2, timed_out=False)


def test_a_clean_play_counts_its_frames_and_reaches_eos():
    report = parse_gst_output(CLEAN_STDOUT, "", 0, 1.0, False)
    assert report.clean and report.video_buffers == 2 and report.video_pts == [0.0, 0.033333333]
    assert not report.lost_exposure_race


def test_the_exposure_race_is_recognised_only_when_nothing_was_decoded():
    lost = parse_gst_output(RACE_STDOUT, RACE_STDERR, 1, 0.2, False)
    assert lost.lost_exposure_race and not lost.clean
    decoded_first = parse_gst_output(CLEAN_STDOUT + "\n" + RACE_STDOUT, RACE_STDERR, 1, 0.2, False)
    assert not decoded_first.lost_exposure_race  # frames came out: the stream was judged


def test_other_download_errors_are_not_the_exposure_race():
    stderr = RACE_STDERR.splitlines()[1]  # too many failures, as a server answering 404 or 503 causes
    assert not parse_gst_output(RACE_STDOUT, stderr, 1, 0.2, False).lost_exposure_race


def test_a_lost_exposure_race_is_played_again_once_and_reported(monkeypatch):
    runs = [completed(RACE_STDOUT, RACE_STDERR, 1), completed(CLEAN_STDOUT)]
    monkeypatch.setattr(gstreamer_client, "run_bounded", lambda argv, timeout, env: runs.pop(0))
    report = play_with_gstreamer("http://127.0.0.1:1/master.m3u8")
    assert report.clean and report.exposure_races == 1 and report.video_buffers == 2
    assert runs == []


def test_the_second_attempt_is_judged_on_its_own_and_there_is_no_third(monkeypatch):
    runs = [completed(RACE_STDOUT, RACE_STDERR, 1), completed(RACE_STDOUT, RACE_STDERR, 1)]
    monkeypatch.setattr(gstreamer_client, "run_bounded", lambda argv, timeout, env: runs.pop(0))
    report = play_with_gstreamer("http://127.0.0.1:1/master.m3u8")
    assert not report.clean and report.exposure_races == 1 and report.lost_exposure_race
    assert runs == []
