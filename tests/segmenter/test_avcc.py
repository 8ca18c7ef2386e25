"""H.264 repackaged for MP4: AVCC samples, parameter sets moved out of band, the avcC record."""

from __future__ import annotations

import struct
from dataclasses import replace

import pytest

from playlists.renditions import DEFAULT_RENDITIONS
from segmenter.avcc import (
    ParameterSetMismatch,
    ParameterSets,
    avcc_sample,
    chroma_and_bit_depths,
    decoder_configuration_record,
    rbsp,
    rendition_parameter_sets,
)

SPS = b"\x67\x42\xc0\x1f\xaa"
PPS = b"\x68\xce\x3c\x80"
IDR_SLICE = b"\x65\x88\x84"
SEI = b"\x06\x05\x01\x80"
ACCESS_UNIT = (
    b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x00\x01" + PPS + b"\x00\x00\x01" + SEI + b"\x00\x00\x01" + IDR_SLICE
)


def test_samples_keep_every_nal_unit_but_the_parameter_sets_each_with_a_4_byte_length():
    sample, idr = avcc_sample(ACCESS_UNIT, ParameterSets(SPS, PPS))
    assert idr
    assert sample == struct.pack(">I", len(SEI)) + SEI + struct.pack(">I", len(IDR_SLICE)) + IDR_SLICE


def test_a_p_picture_is_not_marked_idr():
    _, idr = avcc_sample(b"\x00\x00\x01\x41\x9a\x02", ParameterSets(SPS, PPS))
    assert not idr


def test_a_segment_encoder_with_other_parameter_sets_is_refused():
    with pytest.raises(ParameterSetMismatch):
        avcc_sample(ACCESS_UNIT, ParameterSets(b"\x67\x64\x00\x28\xac", PPS))
    with pytest.raises(ParameterSetMismatch):
        avcc_sample(ACCESS_UNIT, ParameterSets(SPS, b"\x68\xeb\xe3\xcb"))


def test_emulation_prevention_bytes_are_removed_before_the_sps_is_read():
    assert rbsp(b"\x67\x00\x00\x03\x01\x00\x00\x03\x00") == b"\x00\x00\x01\x00\x00\x00"


def test_baseline_record_has_no_high_profile_extension():
    baseline = replace(DEFAULT_RENDITIONS[0], name="baseline", width=320, height=180, preset="ultrafast")
    parameter_sets = rendition_parameter_sets(baseline)  # ultrafast: Constrained Baseline
    assert parameter_sets.sps[1] == 66
    record = decoder_configuration_record(parameter_sets)
    sps, pps = parameter_sets.sps, parameter_sets.pps
    assert record[:4] == bytes([1, *sps[1:4]])
    assert record[4] == 0xFF  # lengthSizeMinusOne = 3
    assert record[5] == 0xE1  # one SPS
    assert record[6:] == struct.pack(">H", len(sps)) + sps + b"\x01" + struct.pack(">H", len(pps)) + pps


def test_high_profile_record_declares_420_8bit_read_from_the_sps():
    high = replace(DEFAULT_RENDITIONS[0], name="high", width=320, height=180, preset="veryfast")
    parameter_sets = rendition_parameter_sets(high)
    assert parameter_sets.sps[1] == 100  # High profile
    assert chroma_and_bit_depths(parameter_sets.sps) == (1, 0, 0)
    assert decoder_configuration_record(parameter_sets)[-4:] == bytes([0xFC | 1, 0xF8, 0xF8, 0])
