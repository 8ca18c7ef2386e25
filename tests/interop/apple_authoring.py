"""Apple's HLS Authoring Specification for Apple Devices: the items a program can judge on what a server
serves and that rules 1-18 of shared/hls-interop.md do not already judge, one check per item.

Item numbers are the specification's (its 2025 revision, as listed in docs/interop.md with how each is
checked); `conformance.check_presentation` runs these after its own rules and reports each item as a row
of its own. A check returns `Finding`s: the problems it saw (none: pass; None: the item does not apply to
this container) and what it measured. Items that rules 1-18 already judge (7.4 IDR first, 8.1 EXTINF,
9.11 independent segments, ...) are named in docs/interop.md, not checked twice.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise

from tests.interop.presentation import Presentation, Rendition, attributes, variant_lines
from tests.interop.probe import FMP4, TS, ProbeError, avcc_sps_and_length_size, probe_segment
from tests.mediainspect import (
    MalformedMediaError,
    avc1_codec,
    avcc_record,
    boxes,
    fragments,
    rfc_peak_and_average,
    top_level,
    trex_defaults,
)

APPLE_ITEMS = {
    "1.3": "H.264 at most High profile, level 5.2",
    "1.10": "Parameter sets in the sample entry (avc1)",
    "1.11": "Level no higher than the video needs",
    "1.18": "Natural, constant frame rate",
    "1.30": "Peak at most twice the average",
    "1.33": "One aspect ratio",
    "6.9": "I-frame BANDWIDTH covers the peak",
    "6.10": "fMP4 I-frames: own moof, EXT-X-MAP",
    "8.7": "Every playlist spans the same time",
    "9.3": "I-frame CODECS and RESOLUTION",
    "9.9": "Several bit rates",
    "10.1": "Playlists gzipped",
}
"""Item number -> short title (the table's row)."""

H264_HIGHEST = (100, 52)
"""1.3b: profile_idc and level_idc a stream MUST NOT exceed (High, 5.2)."""
H264_COMPATIBLE_LEVEL = 41
"""1.3a: some variants SHOULD be at most High 4.1, for maximum compatibility."""
AT_MOST_HIGH = {66: "Baseline", 77: "Main", 100: "High"}
"""profile_idc values that are High profile or a subset of it."""
CPB_NAL_FACTOR = {66: 1200, 77: 1200, 100: 1500}
"""H.264 Table A-2: MaxBR of Table A-1 times this, in bit/s, bounds the NAL HRD bit rate."""
LEVEL_LIMITS = (
    # level_idc, MaxMBPS (macroblocks/s), MaxFS (macroblocks), MaxBR (1000 or 1200 bit/s units): H.264 Table A-1
    (10, 1_485, 99, 64),
    (11, 3_000, 396, 192),
    (12, 6_000, 396, 384),
    (13, 11_880, 396, 768),
    (20, 11_880, 396, 2_000),
    (21, 19_800, 792, 4_000),
    (22, 20_250, 1_620, 4_000),
    (30, 40_500, 1_620, 10_000),
    (31, 108_000, 3_600, 14_000),
    (32, 216_000, 5_120, 20_000),
    (40, 245_760, 8_192, 20_000),
    (41, 245_760, 8_192, 50_000),
    (42, 522_240, 8_704, 50_000),
    (50, 589_824, 22_080, 135_000),
    (51, 983_040, 36_864, 240_000),
    (52, 2_073_600, 36_864, 240_000),
)
MACROBLOCK = 16
NATURAL_FRAME_RATES = tuple(
    Fraction(rate) for rate in ("24000/1001", "24", "25", "30000/1001", "30", "50", "60000/1001", "60")
)
"""1.18: the frame rates Apple lists for VOD (1.19: none above 60)."""
PEAK_OVER_AVERAGE = 2
"""1.30: for VOD, the peak bit rate SHOULD be no more than 200 % of the average."""
ASPECT_SLACK_PIXELS = 2
"""1.33: a width may differ from the reference aspect ratio by the rounding to an even number of pixels."""
SAMPLE_IS_NON_SYNC = 0x00010000
IFRAME_EXTENSIONS = (".m4s", ".mp4")


@dataclass(frozen=True)
class Finding:
    item: str
    scope: str
    problems: list[str] | None
    """Empty: the item holds; None: it does not apply here."""
    measured: str


Check = Callable[[Presentation], list[Finding]]


def _sps(rendition: Rendition) -> list[bytes]:
    return sorted({s.probe.sps for s in rendition.segments if s.probe is not None and s.probe.sps})


def _unreadable(item: str, rendition: Rendition) -> Finding | None:
    if rendition.media.parsed is None or not rendition.complete:
        return Finding(item, rendition.name, [f"media of {rendition.name} unreadable (see rule 9)"], "")
    return None


def _variant_bandwidth(rendition: Rendition) -> int:
    value = rendition.attributes.get("BANDWIDTH", "0")
    return int(value) if value.isdigit() else 0


# --- video ----------------------------------------------------------------------


def item_1_3_profile_and_level(presentation: Presentation) -> list[Finding]:
    """1.3b: every variant's SPS is High profile or below and level 5.2 or below; 1.3a: some variant is at
    most level 4.1."""
    findings, levels = [], []
    for rendition in presentation.renditions:
        if (missing := _unreadable("1.3", rendition)) is not None:
            findings.append(missing)
            continue
        problems, seen = [], []
        for sps in _sps(rendition):
            profile, level = sps[1], sps[3]
            seen.append(f"{AT_MOST_HIGH.get(profile, profile)} {level / 10:g}")
            levels.append(level)
            if profile not in AT_MOST_HIGH:
                problems.append(f"profile_idc {profile} is not High or a subset of it")
            if level > H264_HIGHEST[1]:
                problems.append(f"level {level / 10:g} > {H264_HIGHEST[1] / 10:g}")
        if not seen:
            problems.append("no SPS found")
        findings.append(Finding("1.3", rendition.name, problems, ", ".join(seen)))
    compatible = [level for level in levels if level <= H264_COMPATIBLE_LEVEL]
    problems = [] if compatible or not levels else [f"no variant at level {H264_COMPATIBLE_LEVEL / 10:g} or below"]
    findings.append(Finding("1.3", "all renditions", problems, f"levels {sorted({x / 10 for x in levels})}"))
    return findings


def lowest_level(width: int, height: int, frame_rate: Fraction, bit_rate: int, profile: int) -> int:
    """The lowest H.264 level_idc whose Table A-1 limits fit the picture size, macroblock rate and bit
    rate (the NAL HRD bound of Table A-2: MaxBR x cpbBrNalFactor)."""
    columns, rows = math.ceil(width / MACROBLOCK), math.ceil(height / MACROBLOCK)
    frame_size = columns * rows
    for level, max_mbps, max_fs, max_br in LEVEL_LIMITS:
        side = math.sqrt(8 * max_fs)
        fits = frame_size <= max_fs and columns <= side and rows <= side and frame_size * frame_rate <= max_mbps
        if fits and bit_rate <= max_br * CPB_NAL_FACTOR.get(profile, 1200):
            return level
    return LEVEL_LIMITS[-1][0] + 1


def item_1_11_level_not_higher_than_needed(presentation: Presentation) -> list[Finding]:
    """The SPS's level is the lowest whose limits fit the variant's picture size, frame rate and declared
    BANDWIDTH (an upper bound of the video's rate, so the lowest level is never underestimated)."""
    findings = []
    for rendition in presentation.renditions:
        if (missing := _unreadable("1.11", rendition)) is not None:
            findings.append(missing)
            continue
        picture, rate = rendition.first_picture, _frame_rate(rendition)
        problems, measured = [], []
        for sps in _sps(rendition):
            if picture is None or rate is None:
                problems.append("no picture or frame rate to size the level by")
                continue
            needed = lowest_level(picture.width, picture.height, rate, _variant_bandwidth(rendition), sps[1])
            measured.append(f"level {sps[3] / 10:g}, {picture.width}x{picture.height}@{float(rate):.3f} needs {needed / 10:g}")
            if sps[3] != needed:
                problems.append(f"level {sps[3] / 10:g} but {needed / 10:g} is the lowest that fits")
        findings.append(Finding("1.11", rendition.name, problems, "; ".join(measured)))
    return findings


def _frame_steps(rendition: Rendition) -> list[Fraction]:
    pts = sorted(p.pts for s in rendition.segments if s.probe is not None for p in s.probe.pictures)
    return [b - a for a, b in pairwise(pts)]


def _frame_rate(rendition: Rendition) -> Fraction | None:
    steps = set(_frame_steps(rendition))
    return 1 / steps.pop() if len(steps) == 1 else None


def item_1_18_frame_rate(presentation: Presentation) -> list[Finding]:
    """1.18/1.19: the video runs at one of the natural rates Apple lists (none above 60 fps); 8.14: and at
    one rate throughout (a change needs a discontinuity, which rule 12 rules out), checked on every
    picture's PTS across all segments of the variant."""
    findings = []
    for rendition in presentation.renditions:
        if (missing := _unreadable("1.18", rendition)) is not None:
            findings.append(missing)
            continue
        steps = sorted(set(_frame_steps(rendition)))
        problems = []
        if len(steps) != 1:
            problems.append(f"frame durations vary: {[f'{float(s) * 1000:.3f} ms' for s in steps[:5]]}")
        elif 1 / steps[0] not in NATURAL_FRAME_RATES:
            problems.append(f"{float(1 / steps[0]):.3f} fps is not one of Apple's natural rates")
        rates = ", ".join(f"{float(1 / s):.3f}" for s in steps[:3])
        findings.append(Finding("1.18", rendition.name, problems, f"{rates} fps"))
    return findings


def item_1_30_peak_over_average(presentation: Presentation) -> list[Finding]:
    """Measured (RFC 8216 peak and average of the segments) and declared (BANDWIDTH over
    AVERAGE-BANDWIDTH) peaks are each at most twice their average."""
    findings = []
    for rendition in presentation.renditions:
        if (missing := _unreadable("1.30", rendition)) is not None:
            findings.append(missing)
            continue
        target = rendition.media.parsed.target_duration or 1
        peak, average = rfc_peak_and_average(
            [s.duration for s in rendition.segments], [len(s.fetched.body) for s in rendition.segments], target
        )
        problems = []
        if peak > PEAK_OVER_AVERAGE * average:
            problems.append(f"measured peak {peak:.0f} is {peak / average:.2f}x the average {average:.0f}")
        declared = rendition.attributes
        declared_ratio = None
        if declared.get("BANDWIDTH", "").isdigit() and declared.get("AVERAGE-BANDWIDTH", "").isdigit():
            declared_ratio = int(declared["BANDWIDTH"]) / int(declared["AVERAGE-BANDWIDTH"])
            if declared_ratio > PEAK_OVER_AVERAGE:
                problems.append(f"BANDWIDTH is {declared_ratio:.2f}x AVERAGE-BANDWIDTH")
        measured = f"measured peak/average {peak / average:.3f}, declared {declared_ratio and round(declared_ratio, 3)}"
        findings.append(Finding("1.30", rendition.name, problems, measured))
    return findings


def item_1_33_one_aspect_ratio(presentation: Presentation) -> list[Finding]:
    """Every variant's RESOLUTION has the first variant's aspect ratio, up to the rounding of each side to
    an even number of pixels."""
    sizes = []
    for line, _ in variant_lines(presentation.master.text):
        resolution = attributes(line).get("RESOLUTION", "")
        if "x" in resolution:
            width, height = (int(n) for n in resolution.split("x"))
            sizes.append((width, height))
    if not sizes:
        return [Finding("1.33", "master", ["no RESOLUTION on any variant"], "")]
    reference = Fraction(*sizes[0])
    problems = [
        f"{w}x{h} is not {sizes[0][0]}:{sizes[0][1]}" for w, h in sizes if abs(w - h * reference) > ASPECT_SLACK_PIXELS
    ]
    return [Finding("1.33", "master", problems, f"{len(sizes)} variants at {float(reference):.4f}:1")]


def item_1_10_parameter_sets_in_sample_entry(presentation: Presentation) -> list[Finding]:
    """fMP4: the video sample entry of every init (media and I-frame) is `avc1`, not `avc3`, so the
    parameter sets are in the sample description; the CODECS attribute says `avc1` too."""
    findings = []
    for rendition in presentation.renditions:
        if rendition.container != FMP4:
            findings.append(Finding("1.10", rendition.name, None, f"{rendition.container}: no sample entries"))
            continue
        problems, entries = [], []
        for name, init in (("init", rendition.init), ("I-frame init", rendition.iframe_init)):
            if not init:
                continue
            kinds = [b.kind.decode() for b in boxes(init) if b.path and b.path[-1] == b"stsd"]
            entries.append(f"{name} {kinds}")
            video = [k for k in kinds if k.startswith(("avc", "hev", "hvc", "dvh"))]
            if video != ["avc1"]:
                problems.append(f"{name} video sample entries {video}, not avc1")
        if not rendition.init:
            problems.append("no init segment")
        codecs = rendition.attributes.get("CODECS", "")
        if not any(c.strip().startswith("avc1.") for c in codecs.split(",")):
            problems.append(f"CODECS {codecs!r} names no avc1 video")
        findings.append(Finding("1.10", rendition.name, problems, "; ".join(entries)))
    return findings


# --- trick play -------------------------------------------------------------------


def _iframe_scope(rendition: Rendition) -> str:
    return f"{rendition.name}/iframes"


def _with_iframes(presentation: Presentation) -> list[Rendition]:
    """Renditions whose I-frame playlist was listed and read: a missing one is rule 8's finding, and like
    rules 1, 3, 4 and 12 the items here then have no I-frame scope to judge."""
    return [r for r in presentation.renditions if r.iframes is not None and r.iframes.parsed is not None and r.iframe_entries]


def item_6_9_iframe_bandwidth(presentation: Presentation) -> list[Finding]:
    """The I-frame stream's BANDWIDTH is at least the I-frame playlist's peak segment bit rate, computed as
    RFC 8216 4.3.4.2 defines it over the I-frame resources and their EXTINFs."""
    findings = []
    for rendition in _with_iframes(presentation):
        entries = rendition.iframe_entries
        target = rendition.iframes.parsed.target_duration or 1
        peak, _ = rfc_peak_and_average([e.duration for e in entries], [len(e.fetched.body) for e in entries], target)
        declared = attributes(rendition.iframe_stream_inf).get("BANDWIDTH", "")
        problems = []
        if not declared.isdigit():
            problems.append("no BANDWIDTH")
        elif peak > int(declared):
            problems.append(f"measured peak {peak:.0f} > BANDWIDTH {declared}")
        ratio = f" ({peak / int(declared):.2f} of it)" if declared.isdigit() and int(declared) else ""
        findings.append(Finding("6.9", _iframe_scope(rendition), problems, f"peak {peak:.0f} vs BANDWIDTH {declared}{ratio}"))
    return findings


def track_timescales(init: bytes) -> dict[int, int]:
    """track_ID -> media timescale, from each `trak`'s `tkhd` and `mdhd`."""
    scales = {}
    for trak in (b for b in boxes(init) if b.kind == b"trak"):
        parts = {b.kind: b.payload for b in boxes(trak.payload)}
        tkhd, mdhd = parts[b"tkhd"], parts[b"mdhd"]
        track = struct.unpack_from(">I", tkhd, 20 if tkhd[0] == 1 else 12)[0]
        scales[track] = struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)[0]
    return scales


