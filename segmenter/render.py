"""Render one segment spec to MPEG-TS bytes.

The only function here with side effects beyond CPU is reading clips through
the frame library; the output depends on the spec alone.
"""

from __future__ import annotations

import io

import av

from playlists.media import AUDIO_SAMPLE_RATE
from segmenter.audio import audio_frames, owns_packet
from segmenter.frames import FrameLibrary
from segmenter.music import music_samples
from segmenter.spec import SegmentSpec
from segmenter.transport import FIRST_ES_PID, PMT_PID, finish_segment
from segmenter.video import configure_video_stream, video_frames

TS_FORMAT = "mpegts"
TS_OPTIONS = {
    # Fixed PIDs: segmenter.transport rewrites continuity counters per PID.
    "mpegts_pmt_start_pid": str(PMT_PID),
    "mpegts_start_pid": str(FIRST_ES_PID),
}


class RenderError(RuntimeError):
    """The encoder or muxer did not produce what the spec asks for."""


def render_segment(spec: SegmentSpec, library: FrameLibrary) -> bytes:
    buffer = io.BytesIO()
    container = av.open(buffer, "w", format=TS_FORMAT, options=TS_OPTIONS)
    try:
        video = container.add_stream("libx264", rate=spec.fps)
        configure_video_stream(video, spec.rendition, spec.fps)
        audio = container.add_stream("aac", rate=AUDIO_SAMPLE_RATE, layout="stereo")
        audio.bit_rate = spec.rendition.audio_bitrate

        video_packets = 0
        for frame in video_frames(spec, library):
            for packet in video.encode(frame):
                container.mux(packet)
                video_packets += 1
        for packet in video.encode(None):
            container.mux(packet)
            video_packets += 1

        audio_packets = 0
        for frame in audio_frames(spec, music_samples(spec.music)):
            for packet in audio.encode(frame):
                if owns_packet(spec, packet):
                    container.mux(packet)
                    audio_packets += 1
        for packet in audio.encode(None):
            if owns_packet(spec, packet):
                container.mux(packet)
                audio_packets += 1
    finally:
        container.close()

    expected_audio = spec.audio_end_frame - spec.audio_first_frame
    if video_packets != spec.frames or audio_packets != expected_audio:
        raise RenderError(
            f"segment {spec.index}: encoded {video_packets}/{spec.frames} video and "
            f"{audio_packets}/{expected_audio} audio packets"
        )
    return finish_segment(buffer.getvalue())
