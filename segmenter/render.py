"""Render one segment spec to bytes: MPEG-TS, or an fMP4 media segment.

The only function here with side effects beyond CPU is reading clips through
the frame library; the output depends on the spec alone. Both containers get
the same encoders, fed the same frames: only the packaging differs.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from itertools import chain

import av

from playlists.bandwidth import AudioModel, sounding_aac_frames, ts_packet_targets
from playlists.media import AAC_FRAME_SIZE, AUDIO_SAMPLE_RATE
from segmenter.audio import audio_frames, owns_packet
from segmenter.avcc import ENCODER_HOST_FORMAT, AvccError
from segmenter.cmaf import CmafError, segment_fragment
from segmenter.frame_store import FrameStore
from segmenter.music import music_samples
from segmenter.prefetch import prefetched
from segmenter.spec import Container, SegmentSpec
from segmenter.transport import FIRST_ES_PID, PMT_PID, finish_segment
from segmenter.video import FramePool, configure_video_stream, video_frames

TS_FORMAT = "mpegts"
PSI_ONCE_PER_SEGMENT_SECONDS = 3600
"""`pat_period`: longer than any segment, so the PAT and PMT are written once, at the segment's start
(all RFC 8216 3.2 asks), and `segmenter.transport` can number them by the segment's index."""
AUDIO_PES_SPAN_MICROSECONDS = 700_000
"""The muxer's `max_delay`: it packs AAC frames into one PES until the next would start half of this
(0.35 s, 17 frames at 48 kHz) after the first, or past `pes_payload_size`. The ffmpeg command line's
default; without it every 21 ms AAC frame is a PES of its own and costs at least one 188-byte packet
(70 kbit/s even for silence), which a 192 kbit/s rendition cannot afford (`playlists.bandwidth`)."""
TS_OPTIONS = {
    # Fixed PIDs: segmenter.transport rewrites continuity counters per PID.
    "mpegts_pmt_start_pid": str(PMT_PID),
    "mpegts_start_pid": str(FIRST_ES_PID),
    "pat_period": str(PSI_ONCE_PER_SEGMENT_SECONDS),
    "max_delay": str(AUDIO_PES_SPAN_MICROSECONDS),
    # max_delay would also shift every timestamp by twice itself; they must stay as stamped
    "mpegts_copyts": "1",
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


def encode_segment(
    container: av.container.OutputContainer,
    spec: SegmentSpec,
    library: FrameStore,
    take_video: Callable[[av.Packet], None],
) -> list[av.Packet]:
    """Encode video and audio side by side; hand each video packet to `take_video`
    as it comes and return the owned audio packets.

    The header is written (and both encoders opened) before the audio thread
    starts, so the two threads never touch the same FFmpeg context; frames are
    drawn a few ahead of the video encoder (`segmenter.prefetch`).
    """
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
                take_video(packet)
                video_packets += 1
            if frame is not None:
                pool.release(frame)
        audio_packets = audio_job.result()

    expected_audio = spec.audio_end_frame - spec.audio_first_frame
    if video_packets != spec.frames or len(audio_packets) != expected_audio:
        raise RenderError(
            f"segment {spec.index}: encoded {video_packets}/{spec.frames} video and "
            f"{len(audio_packets)}/{expected_audio} audio packets"
        )
    return audio_packets


VIDEO_PID, AUDIO_PID = FIRST_ES_PID, FIRST_ES_PID + 1
"""The muxer numbers elementary streams from FIRST_ES_PID in the order they are added: video, then audio."""


def ts_minimum_packets(spec: SegmentSpec) -> dict[int, int] | None:
    """Packets per PID a `fixed_ts_sizes` rendition's segment is padded to (`playlists.bandwidth`)."""
    rendition = spec.rendition
    if not rendition.fixed_ts_sizes:
        return None
    audio = AudioModel(rendition.audio_bitrate, spec.music is not None, sounding_aac_frames(spec.cues))
    video, sound = ts_packet_targets(
        rendition, spec.frames, spec.fps, audio, spec.audio_first_frame, spec.audio_end_frame
    )
    return {VIDEO_PID: video, AUDIO_PID: sound}


def render_ts_segment(spec: SegmentSpec, library: FrameStore) -> bytes:
    """MPEG-TS: video muxed as it is encoded, then the audio; counters fixed up afterwards."""
    buffer = io.BytesIO()
    container = av.open(buffer, "w", format=TS_FORMAT, options=TS_OPTIONS)
    try:
        audio_packets = encode_segment(container, spec, library, container.mux)
        container.mux(audio_packets)
    finally:
        container.close()
    return finish_segment(buffer.getvalue(), spec.index, ts_minimum_packets(spec))


def packet_time(packet: av.Packet, stamp: int | None) -> Fraction:
    if stamp is None or packet.time_base is None:
        raise RenderError("an encoded packet without a timestamp")
    return stamp * packet.time_base


def render_fmp4_segment(spec: SegmentSpec, library: FrameStore) -> bytes:
    """fMP4 media segment (see `segmenter.cmaf`); the packets' timestamps must be
    the ones the fragment's decode times are computed from."""
    pictures: list[bytes] = []
    frame_time = Fraction(1, spec.fps)

    def take_video(packet: av.Packet) -> None:
        expected = (spec.start_frame + len(pictures)) * frame_time
        if packet_time(packet, packet.pts) != expected or packet_time(packet, packet.dts) != expected:
            raise RenderError(f"segment {spec.index}: video packet {len(pictures)} is not stamped {expected} s")
        pictures.append(bytes(packet))

    host = av.open(io.BytesIO(), "w", format=ENCODER_HOST_FORMAT)
    try:
        audio_packets = encode_segment(host, spec, library, take_video)
    finally:
        host.close()
    for offset, packet in enumerate(audio_packets):
        expected = Fraction((spec.audio_first_frame + offset) * AAC_FRAME_SIZE, AUDIO_SAMPLE_RATE)
        if packet_time(packet, packet.pts) != expected:
            raise RenderError(f"segment {spec.index}: audio packet {offset} is not stamped {expected} s")
    try:
        return segment_fragment(spec, pictures, [bytes(packet) for packet in audio_packets])
    except (AvccError, CmafError) as error:
        raise RenderError(f"segment {spec.index}: {error}") from error


def render_segment(spec: SegmentSpec, library: FrameStore) -> bytes:
    """The segment's bytes in the spec's container."""
    if spec.container == Container.FMP4:
        return render_fmp4_segment(spec, library)
    return render_ts_segment(spec, library)
