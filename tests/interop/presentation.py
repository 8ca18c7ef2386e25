"""Fetch a whole HLS presentation over HTTP like a player, once, and keep every fact the rules need.

Multivariant playlist -> each variant's media playlist (+ init for fMP4) -> every media segment, and each
I-frame playlist (+ its own init for fMP4) -> every I-frame resource. Playlists and init segments are fetched twice (once accepting
gzip, once not) so rule 3 and 16 can compare the bytes; everything else exactly once. Segments are probed
as soon as they arrive; nothing is decoded twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from urllib.parse import urljoin, urlsplit

import m3u8

from tests.interop.fetching import Fetched, Fetcher
from tests.interop.probe import FMP4, TS, DecodedPicture, ProbeError, SegmentProbe, decode_pictures, probe_segment

ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def attributes(line: str) -> dict[str, str]:
    """The attribute list of a tag line, values as written (quotes removed)."""
    return {key: value.strip('"') for key, value in ATTRIBUTE.findall(line.split(":", 1)[1])}


@dataclass
class PlaylistFetch:
    url: str
    first: Fetched
    """Fetched accepting gzip, as players do."""
    second: Fetched
    """Fetched again without gzip: must give the same bytes."""
    parsed: m3u8.M3U8 | None

    @property
    def text(self) -> str:
        return self.first.body.decode("utf-8", errors="replace")


def fetch_playlist(fetcher: Fetcher, url: str) -> PlaylistFetch:
    first = fetcher.get(url, accept_gzip=True)
    second = fetcher.get(url, accept_gzip=False)
    parsed = m3u8.loads(first.body.decode("utf-8", errors="replace"), uri=url) if first.ok else None
    return PlaylistFetch(url, first, second, parsed)


def extinf(segment: m3u8.Segment) -> Fraction:
    """EXTINF exactly as written (m3u8 gives a float; its shortest repr is the written decimal)."""
    return Fraction(str(segment.duration))


@dataclass
class MediaSegment:
    index: int
    uri: str
    url: str
    duration: Fraction
    fetched: Fetched
    probe: SegmentProbe | None
    problem: str = ""


@dataclass
class IFrameEntry:
    uri: str
    url: str
    duration: Fraction
    fetched: Fetched
    pictures: list[DecodedPicture] | None
    problem: str = ""


@dataclass
class Rendition:
    name: str
    stream_inf: str
    """The EXT-X-STREAM-INF line as written."""
    media: PlaylistFetch
    container: str
    init_fetches: list[Fetched] = field(default_factory=list)
    segments: list[MediaSegment] = field(default_factory=list)
    iframe_stream_inf: str | None = None
    iframes: PlaylistFetch | None = None
    iframe_entries: list[IFrameEntry] = field(default_factory=list)
    iframe_init_fetches: list[Fetched] = field(default_factory=list)
    """The I-frame playlist's own EXT-X-MAP (fMP4), fetched twice like the media init."""
    first_picture: DecodedPicture | None = None
    """Segment 0's first picture, decoded (RESOLUTION is checked against a real decode)."""

    @property
    def attributes(self) -> dict[str, str]:
        return attributes(self.stream_inf)

    @property
    def init(self) -> bytes:
        return self.init_fetches[0].body if self.init_fetches and self.init_fetches[0].ok else b""

    @property
    def iframe_init(self) -> bytes:
        fetches = self.iframe_init_fetches
        return fetches[0].body if fetches and fetches[0].ok else b""

    @property
    def complete(self) -> bool:
        """Every segment arrived and demuxed (checks of timing across segments need all of them)."""
        return bool(self.segments) and all(s.probe is not None for s in self.segments)


@dataclass
class Presentation:
    master: PlaylistFetch
    renditions: list[Rendition]
    fetcher: Fetcher


def rendition_name(uri: str, index: int) -> str:
    """'720p/index.m3u8' -> '720p': the directory names the rendition; else its position."""
    parts = [p for p in urlsplit(uri).path.split("/") if p and p != ".."]
    return parts[-2] if len(parts) >= 2 else f"variant{index}"