def _fmp4_iframe_problems(rendition: Rendition) -> tuple[list[str], str]:
    playlist = rendition.iframes.parsed
    problems = []
    if len(playlist.segment_map) != 1:
        problems.append(f"{len(playlist.segment_map)} EXT-X-MAP tags in the I-frame playlist (8.20)")
    fetches = [f for f in rendition.iframe_init_fetches if f.ok]
    if len(fetches) < 2 or any(f.body != fetches[0].body for f in fetches):
        problems.append("I-frame init missing or not byte-identical on every fetch")
    foreign = [e.uri for e in rendition.iframe_entries if not e.uri.split("?")[0].endswith(IFRAME_EXTENSIONS)]
    if foreign:
        problems.append(f"{len(foreign)} I-frame entries are not fMP4, e.g. {foreign[0]!r}")
    init = rendition.iframe_init
    if not init:
        return problems, ""
    if top_level(init)[:2] != [b"ftyp", b"moov"] or b"mvex" not in {b.kind for b in boxes(init)}:
        problems.append(f"I-frame init boxes {[k.decode() for k in top_level(init)]}")
    if rendition.init and avcc_record(init) != avcc_record(rendition.init):
        problems.append("the I-frame init's avcC differs from the media init's")
    trex, scales = trex_defaults(init), track_timescales(init)
    origin = min((p.pts for p in rendition.segments[0].probe.pictures), default=Fraction(0)) if rendition.complete else None
    stated, expected = Fraction(0), None
    for number, entry in enumerate(rendition.iframe_entries):
        if not entry.fetched.ok or foreign:
            break
        body = entry.fetched.body
        if b"moof" not in top_level(body) or b"mdat" not in top_level(body):
            problems.append(f"entry {number}: boxes {[k.decode() for k in top_level(body)]}, no moof+mdat")
            continue
        tracks = fragments(body, trex)
        if len(tracks) != 1:
            problems.append(f"entry {number}: {len(tracks)} track fragments")
            continue
        ((track, fragment),) = tracks.items()
        if len(fragment.sizes) != 1 or fragment.flags[0] & SAMPLE_IS_NON_SYNC:
            problems.append(f"entry {number}: {len(fragment.sizes)} samples, flags {[hex(f) for f in fragment.flags]}")
        scale = scales.get(track, 0)
        if origin is not None and scale and abs(Fraction(fragment.base_decode_time, scale) - origin - stated) > Fraction(1, 1000):
            problems.append(f"entry {number}: tfdt at {float(Fraction(fragment.base_decode_time, scale) - origin):.6f}s, stated {float(stated):.6f}s")
        if expected is not None and fragment.base_decode_time != expected:
            problems.append(f"entry {number}: tfdt {fragment.base_decode_time} does not follow the last entry's {expected} (7.3)")
        expected = fragment.base_decode_time + sum(fragment.durations)
        stated += entry.duration
    return problems, f"{len(rendition.iframe_entries)} moof+mdat keyframes after a {len(init)}-byte init"


