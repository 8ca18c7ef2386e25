"""I-frame resources for trick play: the keyframe that opens a segment, on its own.

Every segment starts with an IDR and has no other keyframe, so an I-frame
playlist (`EXT-X-I-FRAMES-ONLY`) has one entry per segment, lasting until the
next segment's keyframe. Segment byte offsets are only known once a segment is
rendered, but an I-frame playlist is written up front; so each entry is its own
small resource: a transport stream holding just that picture, encoded with the
rendition's settings and stamped with the segment's start time. A player
scrubbing through the workout fetches a few KB per thumbnail instead of whole
segments.
"""

from __future__ import annotations

import io
from dataclasses import replace
from itertools import islice

import av

from segmenter.frame_store import FrameStore
from segmenter.render import TS_FORMAT, TS_OPTIONS
from segmenter.spec import SegmentSpec
from segmenter.transport import finish_segment
from segmenter.video import configure_video_stream, video_frames


class IFrameError(RuntimeError):
    """The encoder did not produce exactly one keyframe."""


def keyframe_spec(spec: SegmentSpec) -> SegmentSpec:
    """The segment's spec cut to its first frame (the one its IDR shows)."""
    first = spec.runs[0]
    return replace(spec, frames=1, runs=(replace(first, frames=1),))


def render_iframe(spec: SegmentSpec, library: FrameStore) -> bytes:
    """A video-only MPEG-TS with the segment's first picture as one IDR at the segment's start time."""
    buffer = io.BytesIO()
    container = av.open(buffer, "w", format=TS_FORMAT, options=TS_OPTIONS)
    try:
        video = container.add_stream("libx264", rate=spec.fps)
        configure_video_stream(video, spec.rendition, spec.fps)
        packets = []
        for frame in [*islice(video_frames(keyframe_spec(spec), library), 1), None]:
            packets += video.encode(frame)
        if len(packets) != 1 or not packets[0].is_keyframe:
            raise IFrameError(f"segment {spec.index}: expected one keyframe, got {len(packets)} packets")
        container.mux(packets)
    finally:
        container.close()
    return finish_segment(buffer.getvalue(), spec.index)
