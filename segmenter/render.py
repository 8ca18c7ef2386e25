"""Render one segment spec to MPEG-TS bytes.

The only function here with side effects beyond CPU is reading clips through
the frame library; the output depends on the spec alone.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from itertools import chain

import av

from playlists.media import AUDIO_SAMPLE_RATE
from segmenter.audio import audio_frames, owns_packet
from segmenter.frames import FrameLibrary
from segmenter.music import music_samples
from segmenter.prefetch import prefetched
from segmenter.spec import SegmentSpec
from segmenter.transport import FIRST_ES_PID, PMT_PID, finish_segment
from segmenter.video import FramePool, configure_video_stream, video_frames

TS_FORMAT = "mpegts"
TS_OPTIONS = {
    # Fixed PIDs: segmenter.transport rewrites continuity counters per PID.
    "mpegts_pmt_start_pid": str(PMT_PID),
    "mpegts_start_pid": str(FIRST_ES_PID),
}


FRAMES_AHEAD = 4
"""Frames drawn ahead of the encoder: enough to ride out scheduling jitter, few enough to stay small."""


class RenderError(RuntimeError):
    """The encoder or muxer did not produce what the spec asks for."""


def encode_audio(stream: av.audio.stream.AudioStream, spec: SegmentSpec) -> list[av.Packet]:
    """The AAC packets this segment owns (pre- and post-roll encoded, then dropped)."""
    packets = []
    for frame in [*audio_frames(spec, music_samples(spec.music)), None]:
        packets += [packet for packet in stream.encode(frame) if owns_packet(spec, packet)]
    return packets


def render_segment(spec: SegmentSpec, library: FrameLibrary) -> bytes:
    """Encode video and audio side by side; mux on this thread only.

    The header is written (and both encoders opened) before the audio thread
    starts, so the two threads never touch the same FFmpeg context; frames are
    drawn a few ahead of the video encoder (`segmenter.prefetch`).
    """
    buffer = io.BytesIO()
    container = av.open(buffer, "w", format=TS_FORMAT, options=TS_OPTIONS)
    try:
        video = container.add_stream("libx264", rate=spec.fps)
        configure_video_stream(video, spec.rendition, spec.fps)
        audio = container.add_stream("aac", rate=AUDIO_SAMPLE_RATE, layout="stereo")
        audio.bit_rate = spec.rendition.audio_bitrate
        container.start_encoding()

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="audio") as helper:
            audio_job = helper.submit(encode_audio, audio, spec)
            video_packets = 0
            pool = FramePool(spec.rendition.width, spec.rendition.height)
            for frame in chain(prefetched(video_frames(spec, library, pool), FRAMES_AHEAD), [None]):
                for packet in video.encode(frame):
                    container.mux(packet)
                    video_packets += 1
                if frame is not None:
                    pool.release(frame)
            audio_packets = audio_job.result()
        container.mux(audio_packets)
    finally:
        container.close()

    expected_audio = spec.audio_end_frame - spec.audio_first_frame
    if video_packets != spec.frames or len(audio_packets) != expected_audio:
        raise RenderError(
            f"segment {spec.index}: encoded {video_packets}/{spec.frames} video and "
            f"{len(audio_packets)}/{expected_audio} audio packets"
        )
    return finish_segment(buffer.getvalue())
