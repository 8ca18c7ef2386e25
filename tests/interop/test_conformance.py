"""The conformance checker against the live server, and against tampered copies of what it serves.

The live presentation (both containers) must pass every rule; each tampered copy, served through an
httpx.MockTransport from a snapshot of the live bytes, must fail exactly the rule its defect breaks.
"""

from __future__ import annotations

import gzip
import re
import time
from collections.abc import Callable
from fractions import Fraction

import httpx
import numpy as np
import pytest

from assets.catalogue import load_catalogue
from playlists.cues import timeline_cues
from playlists.plan import Plan
from playlists.presentation import build_presentation
from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.audio import synthesize
from segmenter.music import music_samples
from segmenter.spec import MusicRef
from tests.interop.apple_authoring import lowest_level
from tests.interop.conformance import (
    ALL_TITLES,
    FETCH_TIME_SCOPE,
    RULE_TITLES,
    RuleResult,
    check_presentation,
    format_failures,
    format_table,
)
from tests.interop.fetching import Fetched, Fetcher
from tests.interop.presentation import fetch_presentation

pytestmark = [pytest.mark.interop, pytest.mark.xdist_group("live_server")]
"""A live server and renders (with the suite, see docs/interop.md); under xdist, the tests that use
`live_server` share one worker, so the run starts and warms one."""

# 14 s: intro 3, squat 3 (+2 rest), lunge 2, outro 4, cut in <= 2 s segments: 8 segments per rendition.
PLAN = {
    "items": [
        {"exercise_id": "squat", "work_seconds": 3, "rest_seconds": 2},
        {"exercise_id": "lunge", "work_seconds": 2},
    ],
    "segment_seconds": 2,
    "music": "groove",
}
KEPT_RENDITIONS = ("720p", "360p")
"""The tampered copies list only these two variants: enough for cross-rendition rules, half the work."""
FRAME = Fraction(1, 30)
def hard_failures(results: list[RuleResult]) -> list[RuleResult]:
    """Failures other than the measured fetch time (a number about this machine's load, not a defect)."""
    return [r for r in results if r.ok is False and not r.scope.endswith(FETCH_TIME_SCOPE)]


def verdicts(results: list[RuleResult]) -> dict[tuple[int, str], bool | None]:
    return {(r.rule, r.scope): r.ok for r in results if not r.scope.endswith(FETCH_TIME_SCOPE)}


@pytest.fixture(scope="module")
def created(live_server) -> dict:
    response = httpx.post(live_server.url("/api/plans"), json=PLAN, timeout=30)
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture(scope="module")
def reference_audio(sample_clips_dir) -> Callable[[int, int], np.ndarray]:
    """The signal the server synthesises for PLAN (cues over the music), by global sample index."""
    track = load_catalogue(sample_clips_dir).music["groove"]
    music = music_samples(MusicRef(track.id, str(track.path), track.version()))
    cues = timeline_cues(build_presentation(Plan.model_validate(PLAN), DEFAULT_RENDITIONS).timeline)
    return lambda start, count: synthesize(start, count, cues, music)[0]


@pytest.fixture(scope="module", params=["ts", "fmp4"])
def live_results(request, created, reference_audio) -> tuple[str, list[RuleResult]]:
    url = created["playlist_url" if request.param == "ts" else "fmp4_playlist_url"]
    started, cpu = time.perf_counter(), time.process_time()
    results = check_presentation(url, reference_audio=reference_audio)
    print(
        f"\n{request.param}: checked in {time.perf_counter() - started:.1f} s wall, "
        f"{time.process_time() - cpu:.1f} s CPU (renders included in wall)\n"
        + format_table({f"live/{request.param}": results})
        + format_failures({f"live/{request.param}": results})
    )
    return request.param, results


def test_the_live_presentation_passes_every_rule_on_every_rendition(live_results):
    container, results = live_results
    assert {r.rule for r in results} == set(ALL_TITLES)
    not_applicable = {r.rule for r in results if r.ok is None}
    assert not_applicable == ({16, "Apple 1.10", "Apple 6.10"} if container == "ts" else {14, 15})
    unexpected = hard_failures(results)
    assert not unexpected, format_failures({container: unexpected})
    gapless = [r for r in results if r.rule == 18]
    assert len(gapless) == len(DEFAULT_RENDITIONS) and all("vs reference" in r.detail for r in gapless)


