"""HLS conformance checker: every automatically checkable rule of shared/hls-interop.md, on every rendition.

`check_presentation(master_url)` fetches a multivariant playlist and everything it references over HTTP
like a player (tests/interop/presentation.py: each resource once, playlists and inits twice on purpose),
then runs one small function per rule and returns typed `RuleResult`s, one per rule and scope ("master",
"720p", "720p/iframes", ...). `format_table` turns results of several targets into a markdown table and
`format_failures` lists what failed with the measured numbers.

Rule -> function:
  1 target duration ........ rule_01_target_duration     10 IDR only at the start ... rule_10_keyframes
  2 EXTINF is the truth .... rule_02_extinf_is_the_truth 11 timestamps continue ..... rule_11_timestamps_continue
  3 VOD form ............... rule_03_vod_form            12 no discontinuity ........ rule_12_no_discontinuity
  4 EXT-X-VERSION .......... rule_04_version             13 constant decode delay ... rule_13_decode_delay
  5 independent segments ... rule_05_independent         14 PAT/PMT (TS) ............ rule_14_pat_pmt
  6 multivariant attributes  rule_06_variant_attributes  15 continuity counters (TS)  rule_15_continuity_counters
  7 renditions line up ..... rule_07_renditions_line_up  16 fMP4 init/tfdt/elst ..... rule_16_fmp4
  8 I-frame playlists ...... rule_08_iframe_playlists    17 stereo AAC-LC, spans .... rule_17_audio_format_and_span
  9 serving ................ rule_09_serving             18 gapless boundaries ...... rule_18_gapless (audio_continuity.py)

Then every item of Apple's HLS Authoring Specification that rules 1-18 do not already judge
(tests/interop/apple_authoring.py), each as a rule named 'Apple <item>' (docs/interop.md lists them).

Rule 9 reports the fetch-time part under its own scope ("<rendition>/fetch-time") so a caller can tell a
slow machine from a serving defect; see NOT_CHECKED_AUTOMATICALLY for what no code here can judge.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

import httpx
import numpy as np

from tests.interop.apple_authoring import APPLE_ITEMS, Finding, check_apple_items
from tests.interop.audio_continuity import boundary_discontinuities, boundary_errors_against_reference
from tests.interop.fetching import Fetched, Fetcher
from tests.interop.presentation import PlaylistFetch, Presentation, Rendition, fetch_presentation
from tests.interop.probe import FMP4, TS, ProbeError, decode_audio
from tests.mediainspect import (
    CC_MODULUS,
    NULL_PID,
    PAT_PID,
    PMT_TABLE_ID,
    SLICE_TYPE_NAMES,
    MalformedMediaError,
    avc1_codec,
    boxes,
    fragments,
    pat_programs,
    psi_section,
    rfc_peak_and_average,
    top_level,
    trex_defaults,
    ts_headers,
    ts_packet,
)

RULE_TITLES = {
    1: "Target duration",
    2: "EXTINF is the truth",
    3: "VOD form",
    4: "EXT-X-VERSION",
    5: "Independent segments",
    6: "Multivariant attributes",
    7: "Renditions line up",
    8: "I-frame playlists",
    9: "Serving",
    10: "IDR first, no other keyframe",
    11: "Timestamps continue",
    12: "No DISCONTINUITY",
    13: "Constant decode delay",
    14: "PAT and PMT (TS)",
    15: "Continuity counters (TS)",
    16: "fMP4 init, tfdt, no elst",
    17: "Stereo AAC-LC, same span",
    18: "Gapless audio boundaries",
}

APPLE_PREFIX = "Apple "
APPLE_TITLES = {f"{APPLE_PREFIX}{item}": title for item, title in APPLE_ITEMS.items()}
"""Items of Apple's HLS Authoring Specification that rules 1-18 do not judge (tests/interop/apple_authoring.py),
each reported as a rule of its own: 'Apple 1.3', ..."""
ALL_TITLES: dict[int | str, str] = {**RULE_TITLES, **APPLE_TITLES}

NOT_CHECKED_AUTOMATICALLY = {
    9: "Whether rendering is 'fast enough' depends on the machine and its load: the checker measures each "
    "segment's fetch time against its EXTINF once (scope '<rendition>/fetch-time'), which is a number, not a "
    "guarantee for other loads, and is cold only for segments the server had not rendered ahead.",
    13: "Whether the encoder *settings* were identical cannot be seen; only their effect (PTS-DTS offset, "
    "B-slices) is checked.",
    18: "Audibility is judged by numbers, not by ear: against the reference signal when one is given, "
    "otherwise by the prediction-residual outlier test described in audio_continuity.py.",
}
"""Parts of rules no code here can judge, and why. Every other part of rules 1-18 is checked."""

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPES = {".ts": "video/mp2t", ".m4s": "video/mp4", ".mp4": "video/mp4"}
GZIP_WORTHWHILE_BYTES = 1024
"""Playlists at least this long must come gzipped to a client that accepts it (Apple 10.4); a smaller one
fits in one TCP segment either way, so compressing it gains nothing and is not required."""
BANDWIDTH_TOLERANCE = Fraction(110, 100)
"""Apple's validator flags a measured rate more than 10 % above the declared one; we also require the
declared rate to be at most 10 % above the measured one (tests/segmenter/test_ladder.py): an inflated
BANDWIDTH makes players pick a lower rendition than the network allows."""
AAC_LC_CODEC = "mp4a.40.2"
EXPECTED_SAMPLE_RATE = 48_000
EXPECTED_CHANNELS = 2
AAC_FRAME_SAMPLES = 1024
HALF = Fraction(1, 2)
VERSION_DECIMAL_EXTINF = 3
VERSION_IFRAMES_OR_BYTERANGE = 4
VERSION_MAP_IN_IFRAME_PLAYLIST = 5
VERSION_MAP = 6
FETCH_TIME_SCOPE = "fetch-time"


@dataclass(frozen=True)
class RuleResult:
    rule: int | str
    """Item number in hls-interop.md (1..18), or 'Apple n.n' for an item of Apple's authoring spec."""
    title: str
    scope: str
    """'master', '720p', '720p/iframes', ..."""
    ok: bool | None
    """None: not applicable to this container (e.g. rules 14/15 for fMP4, 16 for TS)."""
    detail: str