def variant_lines(text: str) -> list[tuple[str, str]]:
    """(EXT-X-STREAM-INF line, URI) pairs of a multivariant playlist."""
    lines = [line.strip() for line in text.splitlines()]
    pairs = []
    for position, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            uri = next((u for u in lines[position + 1 :] if u and not u.startswith("#")), "")
            pairs.append((line, uri))
    return pairs


def iframe_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.startswith("#EXT-X-I-FRAME-STREAM-INF:")]


def _fetch_segments(fetcher: Fetcher, rendition: Rendition) -> None:
    playlist = rendition.media.parsed
    if rendition.container == FMP4 and playlist.segment_map:
        init_url = urljoin(rendition.media.url, playlist.segment_map[0].uri)
        rendition.init_fetches = [fetcher.get(init_url), fetcher.get(init_url)]
    for index, segment in enumerate(playlist.segments):
        url = urljoin(rendition.media.url, segment.uri)
        fetched = fetcher.get(url)
        entry = MediaSegment(index, segment.uri, url, extinf(segment), fetched, None)
        if not fetched.ok:
            entry.problem = fetched.describe()
        elif rendition.container == FMP4 and not rendition.init:
            entry.problem = "no init segment to demux with"
        else:
            try:
                entry.probe = probe_segment(fetched.body, rendition.container, rendition.init)
                if index == 0:
                    pictures = decode_pictures(fetched.body, rendition.container, rendition.init, limit=1)
                    rendition.first_picture = pictures[0] if pictures else None
            except ProbeError as error:
                entry.problem = f"{url}: {error}"
        rendition.segments.append(entry)


def _fetch_iframes(fetcher: Fetcher, rendition: Rendition, master_url: str) -> None:
    uri = attributes(rendition.iframe_stream_inf)["URI"]
    rendition.iframes = fetch_playlist(fetcher, urljoin(master_url, uri))
    if rendition.iframes.parsed is None:
        return
    if rendition.iframes.parsed.segment_map:  # fMP4 keyframes decode after the I-frame playlist's own init
        init_url = urljoin(rendition.iframes.url, rendition.iframes.parsed.segment_map[0].uri)
        rendition.iframe_init_fetches = [fetcher.get(init_url), fetcher.get(init_url)]
    for segment in rendition.iframes.parsed.segments:
        url = urljoin(rendition.iframes.url, segment.uri)
        fetched = fetcher.get(url)
        entry = IFrameEntry(segment.uri, url, extinf(segment), fetched, None)
        if not fetched.ok:
            entry.problem = fetched.describe()
        else:
            container = FMP4 if segment.uri.endswith((".m4s", ".mp4")) else TS
            init = (rendition.iframe_init or rendition.init) if container == FMP4 else b""
            try:
                entry.pictures = decode_pictures(fetched.body, container, init)
            except ProbeError as error:
                entry.problem = f"{url}: {error}"
        rendition.iframe_entries.append(entry)


def fetch_presentation(fetcher: Fetcher, master_url: str) -> Presentation:
    master = fetch_playlist(fetcher, master_url)
    presentation = Presentation(master, [], fetcher)
    if not master.first.ok:
        return presentation
    iframe_streams = iframe_lines(master.text)
    for index, (stream_inf, uri) in enumerate(variant_lines(master.text)):
        media = fetch_playlist(fetcher, urljoin(master_url, uri))
        container = FMP4 if media.parsed is not None and media.parsed.segment_map else TS
        rendition = Rendition(rendition_name(uri, index), stream_inf, media, container)
        resolution = attributes(stream_inf).get("RESOLUTION")
        rendition.iframe_stream_inf = next(
            (line for line in iframe_streams if rendition_name(attributes(line).get("URI", ""), -1) == rendition.name),
            next((line for line in iframe_streams if attributes(line).get("RESOLUTION") == resolution), None),
        )
        if media.parsed is not None:
            _fetch_segments(fetcher, rendition)
        if rendition.iframe_stream_inf and "URI" in attributes(rendition.iframe_stream_inf):
            _fetch_iframes(fetcher, rendition, master_url)
        presentation.renditions.append(rendition)
    return presentation
