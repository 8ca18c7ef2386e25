"""Byte-level work on each muxed MPEG-TS segment, so independently muxed
segments join up like one continuous stream.

1. FFmpeg's muxer writes an SDT (service names) before the PAT. HLS wants each
   segment to open with the PAT and PMT (RFC 8216 3.2) and no player needs the
   SDT, so its packets are dropped.
2. Continuity counters must continue across segments (Apple HLS authoring 7.2),
   yet every segment comes from a fresh muxer that starts them at 0. The PAT and
   the PMT are written exactly once per segment, so segment n numbers them n mod 16
   and they continue whichever segment came before. PES PIDs carry a count of
   packets no one knows before the segment is muxed: each is padded to a multiple
   of 16 (one continuation packet re-split into several, the freed bytes filled
   with adaptation-field stuffing), so it starts at 0 and ends at 15 and any
   segment follows any other seamlessly. No payload byte changes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from playlists.media import TS_HEADER_SIZE, TS_PACKET_SIZE

TS_SYNC_BYTE = 0x47
CC_MODULUS = 16
PAT_PID = 0x0000
SDT_PID = 0x0011
PMT_PID = 0x1000
"""Set explicitly on the muxer (`mpegts_pmt_start_pid`), so it is known here."""
FIRST_ES_PID = 0x0100
PSI_PIDS = frozenset({PAT_PID, PMT_PID})

PUSI = 0x40
"""payload_unit_start_indicator, in header byte 1."""
HAS_ADAPTATION = 0x20
HAS_PAYLOAD = 0x10
"""adaptation_field_control bits, in header byte 3."""
MAX_PAYLOAD_WITH_ADAPTATION = TS_PACKET_SIZE - TS_HEADER_SIZE - 1


class TransportStreamError(ValueError):
    """The muxer's output is not what this module can safely rewrite."""


def as_packets(data: bytes) -> np.ndarray:
    if len(data) % TS_PACKET_SIZE:
        raise TransportStreamError(f"{len(data)} bytes is not a whole number of TS packets")
    packets = np.frombuffer(data, dtype=np.uint8).reshape(-1, TS_PACKET_SIZE)
    if (packets[:, 0] != TS_SYNC_BYTE).any():
        raise TransportStreamError("lost TS sync")
    return packets


def packet_pids(packets: np.ndarray) -> np.ndarray:
    return ((packets[:, 1].astype(np.uint16) & 0x1F) << 8) | packets[:, 2]


def carries_payload(packets: np.ndarray) -> np.ndarray:
    return (packets[:, 3] & HAS_PAYLOAD) != 0


def drop_pid(data: bytes, pid: int) -> bytes:
    packets = as_packets(data)
    return packets[packet_pids(packets) != pid].tobytes()


def payload_offset(packet: np.ndarray) -> int:
    if packet[3] & HAS_ADAPTATION:
        return TS_HEADER_SIZE + 1 + int(packet[4])
    return TS_HEADER_SIZE


AF_FIELDS_WITH_DATA = 0x1F
"""PCR, OPCR, splice countdown, private data, extension: adaptation fields with bytes of their own."""
PES_START_CODE = (0x00, 0x00, 0x01)
PES_FIXED_HEADER = 9


def adaptation_flags(packet: np.ndarray) -> int:
    if packet[3] & HAS_ADAPTATION and packet[4] > 0:
        return int(packet[5])
    return 0


def first_piece_minimum(packet: np.ndarray) -> int | None:
    """Payload bytes the first piece must keep (the whole PES header), or None if unsplittable."""
    if not packet[3] & HAS_PAYLOAD or adaptation_flags(packet) & AF_FIELDS_WITH_DATA:
        return None  # no payload, or a PCR and the like: leave it whole
    if not packet[1] & PUSI:
        return 1
    payload = packet[payload_offset(packet) :]
    if len(payload) < PES_FIXED_HEADER or tuple(payload[:3]) != PES_START_CODE:
        return None
    return PES_FIXED_HEADER + int(payload[8])


def spare_pieces(packet: np.ndarray) -> int:
    """How many more packets this one's payload can be spread over."""
    minimum = first_piece_minimum(packet)
    if minimum is None:
        return 0
    return max(0, len(packet) - payload_offset(packet) - minimum)