def result(rule: int, scope: str, problems: list[str], measured: str) -> RuleResult:
    """ok when nothing went wrong; the detail says what was measured, then every problem."""
    detail = measured if not problems else "; ".join(problems[:6]) + (f" (+{len(problems) - 6} more)" if len(problems) > 6 else "")
    if problems and measured:
        detail += f" [{measured}]"
    return RuleResult(rule, RULE_TITLES[rule], scope, not problems, detail)


def not_applicable(rule: int, scope: str, why: str) -> RuleResult:
    return RuleResult(rule, RULE_TITLES[rule], scope, None, why)


def apple_result(finding: Finding) -> RuleResult:
    rule = f"{APPLE_PREFIX}{finding.item}"
    if finding.problems is None:
        return RuleResult(rule, APPLE_TITLES[rule], finding.scope, None, finding.measured)
    detail = finding.measured if not finding.problems else "; ".join(finding.problems[:6])
    if finding.problems and finding.measured:
        detail += f" [{finding.measured}]"
    return RuleResult(rule, APPLE_TITLES[rule], finding.scope, not finding.problems, detail)


def unavailable(rule: int, scope: str, rendition: Rendition) -> RuleResult | None:
    """A failing result when the rendition's media could not be read at all (the cause is in rule 9)."""
    if rendition.media.parsed is None:
        return RuleResult(rule, RULE_TITLES[rule], scope, False, f"media playlist unavailable: {rendition.media.first.describe()}")
    if not rendition.complete:
        missing = [s.problem for s in rendition.segments if s.probe is None]
        return RuleResult(rule, RULE_TITLES[rule], scope, False, f"{len(missing)} segments unreadable, e.g. {missing[:1]}")
    return None


def seconds(value: Fraction) -> str:
    return f"{float(value):.6f}s"


def frame_duration(rendition: Rendition) -> Fraction:
    """The video frame duration: the commonest PTS step between pictures (FRAME-RATE if none measured)."""
    steps: Counter[Fraction] = Counter()
    for segment in rendition.segments:
        if segment.probe:
            pts = sorted(p.pts for p in segment.probe.pictures)
            steps.update(b - a for a, b in pairwise(pts))
    if steps:
        return steps.most_common(1)[0][0]
    rate = rendition.attributes.get("FRAME-RATE")
    return 1 / Fraction(rate) if rate else Fraction(1, 30)


def first_pts(rendition: Rendition, index: int) -> Fraction:
    return min(p.pts for p in rendition.segments[index].probe.pictures)


def media_playlists(presentation: Presentation) -> Iterable[tuple[str, PlaylistFetch]]:
    for rendition in presentation.renditions:
        yield rendition.name, rendition.media
        if rendition.iframes is not None:
            yield f"{rendition.name}/iframes", rendition.iframes


# --- playlists ------------------------------------------------------------------


def rule_01_target_duration(presentation: Presentation) -> list[RuleResult]:
    """floor(EXTINF + 0.5) <= EXT-X-TARGETDURATION everywhere; one target duration for every rendition."""
    results, targets = [], {}
    for scope, playlist in media_playlists(presentation):
        if playlist.parsed is None:
            results.append(result(1, scope, [f"unavailable: {playlist.first.describe()}"], ""))
            continue
        target = playlist.parsed.target_duration
        longest = max((Fraction(str(s.duration)) for s in playlist.parsed.segments), default=Fraction(0))
        problems = [] if target is not None else ["no EXT-X-TARGETDURATION"]
        if target is not None and math.floor(longest + HALF) > target:
            problems.append(f"longest EXTINF {seconds(longest)} rounds to {math.floor(longest + HALF)} > target {target}")
        if not scope.endswith("/iframes"):
            targets[scope] = target
        results.append(result(1, scope, problems, f"target {target}, longest EXTINF {seconds(longest)}"))
    distinct = set(targets.values())
    results.append(
        result(1, "all renditions", [f"target durations differ: {targets}"] if len(distinct) > 1 else [], f"target {distinct}")
    )
    return results


