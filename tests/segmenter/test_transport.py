import numpy as np
import pytest

from segmenter.transport import (
    PAT_PID,
    PMT_PID,
    PUSI,
    SDT_PID,
    TS_PACKET_SIZE,
    TransportStreamError,
    as_packets,
    continuous_counters,
    drop_pid,
    packet_pids,
    payload_offset,
    split_packet,
)


def ts_packet(pid: int, payload: bytes, *, start: bool = False, flags: int | None = None, cc: int = 0) -> np.ndarray:
    """A packet with `payload`, stuffed with an adaptation field as a muxer would."""
    header = [0x47, (PUSI if start else 0) | (pid >> 8), pid & 0xFF]
    room = TS_PACKET_SIZE - 4
    if len(payload) == room and flags is None:
        return np.array([*header, 0x10 | cc, *payload], dtype=np.uint8)
    length = room - 1 - len(payload)
    adaptation = [length] + ([flags or 0] + [0xFF] * (length - 1) if length else [])
    return np.array([*header, 0x30 | cc, *adaptation, *payload], dtype=np.uint8)


def pes_payload(size: int) -> bytes:
    header = bytes([0, 0, 1, 0xC0, 0, 0, 0x80, 0x80, 5, 0x21, 0, 1, 0, 1])
    return header + bytes(range(256))[: size - len(header)]


def reassembled(pieces: list[np.ndarray]) -> bytes:
    return b"".join(bytes(p[payload_offset(p) :]) for p in pieces)


def test_a_continuation_packet_splits_without_changing_its_payload():
    packet = ts_packet(0x100, bytes(range(184)))
    pieces = split_packet(packet, 5)
    assert [len(p) for p in pieces] == [TS_PACKET_SIZE] * 5
    assert reassembled(pieces) == bytes(range(184))
    assert all(not p[1] & PUSI for p in pieces)


def test_a_pes_start_keeps_its_header_and_random_access_flag_in_the_first_piece():
    payload = pes_payload(30)
    packet = ts_packet(0x101, payload, start=True, flags=0x40)
    pieces = split_packet(packet, 4)
    assert reassembled(pieces) == payload
    assert pieces[0][1] & PUSI and not any(p[1] & PUSI for p in pieces[1:])
    assert pieces[0][5] == 0x40 and all(p[5] == 0 for p in pieces[1:] if p[4])
    assert bytes(pieces[0][payload_offset(pieces[0]) :][:14]) == payload[:14]


def test_a_packet_carrying_a_pcr_is_never_split():
    packet = ts_packet(0x100, bytes(170), flags=0x10)
    with pytest.raises(TransportStreamError):
        split_packet(packet, 2)


def segment_packets(pes_counts: tuple[int, int] = (21, 5)) -> bytes:
    packets = [ts_packet(PAT_PID, bytes(184), start=True), ts_packet(PMT_PID, bytes(184), start=True)]
    packets += [ts_packet(0x100, bytes(184), cc=7)] * pes_counts[0]
    packets += [ts_packet(0x101, pes_payload(40), start=True, flags=0x40)] * pes_counts[1]
    return np.stack(packets).tobytes()


def test_pes_counters_start_at_zero_and_every_pes_pid_ends_on_fifteen():
    out = as_packets(continuous_counters(segment_packets(), 0))
    pids = packet_pids(out)
    for pid in (0x100, 0x101):
        counters = out[pids == pid, 3] & 0x0F
        assert len(counters) % 16 == 0
        assert list(counters) == [k % 16 for k in range(len(counters))]


def test_psi_tables_are_written_once_and_numbered_by_the_segment_index():
    """Segment n's PAT and PMT carry counter n mod 16, so they continue after segment n-1 of any rendition
    without repeating the tables to fill 16 packets."""
    for index in (0, 1, 15, 16, 37):
        out = as_packets(continuous_counters(segment_packets(), index))
        pids = packet_pids(out)
        for pid in (PAT_PID, PMT_PID):
            assert list(out[pids == pid, 3] & 0x0F) == [index % 16]


def test_a_segment_with_a_repeated_psi_table_is_refused():
    repeated = segment_packets() + ts_packet(PAT_PID, bytes(184), start=True).tobytes()
    with pytest.raises(TransportStreamError):
        continuous_counters(repeated, 3)


def test_dropping_the_sdt_keeps_everything_else_in_order():
    packets = np.stack([ts_packet(SDT_PID, bytes(184)), ts_packet(PAT_PID, bytes(184)), ts_packet(0x100, bytes(184))])
    assert list(packet_pids(as_packets(drop_pid(packets.tobytes(), SDT_PID)))) == [PAT_PID, 0x100]


def test_bytes_that_are_not_whole_ts_packets_are_refused():
    with pytest.raises(TransportStreamError):
        as_packets(b"\x47" * 100)


def test_a_stream_is_padded_to_at_least_its_minimum_then_to_a_whole_step():
    out = as_packets(continuous_counters(segment_packets((21, 5)), 2, {0x100: 40, 0x101: 3}))
    pids = packet_pids(out)
    assert int((pids == 0x100).sum()) == 48  # 40 asked, rounded up to a multiple of 16
    assert int((pids == 0x101).sum()) == 16  # already above its minimum: the usual padding
