"""I-frame resources for trick play: the keyframe that opens a segment, on its own.

Every segment starts with an IDR and has no other keyframe, so an I-frame
playlist (`EXT-X-I-FRAMES-ONLY`) has one entry per segment, lasting until the
next segment's keyframe. Segment byte offsets are only known once a segment is
rendered, but an I-frame playlist is written up front; so each entry is its own
small resource holding just that picture, encoded with the rendition's settings
and stamped with the segment's start time, in the presentation's container: a
video-only transport stream for MPEG-TS, a `moof` + `mdat` fragment decoded after
the rendition's video-only init for fMP4 (`segmenter.cmaf`). A player scrubbing
through the workout fetches a few KB per thumbnail instead of whole segments.
"""

from __future__ import annotations

import io
from dataclasses import replace
from itertools import islice

import av

from segmenter.avcc import ENCODER_HOST_FORMAT, AvccError
from segmenter.cmaf import CmafError, iframe_fragment
from segmenter.frame_store import FrameStore
from segmenter.render import TS_FORMAT, TS_OPTIONS
from segmenter.spec import Container, SegmentSpec
from segmenter.transport import finish_segment
from segmenter.video import configure_video_stream, video_frames


class IFrameError(RuntimeError):
    """The encoder did not produce exactly one keyframe, or it cannot be packaged."""


def keyframe_spec(spec: SegmentSpec) -> SegmentSpec:
    """The segment's spec cut to its first frame (the one its IDR shows)."""
    first = spec.runs[0]
    return replace(spec, frames=1, runs=(replace(first, frames=1),))


def encode_keyframe(container: av.container.OutputContainer, spec: SegmentSpec, library: FrameStore) -> av.Packet:
    """The segment's first picture as one IDR packet, from an encoder hosted by `container`."""
    video = container.add_stream("libx264", rate=spec.fps)
    configure_video_stream(video, spec.rendition, spec.fps)
    packets = []
    for frame in [*islice(video_frames(keyframe_spec(spec), library), 1), None]:
        packets += video.encode(frame)
    if len(packets) != 1 or not packets[0].is_keyframe:
        raise IFrameError(f"segment {spec.index}: expected one keyframe, got {len(packets)} packets")
    return packets[0]


def render_ts_iframe(spec: SegmentSpec, library: FrameStore) -> bytes:
    """A video-only MPEG-TS with the segment's first picture as one IDR at the segment's start time."""
    buffer = io.BytesIO()
    container = av.open(buffer, "w", format=TS_FORMAT, options=TS_OPTIONS)
    try:
        container.mux(encode_keyframe(container, spec, library))
    finally:
        container.close()
    return finish_segment(buffer.getvalue(), spec.index)


def render_fmp4_iframe(spec: SegmentSpec, library: FrameStore) -> bytes:
    """An fMP4 fragment with the segment's first picture as its one sample, at the segment's start time."""
    host = av.open(io.BytesIO(), "w", format=ENCODER_HOST_FORMAT)
    try:
        packet = encode_keyframe(host, spec, library)
    finally:
        host.close()
    try:
        return iframe_fragment(spec, bytes(packet))
    except (AvccError, CmafError) as error:
        raise IFrameError(f"segment {spec.index}: {error}") from error


def render_iframe(spec: SegmentSpec, library: FrameStore) -> bytes:
    """Segment `spec.index`'s keyframe alone, in the spec's container."""
    if spec.container == Container.FMP4:
        return render_fmp4_iframe(spec, library)
    return render_ts_iframe(spec, library)