def rule_02_extinf_is_the_truth(presentation: Presentation) -> list[RuleResult]:
    """Each EXTINF and every running total equal the real video duration (pictures x frame duration)
    within half a frame (stricter than the rule's one frame, so an off-by-one-frame EXTINF is caught)."""
    results = []
    for rendition in presentation.renditions:
        if (missing := unavailable(2, rendition.name, rendition)) is not None:
            results.append(missing)
            continue
        frame = frame_duration(rendition)
        problems, worst, declared_total, real_total = [], Fraction(0), Fraction(0), Fraction(0)
        for segment in rendition.segments:
            real = len(segment.probe.pictures) * frame
            declared_total += segment.duration
            real_total += real
            worst = max(worst, abs(segment.duration - real), abs(declared_total - real_total))
            if abs(segment.duration - real) >= frame / 2:
                problems.append(
                    f"segment {segment.index}: EXTINF {seconds(segment.duration)} but {len(segment.probe.pictures)} "
                    f"frames = {seconds(real)} ({float((segment.duration - real) / frame):+.2f} frames)"
                )
            elif abs(declared_total - real_total) >= frame / 2:
                problems.append(f"running total after segment {segment.index}: {seconds(declared_total)} vs {seconds(real_total)}")
        empty = [s.index for s in rendition.segments if not s.probe.pictures]
        if empty:
            problems.append(f"segments without video: {empty}")
        measured = (
            f"{len(rendition.segments)} segments, {seconds(real_total)} of video, worst error "
            f"{float(worst / frame):.4f} frames"
        )
        results.append(result(2, rendition.name, problems, measured))
    return results


def rule_03_vod_form(presentation: Presentation) -> list[RuleResult]:
    """PLAYLIST-TYPE:VOD and ENDLIST in media playlists; every playlist gives the same bytes twice."""
    results = []
    master = presentation.master
    same = master.first.body == master.second.body
    results.append(result(3, "master", [] if same else ["multivariant playlist bytes differ between fetches"], "same bytes twice"))
    for scope, playlist in media_playlists(presentation):
        if playlist.parsed is None:
            results.append(result(3, scope, [f"unavailable: {playlist.first.describe()}"], ""))
            continue
        problems = []
        if (playlist.parsed.playlist_type or "").upper() != "VOD":
            problems.append(f"EXT-X-PLAYLIST-TYPE is {playlist.parsed.playlist_type!r}, not VOD")
        if not playlist.parsed.is_endlist:
            problems.append("no EXT-X-ENDLIST")
        if playlist.first.body != playlist.second.body:
            problems.append(f"bytes differ between fetches ({len(playlist.first.body)} vs {len(playlist.second.body)} bytes)")
        results.append(result(3, scope, problems, "VOD, ENDLIST, same bytes twice"))
    return results


def required_version(text: str, *, multivariant: bool) -> int:
    """The lowest EXT-X-VERSION the playlist's tags need (RFC 8216 section 7)."""
    if multivariant:
        return 1  # none of the multivariant tags written here needs more (INSTREAM-ID SERVICE would need 7)
    needed = 1
    if any("." in d for d in re.findall(r"^#EXTINF:([0-9.]+)", text, re.M)):
        needed = VERSION_DECIMAL_EXTINF  # the written form counts: "4.000" is a decimal EXTINF
    iframes = "#EXT-X-I-FRAMES-ONLY" in text
    if iframes or "#EXT-X-BYTERANGE" in text:
        needed = max(needed, VERSION_IFRAMES_OR_BYTERANGE)
    if "#EXT-X-MAP" in text:
        needed = max(needed, VERSION_MAP_IN_IFRAME_PLAYLIST if iframes else VERSION_MAP)
    return needed


def declared_version(text: str) -> int:
    found = re.findall(r"^#EXT-X-VERSION:(\d+)", text, re.M)
    return int(found[0]) if len(found) == 1 else -len(found)


def rule_04_version(presentation: Presentation) -> list[RuleResult]:
    """Media playlists declare exactly the version their tags need; the multivariant playlist needs 1
    and may declare up to the lowest version of its media playlists (never more than they)."""
    results, media_versions = [], []
    for scope, playlist in media_playlists(presentation):
        if playlist.parsed is None:
            results.append(result(4, scope, [f"unavailable: {playlist.first.describe()}"], ""))
            continue
        declared, needed = declared_version(playlist.text), required_version(playlist.text, multivariant=False)
        media_versions.append(declared)
        problems = [] if declared == needed else [f"EXT-X-VERSION {declared} but the tags need {needed}"]
        results.append(result(4, scope, problems, f"version {declared}, needed {needed}"))
    declared = declared_version(presentation.master.text)
    ceiling = min(media_versions, default=declared)
    problems = [] if required_version(presentation.master.text, multivariant=True) <= declared <= ceiling else [
        f"multivariant EXT-X-VERSION {declared} outside [1, {ceiling}]"
    ]
    results.append(result(4, "master", problems, f"version {declared}, media playlists {sorted(set(media_versions))}"))
    return results


def rule_05_independent(presentation: Presentation) -> list[RuleResult]:
    """EXT-X-INDEPENDENT-SEGMENTS in the multivariant playlist; every segment starts with a keyframe."""
    tag = "#EXT-X-INDEPENDENT-SEGMENTS" in presentation.master.text
    results = [result(5, "master", [] if tag else ["no EXT-X-INDEPENDENT-SEGMENTS"], "tag present")]
    for rendition in presentation.renditions:
        if (missing := unavailable(5, rendition.name, rendition)) is not None:
            results.append(missing)
            continue
        bad = [s.index for s in rendition.segments if not s.probe.pictures or not s.probe.pictures[0].idr]
        problems = [f"segments not starting with an IDR: {bad}"] if bad else []
        results.append(result(5, rendition.name, problems, f"{len(rendition.segments)} segments start with an IDR"))
    return results


