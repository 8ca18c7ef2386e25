"""A plan's whole HLS presentation: the timeline, its segments and both playlists.

`Presentation` is computed once per plan and then only read; URLs inside the
playlists are relative so the same text works behind any host or prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from playlists.hls import MediaPlaylist, MediaSegmentEntry, MultivariantPlaylist, VariantStream
from playlists.plan import Plan
from playlists.renditions import Rendition, declared_bandwidth
from playlists.segments import Segment, cut_segments, target_duration
from playlists.timeline import Timeline, compile_plan

MEDIA_PLAYLIST_NAME = "index.m3u8"
SEGMENT_EXTENSION = ".ts"


def segment_uri(index: int) -> str:
    return f"{index}{SEGMENT_EXTENSION}"


def media_playlist_uri(rendition: Rendition) -> str:
    return f"{rendition.name}/{MEDIA_PLAYLIST_NAME}"


@dataclass(frozen=True)
class Presentation:
    plan: Plan
    timeline: Timeline
    segments: tuple[Segment, ...]
    renditions: tuple[Rendition, ...]

    def rendition(self, name: str) -> Rendition:
        for rendition in self.renditions:
            if rendition.name == name:
                return rendition
        raise KeyError(name)

    def media_playlist(self) -> MediaPlaylist:
        """The same for every rendition: renditions share cut points (interop rule 7)."""
        entries = tuple(MediaSegmentEntry(s.duration, segment_uri(s.index)) for s in self.segments)
        return MediaPlaylist(target_duration(self.segments), entries)

    def multivariant_playlist(self, codecs: dict[str, str]) -> MultivariantPlaylist:
        """`codecs` maps rendition name to its RFC 6381 string, read off the real encoder."""
        variants = []
        for rendition in self.renditions:
            peak, average = declared_bandwidth(rendition)
            variants.append(
                VariantStream(
                    bandwidth=peak,
                    average_bandwidth=average,
                    codecs=codecs[rendition.name],
                    width=rendition.width,
                    height=rendition.height,
                    frame_rate=Fraction(self.timeline.fps),
                    uri=media_playlist_uri(rendition),
                )
            )
        return MultivariantPlaylist(tuple(variants))


def build_presentation(plan: Plan, renditions: tuple[Rendition, ...]) -> Presentation:
    timeline = compile_plan(plan)
    return Presentation(plan, timeline, cut_segments(timeline, plan.segment_seconds), renditions)
