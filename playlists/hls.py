"""Typed HLS playlists, written as text (RFC 8216).

One class per concept; `render()` gives the exact bytes served. Nothing here
reads a clock or a random source, so the same inputs always give the same bytes
(a VOD playlist must never change between requests).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

HLS_VERSION = 3
"""Decimal EXTINF needs version 3; nothing here needs more (RFC 8216 section 7)."""

MAP_PLAYLIST_VERSION = 6
"""EXT-X-MAP in a playlist without I-frames needs version 6 (RFC 8216 section 7)."""

IFRAME_PLAYLIST_VERSION = 4
"""EXT-X-I-FRAMES-ONLY needs version 4 (RFC 8216 section 7)."""

IFRAME_MAP_PLAYLIST_VERSION = 5
"""EXT-X-MAP in an I-frame playlist needs version 5 (RFC 8216 sections 4.3.2.5 and 7)."""

EXTINF_DECIMALS = 6


def format_duration(seconds: Fraction) -> str:
    return f"{float(seconds):.{EXTINF_DECIMALS}f}"


@dataclass(frozen=True)
class MediaSegmentEntry:
    """An EXTINF line and the URI after it."""

    duration: Fraction
    uri: str

    def render(self) -> str:
        return f"#EXTINF:{format_duration(self.duration)},\n{self.uri}\n"


@dataclass(frozen=True)
class MediaPlaylist:
    """A complete VOD media playlist: every segment known up front, ENDLIST at the end."""

    target_duration: int
    segments: tuple[MediaSegmentEntry, ...]
    map_uri: str | None = None
    """The init segment (fMP4) every media segment needs first: one EXT-X-MAP for the whole playlist."""

    def render(self) -> str:
        version = MAP_PLAYLIST_VERSION if self.map_uri else HLS_VERSION
        head = (
            "#EXTM3U\n"
            f"#EXT-X-VERSION:{version}\n"
            f"#EXT-X-TARGETDURATION:{self.target_duration}\n"
            "#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXT-X-PLAYLIST-TYPE:VOD\n"
            "#EXT-X-INDEPENDENT-SEGMENTS\n"
        )
        if self.map_uri:
            head += f'#EXT-X-MAP:URI="{self.map_uri}"\n'
        return head + "".join(entry.render() for entry in self.segments) + "#EXT-X-ENDLIST\n"


@dataclass(frozen=True)
class IFramePlaylist:
    """A VOD I-frame playlist: one entry per keyframe, each lasting until the next keyframe.

    Every entry's URI is a resource holding only that keyframe, so no EXT-X-BYTERANGE is needed.
    """

    target_duration: int
    keyframes: tuple[MediaSegmentEntry, ...]
    map_uri: str | None = None
    """fMP4: the init segment every keyframe needs first (RFC 8216 4.3.3.6: I-frame resources must be
    loadable in any order, so their Media Initialization Section is named once for all)."""

    def render(self) -> str:
        version = IFRAME_MAP_PLAYLIST_VERSION if self.map_uri else IFRAME_PLAYLIST_VERSION
        head = (
            "#EXTM3U\n"
            f"#EXT-X-VERSION:{version}\n"
            f"#EXT-X-TARGETDURATION:{self.target_duration}\n"
            "#EXT-X-MEDIA-SEQUENCE:0\n"
            "#EXT-X-PLAYLIST-TYPE:VOD\n"
            "#EXT-X-INDEPENDENT-SEGMENTS\n"
            "#EXT-X-I-FRAMES-ONLY\n"
        )
        if self.map_uri:
            head += f'#EXT-X-MAP:URI="{self.map_uri}"\n'
        return head + "".join(entry.render() for entry in self.keyframes) + "#EXT-X-ENDLIST\n"


@dataclass(frozen=True)
class IFrameStream:
    """An EXT-X-I-FRAME-STREAM-INF line of the multivariant playlist (video codec only)."""

    bandwidth: int
    codecs: str
    width: int
    height: int
    uri: str

    def render(self) -> str:
        return (
            f'#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH={self.bandwidth},CODECS="{self.codecs}",'
            f'RESOLUTION={self.width}x{self.height},URI="{self.uri}"\n'
        )


@dataclass(frozen=True)
class VariantStream:
    """An EXT-X-STREAM-INF entry of the multivariant playlist."""

    bandwidth: int
    average_bandwidth: int
    codecs: str
    width: int
    height: int
    frame_rate: Fraction
    uri: str

    def render(self) -> str:
        attributes = ",".join(
            [
                f"BANDWIDTH={self.bandwidth}",
                f"AVERAGE-BANDWIDTH={self.average_bandwidth}",
                f'CODECS="{self.codecs}"',
                f"RESOLUTION={self.width}x{self.height}",
                f"FRAME-RATE={float(self.frame_rate):.3f}",
            ]
        )
        return f"#EXT-X-STREAM-INF:{attributes}\n{self.uri}\n"


@dataclass(frozen=True)
class MultivariantPlaylist:
    variants: tuple[VariantStream, ...]
    iframe_streams: tuple[IFrameStream, ...] = ()

    def render(self) -> str:
        head = f"#EXTM3U\n#EXT-X-VERSION:{HLS_VERSION}\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        body = "".join(variant.render() for variant in self.variants)
        return head + body + "".join(stream.render() for stream in self.iframe_streams)