def segment_codec(rendition: Rendition) -> set[str]:
    return {avc1_codec(s.probe.sps) if s.probe.sps else "no SPS" for s in rendition.segments}


def rule_06_variant_attributes(presentation: Presentation) -> list[RuleResult]:
    """BANDWIDTH, AVERAGE-BANDWIDTH, CODECS, RESOLUTION and FRAME-RATE are present and true."""
    results = []
    for rendition in presentation.renditions:
        if (missing := unavailable(6, rendition.name, rendition)) is not None:
            results.append(missing)
            continue
        declared = rendition.attributes
        problems = [f"no {name}" for name in ("BANDWIDTH", "AVERAGE-BANDWIDTH", "CODECS", "RESOLUTION", "FRAME-RATE") if name not in declared]
        codecs = [c.strip() for c in declared.get("CODECS", "").split(",") if c.strip()]
        real = segment_codec(rendition)
        video_codecs = [c for c in codecs if c.startswith("avc1.")]
        if len(real) != 1 or video_codecs != sorted(real):
            problems.append(f"CODECS video {video_codecs} but the segments' SPS say {sorted(real)}")
        audio_facts = {s.probe.audio for s in rendition.segments}
        if any(a is not None for a in audio_facts) and AAC_LC_CODEC not in codecs:
            problems.append(f"CODECS {codecs} lack {AAC_LC_CODEC} for the AAC audio")
        picture = rendition.first_picture
        size = f"{picture.width}x{picture.height}" if picture else "nothing decoded"
        if declared.get("RESOLUTION") != size:
            problems.append(f"RESOLUTION {declared.get('RESOLUTION')} but decoded {size}")
        rate_text = declared.get("FRAME-RATE", "")
        measured_rate = 1 / frame_duration(rendition)
        if not re.fullmatch(r"\d+\.\d{3}", rate_text):
            problems.append(f"FRAME-RATE {rate_text!r} is not written with 3 decimals")
        elif abs(Fraction(rate_text) - measured_rate) > Fraction(1, 1000):
            problems.append(f"FRAME-RATE {rate_text} but frames are {float(measured_rate):.3f} fps")
        target = max(rendition.media.parsed.target_duration or 0, *(math.floor(s.duration + HALF) for s in rendition.segments))
        peak, average = map(float, rfc_peak_and_average(
            [s.duration for s in rendition.segments], [len(s.fetched.body) for s in rendition.segments], target
        ))
        for name, measured in (("BANDWIDTH", peak), ("AVERAGE-BANDWIDTH", average)):
            if not declared.get(name, "").isdigit():
                continue
            value = int(declared[name])
            if measured > value:
                problems.append(f"measured {name.lower()} {measured:.0f} > declared {value}")
            elif value > measured * BANDWIDTH_TOLERANCE:
                problems.append(f"declared {name} {value} is {value / measured:.3f}x the measured {measured:.0f}")
        measured = (
            f"peak {peak:.0f} vs BANDWIDTH {declared.get('BANDWIDTH')}, average {average:.0f} vs "
            f"AVERAGE-BANDWIDTH {declared.get('AVERAGE-BANDWIDTH')}, CODECS {declared.get('CODECS')}, {size}, "
            f"{float(measured_rate):.3f} fps"
        )
        results.append(result(6, rendition.name, problems, measured))
    return results


def rule_07_renditions_line_up(presentation: Presentation) -> list[RuleResult]:
    """Same segment count, EXTINF list and first PTS per segment in every rendition."""
    usable = [r for r in presentation.renditions if r.complete]
    problems = [f"{r.name} unreadable" for r in presentation.renditions if not r.complete]
    if usable:
        reference = usable[0]
        frame = frame_duration(reference)
        for other in usable[1:]:
            if len(other.segments) != len(reference.segments):
                problems.append(f"{other.name} has {len(other.segments)} segments, {reference.name} {len(reference.segments)}")
                continue
            extinfs = [s.duration for s in other.segments] != [s.duration for s in reference.segments]
            if extinfs:
                problems.append(f"{other.name} EXTINF list differs from {reference.name}")
            shifted = [
                i for i in range(len(other.segments)) if abs(first_pts(other, i) - first_pts(reference, i)) >= frame / 2
            ]
            if shifted:
                problems.append(f"{other.name} first PTS differs from {reference.name} at segments {shifted[:10]}")
    measured = f"{len(usable)} renditions x {len(usable[0].segments) if usable else 0} segments"
    return [result(7, "all renditions", problems, measured)]