def item_6_10_fmp4_iframes(presentation: Presentation) -> list[Finding]:
    """In an fMP4 presentation, the I-frame playlist is fMP4 too: one EXT-X-MAP (8.20) naming an init whose
    `avcC` is the media init's, and every entry a `moof` + `mdat` holding one sync sample (6.10) whose
    `tfdt` is the entry's stated time and follows the previous entry's decode time and duration (7.3)."""
    findings = []
    for rendition in _with_iframes(presentation):
        if rendition.container != FMP4:
            findings.append(Finding("6.10", _iframe_scope(rendition), None, f"{rendition.container} presentation"))
            continue
        try:
            problems, measured = _fmp4_iframe_problems(rendition)
        except (MalformedMediaError, KeyError, struct.error) as error:
            problems, measured = [f"unparsable boxes: {error!r}"], ""
        findings.append(Finding("6.10", _iframe_scope(rendition), problems, measured))
    return findings


def _iframe_sps(rendition: Rendition) -> bytes | None:
    """The SPS the I-frames decode with: their init's `avcC` for fMP4 entries, in-band for MPEG-TS ones."""
    fmp4 = any(e.uri.split("?")[0].endswith(IFRAME_EXTENSIONS) for e in rendition.iframe_entries)
    if fmp4:
        init = rendition.iframe_init or rendition.init
        return avcc_sps_and_length_size(init)[0] if init else None
    for entry in rendition.iframe_entries:
        if entry.fetched.ok:
            sps = probe_segment(entry.fetched.body, TS).sps
            if sps:
                return sps
    return None


