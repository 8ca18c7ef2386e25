import pytest

from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.codecs import CodecProbeError, avc1_codec, codecs_attribute


def test_codec_string_is_read_from_the_sps():
    # SPS of a High profile, level 4.0 stream: profile_idc 100, constraints 0, level 40
    annexb = b"\x00\x00\x00\x01\x09\xf0\x00\x00\x00\x01\x67\x64\x00\x28\xac\xd9"
    assert avc1_codec(annexb) == "avc1.640028"


def test_a_stream_without_sps_is_an_error():
    with pytest.raises(CodecProbeError):
        avc1_codec(b"\x00\x00\x01\x65\x88\x84")


def test_default_rendition_declares_h264_level_31_and_aac_lc():
    video, audio = codecs_attribute(DEFAULT_RENDITIONS[0]).split(",")
    assert video.startswith("avc1.") and video.endswith("1f")  # level_idc 31
    assert audio == "mp4a.40.2"