def piece_sizes(total: int, pieces: int, first_minimum: int) -> list[int]:
    rest_pieces = pieces - 1
    first = max(first_minimum, -(-total // pieces))
    first = min(first, total - rest_pieces)
    base, extra = divmod(total - first, rest_pieces) if rest_pieces else (0, 0)
    return [first] + [base + 1 if i < extra else base for i in range(rest_pieces)]


def split_packet(packet: np.ndarray, pieces: int) -> list[np.ndarray]:
    """The same payload over `pieces` packets, padded with adaptation-field stuffing.

    The first piece keeps the start indicator, the PES header and the adaptation
    flags (random access); the others are plain continuations.
    """
    minimum = first_piece_minimum(packet)
    payload = packet[payload_offset(packet) :]
    if minimum is None or not 1 <= pieces <= len(payload) - minimum + 1:
        raise TransportStreamError(f"cannot split this packet into {pieces} packets")
    flags = adaptation_flags(packet)
    out, start = [], 0
    for number, size in enumerate(piece_sizes(len(payload), pieces, minimum)):
        header = packet[:TS_HEADER_SIZE].copy()
        header[3] = (header[3] & 0xC0) | HAS_ADAPTATION | HAS_PAYLOAD
        if number:
            header[1] &= ~PUSI & 0xFF
        piece_flags = flags if number == 0 else 0
        length = MAX_PAYLOAD_WITH_ADAPTATION - size  # adaptation_field_length
        if length < (1 if piece_flags else 0):
            raise TransportStreamError("a split piece does not fit beside its adaptation field")
        adaptation = [length] + ([piece_flags] + [0xFF] * (length - 1) if length else [])
        out.append(np.concatenate([header, np.array(adaptation, dtype=np.uint8), payload[start : start + size]]))
        start += size
    return out


def pad_pid(rows: list[np.ndarray], pid: int, deficit: int) -> None:
    """Insert `deficit` more payload packets of PES `pid` into `rows`, in place."""
    positions = [i for i, row in enumerate(rows) if packet_pid(row) == pid]
    for position in reversed(positions):
        row = rows[position]
        extra = min(deficit, spare_pieces(row))
        if extra <= 0:
            continue
        rows[position : position + 1] = split_packet(row, extra + 1)
        deficit -= extra
        if deficit == 0:
            return
    raise TransportStreamError(f"PID {pid:#06x}: no packet to split for {deficit} more packets")


def packet_pid(row: np.ndarray) -> int:
    return ((int(row[1]) & 0x1F) << 8) | int(row[2])


def renumber_continuity(packets: np.ndarray, segment_index: int) -> None:
    """PES counters from 0 per PID, PSI ones from the segment's index; packets without payload repeat the
    previous value."""
    pids = packet_pids(packets)
    payload = carries_payload(packets)
    for pid in np.unique(pids):
        rows = np.flatnonzero(pids == pid)
        first = segment_index if int(pid) in PSI_PIDS else 0
        counters = (np.cumsum(payload[rows]) - 1 + first) % CC_MODULUS
        packets[rows, 3] = (packets[rows, 3] & 0xF0) | counters.astype(np.uint8)


def continuous_counters(data: bytes, segment_index: int, minimum_packets: Mapping[int, int] | None = None) -> bytes:
    """Give segment `segment_index` counters that continue from any rendition's segment before it: each
    PSI table once, numbered by the index; every PES PID padded to a multiple of 16 packets from 0, and
    to at least `minimum_packets[pid]` where given (a rendition with fixed segment sizes)."""
    packets = as_packets(data)
    pids = packet_pids(packets)
    payload = carries_payload(packets)
    counts = {int(pid): int(payload[pids == pid].sum()) for pid in np.unique(pids)}
    repeated = {pid: count for pid, count in counts.items() if pid in PSI_PIDS and count != 1}
    if repeated:
        raise TransportStreamError(f"PSI tables must be written once per segment, got {repeated} (by PID)")
    wanted = {pid: max(count, (minimum_packets or {}).get(pid, 0)) for pid, count in counts.items()}
    deficits = {
        pid: wanted[pid] - count + (-wanted[pid]) % CC_MODULUS for pid, count in counts.items() if pid not in PSI_PIDS
    }
    if any(deficits.values()):
        rows = [row.copy() for row in packets]
        for pid, deficit in deficits.items():
            if deficit:
                pad_pid(rows, pid, deficit)
        packets = np.stack(rows)
    else:
        packets = packets.copy()
    renumber_continuity(packets, segment_index)
    return packets.tobytes()


def finish_segment(data: bytes, segment_index: int, minimum_packets: Mapping[int, int] | None = None) -> bytes:
    """Everything freshly muxed segment `segment_index` needs before it is served."""
    return continuous_counters(drop_pid(data, SDT_PID), segment_index, minimum_packets)