def item_9_3_iframe_attributes(presentation: Presentation) -> list[Finding]:
    """9.3/9.4: every EXT-X-I-FRAME-STREAM-INF has CODECS and RESOLUTION, and both are true: CODECS is the
    I-frames' own SPS, RESOLUTION their decoded size."""
    findings = []
    for rendition in _with_iframes(presentation):
        declared = attributes(rendition.iframe_stream_inf)
        problems = [f"no {name}" for name in ("CODECS", "RESOLUTION") if name not in declared]
        try:
            sps = _iframe_sps(rendition)
        except (MalformedMediaError, IndexError, ProbeError) as error:
            sps, problems = None, [*problems, f"I-frame SPS unreadable: {error}"]
        real = avc1_codec(sps) if sps else "no SPS"
        if "CODECS" in declared and declared["CODECS"] != real:
            problems.append(f"CODECS {declared['CODECS']} but the I-frames' SPS says {real}")
        sizes = sorted({f"{p.width}x{p.height}" for e in rendition.iframe_entries for p in e.pictures or []})
        if "RESOLUTION" in declared and sizes != [declared["RESOLUTION"]]:
            problems.append(f"RESOLUTION {declared['RESOLUTION']} but I-frames decode at {sizes}")
        findings.append(Finding("9.3", _iframe_scope(rendition), problems, f"CODECS {real}, decoded {sizes}"))
    return findings


