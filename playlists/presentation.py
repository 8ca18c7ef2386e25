"""A plan's whole HLS presentation: the timeline, its segments and both playlists.

`Presentation` is computed once per plan and then only read; URLs inside the
playlists are relative so the same text works behind any host or prefix.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

from playlists.bandwidth import AudioModel, DeclaredBandwidth, declared_bandwidth, sounding_aac_frames
from playlists.cues import timeline_cues
from playlists.hls import (
    IFramePlaylist,
    IFrameStream,
    MediaPlaylist,
    MediaSegmentEntry,
    MultivariantPlaylist,
    VariantStream,
)
from playlists.plan import Plan
from playlists.renditions import Rendition, declared_iframe_bandwidth
from playlists.segments import Segment, cut_segments, target_duration
from playlists.timeline import Timeline, compile_plan

MEDIA_PLAYLIST_NAME = "index.m3u8"
TS = "ts"
FMP4 = "fmp4"
CONTAINERS = (TS, FMP4)
"""MPEG-TS (older players, VLC) and fMP4/CMAF (Safari and modern players), from the same timeline."""
SEGMENT_EXTENSIONS = {TS: ".ts", FMP4: ".m4s"}
INIT_SEGMENT_NAME = "init.mp4"
IFRAME_PLAYLIST_NAME = "iframes.m3u8"
IFRAME_DIRECTORY = "iframe"
IFRAME_INIT_URI = f"{IFRAME_DIRECTORY}/{INIT_SEGMENT_NAME}"
"""The fMP4 I-frame playlist's EXT-X-MAP: the video-only init (`segmenter.cmaf.iframe_init_segment`)."""


def segment_uri(index: int, container: str = TS) -> str:
    return f"{index}{SEGMENT_EXTENSIONS[container]}"


def iframe_uri(index: int, container: str = TS) -> str:
    return f"{IFRAME_DIRECTORY}/{segment_uri(index, container)}"


def iframe_playlist_uri(rendition: Rendition) -> str:
    return f"{rendition.name}/{IFRAME_PLAYLIST_NAME}"


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

    def media_playlist(self, container: str = TS) -> MediaPlaylist:
        """The same for every rendition: renditions share cut points (interop rule 7)."""
        entries = tuple(MediaSegmentEntry(s.duration, segment_uri(s.index, container)) for s in self.segments)
        map_uri = INIT_SEGMENT_NAME if container == FMP4 else None
        return MediaPlaylist(target_duration(self.segments), entries, map_uri)

    @functools.cached_property
    def _declared(self) -> dict[tuple[str, str], DeclaredBandwidth]:
        """Declared rates computed so far, by (rendition, container): the model walks every segment."""
        return {}

    @functools.cached_property
    def _target_duration(self) -> int:
        return target_duration(self.segments)

    @functools.cached_property
    def _sounding_aac_frames(self) -> tuple[int, ...]:
        return sounding_aac_frames(timeline_cues(self.timeline))

    def declared_bandwidth(self, rendition: Rendition, container: str = TS) -> DeclaredBandwidth:
        """What the variant of `rendition` in `container` declares (predicted per segment, see
        `playlists.bandwidth`): containers differ in overhead, plans in audio and segment lengths."""
        key = (rendition.name, container)
        if key not in self._declared:
            audio = AudioModel(rendition.audio_bitrate, self.plan.music is not None, self._sounding_aac_frames)
            self._declared[key] = declared_bandwidth(
                self.segments, self._target_duration, rendition, audio, container
            )
        return self._declared[key]

    def iframe_playlist(self, container: str = TS) -> IFramePlaylist:
        """One keyframe per segment (each segment's first frame), lasting the segment's duration, in the
        presentation's container (fMP4 keyframes after their EXT-X-MAP, Apple HLS authoring 8.20)."""
        keyframes = tuple(MediaSegmentEntry(s.duration, iframe_uri(s.index, container)) for s in self.segments)
        map_uri = IFRAME_INIT_URI if container == FMP4 else None
        return IFramePlaylist(target_duration(self.segments), keyframes, map_uri)

    def multivariant_playlist(self, codecs: dict[str, str], container: str = TS) -> MultivariantPlaylist:
        """`codecs` maps rendition name to its RFC 6381 string, read off the real encoder.

        Each container's multivariant playlist lists its own I-frame streams, beside its media
        playlists (the fMP4 ones sit one directory down, under `fmp4/`).
        """
        variants = []
        for rendition in self.renditions:
            declared = self.declared_bandwidth(rendition, container)
            variants.append(
                VariantStream(
                    bandwidth=declared.peak,
                    average_bandwidth=declared.average,
                    codecs=codecs[rendition.name],
                    width=rendition.width,
                    height=rendition.height,
                    frame_rate=Fraction(self.timeline.fps),
                    uri=media_playlist_uri(rendition),
                )
            )
        shortest = min(segment.duration for segment in self.segments)
        iframes = tuple(
            IFrameStream(
                bandwidth=declared_iframe_bandwidth(rendition, shortest, self.timeline.fps, container),
                codecs=codecs[rendition.name].split(",")[0],
                width=rendition.width,
                height=rendition.height,
                uri=iframe_playlist_uri(rendition),
            )
            for rendition in self.renditions
        )
        return MultivariantPlaylist(tuple(variants), iframes)


def build_presentation(plan: Plan, renditions: tuple[Rendition, ...]) -> Presentation:
    timeline = compile_plan(plan)
    return Presentation(plan, timeline, cut_segments(timeline, plan.segment_seconds), renditions)