# --- tampered copies --------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot(created) -> dict[str, Fetched]:
    """Every resource of the TS presentation as the live server served it, by URL."""
    with httpx.Client(timeout=120) as client:
        fetcher = Fetcher(client)
        fetch_presentation(fetcher, created["playlist_url"])
    return {f.url: f for f in fetcher.log if f.ok}


Tamper = Callable[[str, bytes, int], bytes]
"""(url, original body, how many times this URL was asked for before) -> the body to serve."""


def keep_two_variants(url: str, body: bytes) -> bytes:
    """The multivariant playlist reduced to KEPT_RENDITIONS (variants and I-frame streams)."""
    if not url.endswith("master.m3u8"):
        return body
    lines = body.decode().splitlines(keepends=True)
    out = []
    for n, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            rendition = lines[n + 1].split("/")[0]
        elif line.startswith("#EXT-X-I-FRAME-STREAM-INF:"):
            rendition = re.search(r'URI="(?:\.\./)?(\w+)/', line).group(1)
        elif out and out[-1] is None:
            rendition = None  # the URI line of a dropped variant
            out.pop()
            continue
        else:
            rendition = KEPT_RENDITIONS[0]
        out.append(line if rendition in KEPT_RENDITIONS else None)
    return "".join(line for line in out if line is not None).encode()