# --- playlists and delivery -------------------------------------------------------


def _media_span(rendition: Rendition) -> tuple[Fraction, Fraction, Fraction]:
    """(first PTS, end of the last picture, frame duration) of the rendition's decoded video."""
    pts = sorted(p.pts for s in rendition.segments for p in s.probe.pictures)
    steps = [b - a for a, b in pairwise(pts)]
    frame = min(steps) if steps else Fraction(1, 30)
    return pts[0], pts[-1] + frame, frame


def item_8_7_same_time_range(presentation: Presentation) -> list[Finding]:
    """Every media playlist and every I-frame playlist covers the same time: each variant's video spans
    the same time as every other's (first picture to the end of its last, as decoded), and each I-frame
    playlist, from its first keyframe for its EXTINF total, spans its variant's video (within half a
    frame). The media playlists' own EXTINFs against their video are rule 2's."""
    findings, spans = [], {}
    for rendition in presentation.renditions:
        if (missing := _unreadable("8.7", rendition)) is not None:
            findings.append(missing)
            continue
        start, end, frame = _media_span(rendition)
        spans[rendition.name] = (start, end)
        if rendition in _with_iframes(presentation):
            first = rendition.iframe_entries[0].pictures
            total = sum((e.duration for e in rendition.iframe_entries), Fraction(0))
            problems = []
            if not first:
                problems.append("the first I-frame does not decode")
            elif abs(first[0].pts - start) >= frame / 2 or abs(first[0].pts + total - end) >= frame / 2:
                problems.append(
                    f"{_iframe_scope(rendition)} spans {float(first[0].pts):.6f}s + {float(total):.6f}s, "
                    f"the video {float(start):.6f}s to {float(end):.6f}s"
                )
            findings.append(Finding("8.7", _iframe_scope(rendition), problems, f"{float(total):.6f}s from {float(start):.6f}s"))
    reference = next(iter(spans.values()), (Fraction(0), Fraction(0)))
    problems = [
        f"{name} spans {float(a):.6f}s to {float(b):.6f}s, not {float(reference[0]):.6f}s to {float(reference[1]):.6f}s"
        for name, (a, b) in spans.items()
        if abs(a - reference[0]) > Fraction(1, 1000) or abs(b - reference[1]) > Fraction(1, 1000)
    ]
    findings.append(Finding("8.7", "all renditions", problems, f"{len(spans)} renditions of {float(reference[1] - reference[0]):.6f}s"))
    return findings