def rule_08_iframe_playlists(presentation: Presentation) -> list[RuleResult]:
    """An I-frame playlist per rendition (I-FRAMES-ONLY, version >= 4) whose every entry decodes to exactly
    one keyframe at its stated time (the cumulative EXTINF, counted from the presentation's first PTS)."""
    results = []
    for rendition in presentation.renditions:
        scope = f"{rendition.name}/iframes"
        if rendition.iframe_stream_inf is None:
            results.append(result(8, scope, ["no EXT-X-I-FRAME-STREAM-INF for this rendition"], ""))
            continue
        playlist = rendition.iframes
        if playlist is None or playlist.parsed is None:
            results.append(result(8, scope, ["I-frame playlist unavailable"], ""))
            continue
        problems = []
        if not playlist.parsed.is_i_frames_only:
            problems.append("no EXT-X-I-FRAMES-ONLY")
        if declared_version(playlist.text) < VERSION_IFRAMES_OR_BYTERANGE:
            problems.append(f"version {declared_version(playlist.text)} < 4")
        origin = first_pts(rendition, 0) if rendition.complete else Fraction(0)
        frame = frame_duration(rendition)
        if rendition.media.parsed is not None and len(rendition.iframe_entries) != len(rendition.media.parsed.segments):
            problems.append(f"{len(rendition.iframe_entries)} I-frames for {len(rendition.media.parsed.segments)} segments")
        stated = Fraction(0)
        for number, entry in enumerate(rendition.iframe_entries):
            if entry.pictures is None:
                problems.append(entry.problem)
            elif len(entry.pictures) != 1 or not entry.pictures[0].key_frame:
                problems.append(f"entry {number} decodes to {len(entry.pictures)} pictures, keyframe {[p.key_frame for p in entry.pictures]}")
            elif abs(entry.pictures[0].pts - origin - stated) >= frame / 2:
                problems.append(f"entry {number} at {seconds(entry.pictures[0].pts - origin)}, stated {seconds(stated)}")
            stated += entry.duration
        results.append(result(8, scope, problems, f"{len(rendition.iframe_entries)} entries, each one keyframe at its time"))
    return results


def _serving_problems(fetched: Fetched, expected_type: str) -> list[str]:
    problems = []
    if 300 <= fetched.status < 400:
        problems.append(f"redirect {fetched.status} for {fetched.url}")
    elif not fetched.ok:
        problems.append(fetched.describe())
    elif fetched.content_type.split(";")[0].strip().lower() != expected_type:
        problems.append(f"{fetched.url} served as {fetched.content_type!r}, not {expected_type}")
    return problems


def _playlist_serving(playlist: PlaylistFetch) -> list[str]:
    problems = _serving_problems(playlist.first, PLAYLIST_TYPE) + _serving_problems(playlist.second, PLAYLIST_TYPE)
    if playlist.first.ok and len(playlist.second.body) >= GZIP_WORTHWHILE_BYTES and playlist.first.content_encoding != "gzip":
        problems.append(f"{playlist.url} ({len(playlist.second.body)} bytes) not gzipped for a client accepting gzip")
    if playlist.second.content_encoding not in ("", "identity"):
        problems.append(f"{playlist.url} encoded {playlist.second.content_encoding!r} for a client refusing it")
    return problems


def _extension(uri: str) -> str:
    path = uri.split("?", 1)[0]
    return path[path.rfind(".") :] if "." in path.rsplit("/", 1)[-1] else ""


def rule_09_serving(presentation: Presentation) -> list[RuleResult]:
    """MIME types, gzip for playlists, no redirects, known segment extensions, every resource a 200;
    separately (scope '<rendition>/fetch-time'), every segment fetched faster than its EXTINF."""
    results = [result(9, "master", _playlist_serving(presentation.master), "")]
    for rendition in presentation.renditions:
        problems = _playlist_serving(rendition.media)
        if rendition.iframes is not None:
            problems += _playlist_serving(rendition.iframes)
        resources = [(s.uri, s.fetched) for s in rendition.segments] + [(e.uri, e.fetched) for e in rendition.iframe_entries]
        if rendition.media.parsed is not None:
            resources += [(m.uri, f) for m in rendition.media.parsed.segment_map[:1] for f in rendition.init_fetches]
        if rendition.iframes is not None and rendition.iframes.parsed is not None:
            maps = rendition.iframes.parsed.segment_map[:1]
            resources += [(m.uri, f) for m in maps for f in rendition.iframe_init_fetches]
        for uri, fetched in resources:
            extension = _extension(uri)
            if extension not in SEGMENT_TYPES:
                problems.append(f"URI {uri!r} has no .ts/.m4s/.mp4 extension")
            problems += _serving_problems(fetched, SEGMENT_TYPES.get(extension, "video/*"))
        results.append(result(9, rendition.name, problems, f"{len(resources)} resources, 200, right types, no redirect"))
        timed = [(s.fetched.seconds / float(s.duration), s) for s in rendition.segments if s.fetched.ok and s.duration]
        if timed:
            ratio, slowest = max(timed, key=lambda pair: pair[0])
            measured = (
                f"slowest segment {slowest.index}: {slowest.fetched.seconds:.3f}s for {seconds(slowest.duration)} of media "
                f"({ratio:.2f}x real time), mean {sum(r for r, _ in timed) / len(timed):.2f}x"
            )
            late = [f"segment {s.index} took {s.fetched.seconds:.2f}s > EXTINF {float(s.duration):.2f}s" for r, s in timed if r >= 1]
            results.append(result(9, f"{rendition.name}/{FETCH_TIME_SCOPE}", late, measured))
    return results


# --- video ----------------------------------------------------------------------