def serve(
    snapshot: dict[str, Fetched], tamper: Tamper | None = None, gzip_unless: Callable[[str], bool] | None = None
) -> httpx.Client:
    """A client whose answers come from the snapshot, through `tamper`, every playlist gzipped as the server
    does (except those `gzip_unless` picks)."""
    asked: dict[str, int] = {}

    def handle(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url not in snapshot:
            return httpx.Response(404, json={"error": "not_found"})
        original = snapshot[url]
        body = keep_two_variants(url, original.body)
        if tamper is not None:
            body = tamper(url, body, asked.get(url, 0))
        asked[url] = asked.get(url, 0) + 1
        headers = {"content-type": original.content_type}
        if "gzip" in request.headers.get("accept-encoding", "") and original.content_type.endswith("mpegurl"):
            if not (gzip_unless is not None and gzip_unless(url)):
                body, headers["content-encoding"] = gzip.compress(body), "gzip"
        return httpx.Response(200, headers=headers, content=body)

    return httpx.Client(transport=httpx.MockTransport(handle))


@pytest.fixture(scope="module")
def baseline(snapshot, created) -> list[RuleResult]:
    with serve(snapshot) as client:
        return check_presentation(created["playlist_url"], client=client)


def check_tampered(snapshot, created, tamper: Tamper | None, url_key: str = "playlist_url", **serving) -> list[RuleResult]:
    with serve(snapshot, tamper, **serving) as client:
        return check_presentation(created[url_key], client=client)


@pytest.fixture(scope="module")
def both_snapshots(snapshot, created) -> dict[str, Fetched]:
    """The TS snapshot and every resource of the fMP4 presentation, by URL."""
    with httpx.Client(timeout=120) as client:
        fetcher = Fetcher(client)
        fetch_presentation(fetcher, created["fmp4_playlist_url"])
    return {**snapshot, **{f.url: f for f in fetcher.log if f.ok}}


@pytest.fixture(scope="module")
def fmp4_baseline(both_snapshots, created) -> list[RuleResult]:
    return check_tampered(both_snapshots, created, None, "fmp4_playlist_url")


def assert_only_rule_fails(baseline: list[RuleResult], tampered: list[RuleResult], rule: int, words: str) -> None:
    """Exactly `rule` changed verdict (to FAIL) somewhere, and its failure says `words`.

    A scope that is no longer there (a dropped I-frame playlist is not checked) is not a change."""
    before, after = verdicts(baseline), verdicts(tampered)
    changed = {key for key in after if key in before and before[key] != after[key]}
    changed |= {key for key in after if key not in before and after[key] is False}
    assert {key[0] for key in changed} == {rule}, format_failures({"tampered": hard_failures(tampered)})
    assert all(after.get(key) is False for key in changed)
    details = " ".join(r.detail for r in tampered if r.rule == rule and r.ok is False)
    assert words in details, details


def media_playlist(url: str, rendition: str = "720p") -> bool:
    return url.endswith(f"/{rendition}/index.m3u8")


def test_the_untampered_copy_passes_what_the_live_server_passes_and_its_audio_without_a_reference(baseline):
    assert {r.scope.split("/")[0] for r in baseline if r.rule == 2} == set(KEPT_RENDITIONS)
    assert not [r for r in hard_failures(baseline) if r.rule != 6]
    gapless = [r for r in baseline if r.rule == 18]
    assert len(gapless) == 2 and all(r.ok and "prediction residual" in r.detail for r in gapless), gapless


def test_an_extinf_two_frames_long_fails_only_extinf_is_the_truth(snapshot, created, baseline):
    def tamper(url, body, _):
        if not url.endswith("/index.m3u8"):
            return body
        text = body.decode()
        last = list(re.finditer(r"#EXTINF:([0-9.]+),", text))[-1]
        longer = f"#EXTINF:{float(Fraction(last.group(1)) + 2 * FRAME):.6f},"
        return (text[: last.start()] + longer + text[last.end() :]).encode()

    assert_only_rule_fails(baseline, check_tampered(snapshot, created, tamper), 2, "+2.00 frames")


def test_a_target_duration_below_the_longest_segment_fails_only_target_duration(snapshot, created, baseline):
    def tamper(url, body, _):
        return re.sub(rb"TARGETDURATION:\d+", b"TARGETDURATION:1", body) if media_playlist(url) else body

    assert_only_rule_fails(baseline, check_tampered(snapshot, created, tamper), 1, "> target 1")


def test_a_missing_endlist_fails_only_vod_form(snapshot, created, baseline):
    def tamper(url, body, _):
        return body.replace(b"#EXT-X-ENDLIST\n", b"") if media_playlist(url) else body

    assert_only_rule_fails(baseline, check_tampered(snapshot, created, tamper), 3, "no EXT-X-ENDLIST")


def test_a_playlist_changing_between_fetches_fails_only_vod_form(snapshot, created, baseline):
    def tamper(url, body, asked):
        return body + b"# refreshed\n" if media_playlist(url, "360p") and asked else body

    assert_only_rule_fails(baseline, check_tampered(snapshot, created, tamper), 3, "bytes differ between fetches")


def test_a_discontinuity_tag_fails_only_no_discontinuity(snapshot, created, baseline):
    def tamper(url, body, _):
        if not media_playlist(url):
            return body
        second = [m.start() for m in re.finditer(rb"#EXTINF", body)][1]
        return body[:second] + b"#EXT-X-DISCONTINUITY\n" + body[second:]

    assert_only_rule_fails(baseline, check_tampered(snapshot, created, tamper), 12, "1 discontinuity tags")


def test_counters_restarting_in_one_segment_fail_only_continuity_counters(snapshot, created, baseline):
    def tamper(url, body, _):
        if not url.endswith("/720p/2.ts"):
            return body
        packets = np.frombuffer(body, dtype=np.uint8).reshape(-1, 188).copy()
        packets[:, 3] = (packets[:, 3] & 0xF0) | ((packets[:, 3] + 5) & 0x0F)  # every PID's counters shifted
        return packets.tobytes()

    assert_only_rule_fails(baseline, check_tampered(snapshot, created, tamper), 15, "segment 2: PID")


def test_a_codecs_attribute_unlike_the_sps_fails_only_variant_attributes(snapshot, created, baseline):
    honest = next(r.scope for r in baseline if r.rule == 6 and r.ok and r.scope in KEPT_RENDITIONS)

    def tamper(url, body, _):
        if not url.endswith("master.m3u8"):
            return body
        lines = body.decode().splitlines(keepends=True)
        for n, line in enumerate(lines):
            if line.startswith("#EXT-X-STREAM-INF:") and lines[n + 1].startswith(f"{honest}/"):
                lines[n] = re.sub(r'CODECS="avc1\.\w+', 'CODECS="avc1.640028', line)
        return "".join(lines).encode()

    assert_only_rule_fails(baseline, check_tampered(snapshot, created, tamper), 6, "but the segments' SPS say")


def test_a_missing_iframe_stream_fails_only_iframe_playlists(snapshot, created, baseline):
    def tamper(url, body, _):
        if not url.endswith("master.m3u8"):
            return body
        return b"".join(line for line in body.splitlines(keepends=True) if b'URI="360p/iframes' not in line)

    assert_only_rule_fails(baseline, check_tampered(snapshot, created, tamper), 8, "no EXT-X-I-FRAME-STREAM-INF")


# --- Apple's authoring items (tests/interop/apple_authoring.py) -----------------------


def test_fmp4_variants_with_mpeg_ts_iframe_playlists_fail_only_apple_6_10(both_snapshots, created, fmp4_baseline):
    """The layout the server had before: the fMP4 multivariant listing the MPEG-TS I-frame playlists."""

    def tamper(url, body, _):
        if not url.endswith("/fmp4/master.m3u8"):
            return body
        return re.sub(rb'URI="(\w+)/iframes', rb'URI="../\1/iframes', body)

    tampered = check_tampered(both_snapshots, created, tamper, "fmp4_playlist_url")
    assert_only_rule_fails(fmp4_baseline, tampered, "Apple 6.10", "I-frame entries are not fMP4")


def test_an_iframe_stream_whose_codecs_is_not_its_sps_fails_only_apple_9_3(snapshot, created, baseline):
    def tamper(url, body, _):
        if not url.endswith("master.m3u8"):
            return body
        return re.sub(rb'(#EXT-X-I-FRAME-STREAM-INF:[^\n]*CODECS=")avc1\.\w+(",[^\n]*URI="360p/)', rb"\1avc1.640028\2", body)

    assert_only_rule_fails(baseline, check_tampered(snapshot, created, tamper), "Apple 9.3", "but the I-frames' SPS says")


def test_an_iframe_playlist_outlasting_its_media_fails_only_apple_8_7(snapshot, created, baseline):
    def tamper(url, body, _):
        if not url.endswith("/360p/iframes.m3u8"):
            return body
        text = body.decode()
        last = list(re.finditer(r"#EXTINF:([0-9.]+),", text))[-1]
        return (text[: last.start()] + f"#EXTINF:{float(last.group(1)) + 0.2:.6f}," + text[last.end() :]).encode()

    assert_only_rule_fails(baseline, check_tampered(snapshot, created, tamper), "Apple 8.7", "360p/iframes spans")


def test_a_short_playlist_served_without_gzip_fails_only_apple_10_1(snapshot, created, baseline):
    tampered = check_tampered(snapshot, created, None, gzip_unless=lambda url: url.endswith("/360p/iframes.m3u8"))
    assert_only_rule_fails(baseline, tampered, "Apple 10.1", "served uncompressed")


def test_lowest_level_follows_h264_table_a1_for_every_rung_and_a_cellular_baseline():
    assert [lowest_level(w, h, Fraction(30), rate, 66) for w, h, rate in [
        (1280, 720, 3_300_000), (640, 360, 1_000_000), (960, 540, 1_900_000), (1920, 1080, 5_800_000),
        (416, 234, 190_000),
    ]] == [31, 30, 31, 40, 13]
    assert lowest_level(1920, 1080, Fraction(60), 8_000_000, 100) == 42  # 489,600 macroblocks/s
    assert lowest_level(416, 234, Fraction(30), 1_000_000, 66) == 20  # the bit rate, not the picture, decides


# --- reporting ----------------------------------------------------------------------


def test_format_table_has_a_row_per_rule_and_fails_a_cell_when_any_scope_fails():
    def results(failing_rule: int | None) -> list[RuleResult]:
        out = []
        for rule, title in RULE_TITLES.items():
            out.append(RuleResult(rule, title, "720p", None if rule == 16 else True, "measured"))
            out.append(RuleResult(rule, title, "360p", False if rule == failing_rule else (None if rule == 16 else True), "x"))
        return out

    table = format_table({"plan-a/ts": results(15), "plan-b/ts": results(None)})
    lines = table.strip().splitlines()
    assert lines[0] == "| rule | plan-a/ts | plan-b/ts |"
    assert lines[1] == "|---|---|---|"
    assert len(lines) == 2 + len(ALL_TITLES)
    assert lines[2 + len(RULE_TITLES)] == "| Apple 1.3: H.264 at most High profile, level 5.2 | n/a | n/a |"
    assert lines[2 + 14] == "| 15. Continuity counters (TS) | FAIL | pass |"
    assert lines[2 + 15] == "| 16. fMP4 init, tfdt, no elst | n/a | n/a |"
    assert lines[2] == "| 1. Target duration | pass | pass |"
    listed = format_failures({"plan-a/ts": results(15), "plan-b/ts": results(None)})
    assert listed == "- plan-a/ts: rule 15 (Continuity counters (TS)) [360p]: x\n"