def item_9_9_several_bit_rates(presentation: Presentation) -> list[Finding]:
    """The multivariant playlist offers the video at two or more BANDWIDTHs."""
    rates = sorted({int(attributes(line).get("BANDWIDTH", "0") or 0) for line, _ in variant_lines(presentation.master.text)})
    problems = [] if len(rates) >= 2 else [f"only {len(rates)} distinct BANDWIDTH"]
    return [Finding("9.9", "master", problems, f"{len(rates)} bit rates: {rates}")]


def item_10_1_playlists_gzipped(presentation: Presentation) -> list[Finding]:
    """Every playlist fetched with `Accept-Encoding: gzip` came gzip-encoded, however short (10.1 is a MUST
    with no size threshold)."""
    playlists = [("master", presentation.master)]
    for rendition in presentation.renditions:
        playlists.append((rendition.name, rendition.media))
        if rendition.iframes is not None:
            playlists.append((_iframe_scope(rendition), rendition.iframes))
    findings = []
    for scope, playlist in playlists:
        fetched = playlist.first
        problems = [] if fetched.ok and fetched.content_encoding == "gzip" else [
            f"{fetched.url} ({len(fetched.body)} bytes) served {fetched.content_encoding or 'uncompressed'}"
        ]
        findings.append(Finding("10.1", scope, problems, f"{len(fetched.body)} bytes, {fetched.content_encoding or 'identity'}"))
    return findings


CHECKS: tuple[Check, ...] = (
    item_1_3_profile_and_level,
    item_1_10_parameter_sets_in_sample_entry,
    item_1_11_level_not_higher_than_needed,
    item_1_18_frame_rate,
    item_1_30_peak_over_average,
    item_1_33_one_aspect_ratio,
    item_6_9_iframe_bandwidth,
    item_6_10_fmp4_iframes,
    item_8_7_same_time_range,
    item_9_3_iframe_attributes,
    item_9_9_several_bit_rates,
    item_10_1_playlists_gzipped,
)
"""One check per item of APPLE_ITEMS, in its order."""


def check_apple_items(presentation: Presentation) -> Iterable[Finding]:
    for check in CHECKS:
        yield from check(presentation)