def rule_10_keyframes(presentation: Presentation) -> list[RuleResult]:
    """The first picture of each segment is an IDR; no other picture is an IDR or an I-picture."""
    results = []
    for rendition in presentation.renditions:
        if (missing := unavailable(10, rendition.name, rendition)) is not None:
            results.append(missing)
            continue
        problems = []
        for segment in rendition.segments:
            pictures = segment.probe.pictures
            if not pictures or not pictures[0].idr:
                problems.append(f"segment {segment.index} does not start with an IDR")
            extra = [n for n, p in enumerate(pictures[1:], 1) if p.idr or p.slice_type == 2]
            if extra:
                problems.append(f"segment {segment.index} has further keyframes at pictures {extra[:5]}")
        results.append(result(10, rendition.name, problems, f"{len(rendition.segments)} segments, one IDR each, first"))
    return results


def rule_11_timestamps_continue(presentation: Presentation) -> list[RuleResult]:
    """First PTS of segment N = first PTS of segment 0 + sum of earlier EXTINFs, within half a frame."""
    results = []
    for rendition in presentation.renditions:
        if (missing := unavailable(11, rendition.name, rendition)) is not None:
            results.append(missing)
            continue
        frame, origin, elapsed, worst, problems = frame_duration(rendition), first_pts(rendition, 0), Fraction(0), Fraction(0), []
        for segment in rendition.segments:
            error = first_pts(rendition, segment.index) - origin - elapsed
            worst = max(worst, abs(error))
            if abs(error) >= frame / 2:
                problems.append(f"segment {segment.index} starts {float(error / frame):+.2f} frames off its EXTINF sum")
            elapsed += segment.duration
        results.append(result(11, rendition.name, problems, f"worst {float(worst / frame):.4f} frames"))
    return results


def rule_12_no_discontinuity(presentation: Presentation) -> list[RuleResult]:
    """No EXT-X-DISCONTINUITY (or DISCONTINUITY-SEQUENCE) in any playlist."""
    results = []
    for scope, playlist in media_playlists(presentation):
        count = playlist.text.count("#EXT-X-DISCONTINUITY")
        results.append(result(12, scope, [f"{count} discontinuity tags"] if count else [], "none"))
    return results


def rule_13_decode_delay(presentation: Presentation) -> list[RuleResult]:
    """One PTS-DTS offset for every picture of every segment of every rendition; no B-slices and no
    reordering (PTS increase in decode order)."""
    offsets: Counter[Fraction] = Counter()
    results = []
    for rendition in presentation.renditions:
        if (missing := unavailable(13, rendition.name, rendition)) is not None:
            results.append(missing)
            continue
        problems, own = [], Counter()
        for segment in rendition.segments:
            pictures = segment.probe.pictures
            own.update(p.pts - p.dts for p in pictures)
            b_slices = [n for n, p in enumerate(pictures) if p.slice_type == 1]
            if b_slices:
                problems.append(f"segment {segment.index}: {len(b_slices)} B-pictures")
            if any(b.pts <= a.pts for a, b in pairwise(pictures)):
                problems.append(f"segment {segment.index}: pictures reordered")
        if len(own) > 1:
            problems.append(f"PTS-DTS offsets vary: { {seconds(k): v for k, v in own.items()} }")
        offsets.update(own)
        kinds = Counter(SLICE_TYPE_NAMES.get(p.slice_type, "?") for s in rendition.segments for p in s.probe.pictures)
        results.append(result(13, rendition.name, problems, f"offsets {[seconds(k) for k in own]}, pictures {dict(kinds)}"))
    distinct = [seconds(k) for k in offsets]
    results.append(result(13, "all renditions", [f"offsets differ: {distinct}"] if len(offsets) > 1 else [], f"offset {distinct}"))
    return results


# --- MPEG-TS --------------------------------------------------------------------


def _pat_pmt_problems(data: bytes) -> list[str]:
    headers = ts_headers(data)
    starts = np.flatnonzero(headers.unit_start & headers.has_payload)
    pats = starts[headers.pid[starts] == PAT_PID]
    if not len(pats):
        return ["no PAT"]
    programs = pat_programs(psi_section(ts_packet(data, int(pats[0]))))
    if len(programs) != 1:
        return [f"{len(programs)} programs"]
    (pmt_pid,) = programs.values()
    pmts = [int(n) for n in starts[headers.pid[starts] == pmt_pid] if psi_section(ts_packet(data, int(n)))[0] == PMT_TABLE_ID]
    if not pmts:
        return [f"no PMT on PID {pmt_pid:#x}"]
    elementary = starts[(headers.pid[starts] != PAT_PID) & (headers.pid[starts] != pmt_pid)]
    first_pes = next((int(n) for n in elementary if ts_packet(data, int(n)).payload[:3] == b"\x00\x00\x01"), None)
    if first_pes is not None and (pats[0] > first_pes or pmts[0] > first_pes):
        return ["PAT/PMT only after the first PES packet"]
    return []


def rule_14_pat_pmt(presentation: Presentation) -> list[RuleResult]:
    """Every TS segment carries a PAT naming one program and that program's PMT, before any PES."""
    results = []
    for rendition in presentation.renditions:
        if rendition.container != TS:
            results.append(not_applicable(14, rendition.name, f"{rendition.container}: no transport stream"))
            continue
        problems = []
        for segment in rendition.segments:
            if not segment.fetched.ok:
                problems.append(segment.problem)
                continue
            try:
                problems += [f"segment {segment.index}: {p}" for p in _pat_pmt_problems(segment.fetched.body)]
            except (MalformedMediaError, IndexError) as error:  # truncated tables read past their packet
                problems.append(f"segment {segment.index}: {error}")
        results.append(result(14, rendition.name, problems, f"{len(rendition.segments)} segments open with PAT+PMT, one program"))
    return results


def rule_15_continuity_counters(presentation: Presentation) -> list[RuleResult]:
    """Read segment after segment, every PID's counter advances by one (mod 16) on each payload packet,
    across boundaries too (Apple 7.2)."""
    results = []
    for rendition in presentation.renditions:
        if rendition.container != TS:
            results.append(not_applicable(15, rendition.name, f"{rendition.container}: no continuity counters"))
            continue
        last: dict[int, int] = {}
        problems, checked = [], 0
        for segment in rendition.segments:
            try:
                if not segment.fetched.ok:
                    raise MalformedMediaError(segment.problem)
                headers = ts_headers(segment.fetched.body)
            except MalformedMediaError as error:
                problems.append(f"segment {segment.index}: {error}")
                last.clear()  # nothing to continue from
                continue
            counted = headers.has_payload & (headers.pid != NULL_PID)
            for pid in np.unique(headers.pid[counted]).tolist():
                counters = headers.continuity[counted & (headers.pid == pid)]
                if pid in last and counters[0] != (last[pid] + 1) % CC_MODULUS:
                    problems.append(f"segment {segment.index}: PID {pid:#x} starts at {counters[0]} after {last[pid]}")
                jumps = int(np.count_nonzero(np.diff(counters) % CC_MODULUS != 1))
                if jumps:
                    problems.append(f"segment {segment.index}: PID {pid:#x} jumps {jumps}x inside")
                last[pid] = int(counters[-1])
                checked += len(counters)
        results.append(result(15, rendition.name, problems, f"{checked} payload packets in sequence"))
    return results


# --- fMP4 -----------------------------------------------------------------------


def _fmp4_problems(rendition: Rendition) -> tuple[list[str], str]:
    playlist = rendition.media.parsed
    problems = []
    maps = len(playlist.segment_map)
    if maps != 1:
        problems.append(f"{maps} EXT-X-MAP tags")
    fetches = [f for f in rendition.init_fetches if f.ok]
    if len(fetches) < 2 or any(f.body != fetches[0].body for f in fetches):
        problems.append("init segment missing or not byte-identical on every fetch")
    init = rendition.init
    if not init:
        return problems, ""
    kinds = {b.kind for b in boxes(init)}
    if top_level(init)[:2] != [b"ftyp", b"moov"] or b"mvex" not in kinds:
        problems.append(f"init boxes {[k.decode() for k in top_level(init)]}, mvex {'present' if b'mvex' in kinds else 'missing'}")
    if kinds & {b"edts", b"elst"}:
        problems.append("edit list in the init")
    trex = trex_defaults(init)
    expected: dict[int, int] = {}
    for segment in rendition.segments:
        if not segment.fetched.ok:
            problems.append(segment.problem)
            continue
        if {b.kind for b in boxes(segment.fetched.body)} & {b"edts", b"elst"}:
            problems.append(f"segment {segment.index}: edit list")
        for track, fragment in sorted(fragments(segment.fetched.body, trex).items()):
            if fragment.base_decode_time < 0:
                problems.append(f"segment {segment.index} track {track}: negative tfdt {fragment.base_decode_time}")
            if track in expected and fragment.base_decode_time != expected[track]:
                problems.append(
                    f"segment {segment.index} track {track}: tfdt {fragment.base_decode_time}, expected {expected[track]}"
                )
            expected[track] = fragment.base_decode_time + sum(fragment.durations)
    return problems, f"init {len(init)} bytes, tracks {sorted(expected)} end at tfdt {expected}"


def rule_16_fmp4(presentation: Presentation) -> list[RuleResult]:
    """One init (ftyp+moov with mvex) per rendition, byte-identical on every fetch; tfdt continuous and
    non-negative on every track; no edit list anywhere."""
    results = []
    for rendition in presentation.renditions:
        if rendition.container != FMP4:
            results.append(not_applicable(16, rendition.name, f"{rendition.container}: no init segment"))
            continue
        try:
            problems, measured = _fmp4_problems(rendition)
        except (MalformedMediaError, KeyError) as error:
            problems, measured = [f"unparsable boxes: {error!r}"], ""
        results.append(result(16, rendition.name, problems, measured))
    return results


# --- audio ----------------------------------------------------------------------


def rule_17_audio_format_and_span(presentation: Presentation) -> list[RuleResult]:
    """Stereo AAC-LC at 48 kHz, one audio stream per segment; audio starts and ends within one AAC frame
    of the segment's video."""
    results = []
    for rendition in presentation.renditions:
        if (missing := unavailable(17, rendition.name, rendition)) is not None:
            results.append(missing)
            continue
        problems, worst = [], Fraction(0)
        frame = frame_duration(rendition)
        for segment in rendition.segments:
            probe = segment.probe
            audio = probe.audio
            if probe.audio_streams != 1 or audio is None:
                problems.append(f"segment {segment.index}: {probe.audio_streams} audio streams")
                continue
            if (audio.codec, audio.profile, audio.sample_rate, audio.channels) != ("aac", "LC", EXPECTED_SAMPLE_RATE, EXPECTED_CHANNELS):
                problems.append(f"segment {segment.index}: {audio.codec} {audio.profile} {audio.sample_rate} Hz {audio.channels} ch")
            if not probe.audio_pts or not probe.pictures:
                problems.append(f"segment {segment.index}: no audio or video packets")
                continue
            video_start = min(p.pts for p in probe.pictures)
            video_end = max(p.pts for p in probe.pictures) + frame
            audio_start, audio_end = min(probe.audio_pts), max(probe.audio_pts) + probe.audio_frame_seconds
            aac_frame = probe.audio_frame_seconds or Fraction(AAC_FRAME_SAMPLES, EXPECTED_SAMPLE_RATE)
            for name, gap in (("start", audio_start - video_start), ("end", audio_end - video_end)):
                worst = max(worst, abs(gap))
                if abs(gap) >= aac_frame:
                    problems.append(f"segment {segment.index}: audio {name} {float(gap) * 1000:+.1f} ms from video")
        measured = f"worst audio/video edge {float(worst) * 1000:.1f} ms (one AAC frame = 21.3 ms)"
        results.append(result(17, rendition.name, problems, measured))
    return results


def rule_18_gapless(presentation: Presentation, reference_audio: Callable[[int, int], np.ndarray] | None) -> list[RuleResult]:
    """Decode each rendition's whole audio with one decoder (TS: segments concatenated; fMP4: init then
    fragments) and judge every segment boundary: against `reference_audio` when given, otherwise by the
    prediction-residual outlier test (audio_continuity.py)."""
    results = []
    for rendition in presentation.renditions:
        if (missing := unavailable(18, rendition.name, rendition)) is not None:
            results.append(missing)
            continue
        whole = rendition.init + b"".join(s.fetched.body for s in rendition.segments)
        try:
            start, rate, samples = decode_audio(whole, rendition.container)
        except ProbeError as error:
            results.append(result(18, rendition.name, [str(error)], ""))
            continue
        origin = first_pts(rendition, 0)
        offset = round((start - origin) * rate)
        boundaries = [round((min(s.probe.audio_pts) - origin) * rate) - offset for s in rendition.segments[1:]]
        if reference_audio is not None:
            problems, measured = boundary_errors_against_reference(samples[0], offset, boundaries, reference_audio)
        else:
            problems, measured = boundary_discontinuities(samples[0], boundaries)
        results.append(result(18, rendition.name, problems, measured))
    return results


# --- the whole check --------------------------------------------------------------


def check_presentation(
    master_url: str,
    *,
    client: httpx.Client | None = None,
    reference_audio: Callable[[int, int], np.ndarray] | None = None,
) -> list[RuleResult]:
    """Fetch the presentation at `master_url` and check rules 1-18 on every rendition.

    `reference_audio(start_sample, count)` returns the source signal (1-D, or (channels, n): the first
    channel is used) for global samples counted from the presentation's start.
    """
    own_client = client is None
    client = client or httpx.Client(timeout=120.0)
    try:
        presentation = fetch_presentation(Fetcher(client), master_url)
    finally:
        if own_client:
            client.close()
    if not presentation.master.first.ok or not presentation.renditions:
        reason = f"no multivariant playlist with variants: {presentation.master.first.describe()}"
        return [RuleResult(rule, title, "master", False, reason) for rule, title in ALL_TITLES.items()]
    rules: list[Callable[[Presentation], list[RuleResult]]] = [
        rule_01_target_duration,
        rule_02_extinf_is_the_truth,
        rule_03_vod_form,
        rule_04_version,
        rule_05_independent,
        rule_06_variant_attributes,
        rule_07_renditions_line_up,
        rule_08_iframe_playlists,
        rule_09_serving,
        rule_10_keyframes,
        rule_11_timestamps_continue,
        rule_12_no_discontinuity,
        rule_13_decode_delay,
        rule_14_pat_pmt,
        rule_15_continuity_counters,
        rule_16_fmp4,
        rule_17_audio_format_and_span,
    ]
    results = [r for rule in rules for r in rule(presentation)]
    results += rule_18_gapless(presentation, reference_audio)
    return results + [apple_result(finding) for finding in check_apple_items(presentation)]


# --- reporting --------------------------------------------------------------------


def verdict(results: Iterable[RuleResult]) -> str:
    """'FAIL' if any scope failed, 'pass' if any passed, else 'n/a'."""
    states = [r.ok for r in results]
    if any(state is False for state in states):
        return "FAIL"
    return "pass" if any(state is True for state in states) else "n/a"


def format_table(results_by_target: Mapping[str, list[RuleResult]]) -> str:
    """Markdown table: one row per rule (number and title), then per Apple item, one column per target."""
    targets = list(results_by_target)
    lines = ["| rule | " + " | ".join(targets) + " |", "|---|" + "---|" * len(targets)]
    for rule, title in ALL_TITLES.items():
        cells = [verdict(r for r in results_by_target[t] if r.rule == rule) for t in targets]
        label = f"{rule}." if isinstance(rule, int) else f"{rule}:"
        lines.append(f"| {label} {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def failures(results: Iterable[RuleResult]) -> list[RuleResult]:
    return [r for r in results if r.ok is False]


def format_failures(results_by_target: Mapping[str, list[RuleResult]]) -> str:
    """One line per failing rule and scope, with what was measured."""
    lines = [
        f"- {target}: rule {r.rule} ({r.title}) [{r.scope}]: {r.detail}"
        for target, results in results_by_target.items()
        for r in failures(results)
    ]
    return "\n".join(lines) + ("\n" if lines else "")
