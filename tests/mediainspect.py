"""Readers for what segments really contain, written independently of the server's writers.

Shared by the segmenter tests and the interop conformance checker (tests/interop/): ISO BMFF boxes and
track fragments, MPEG-TS packets (PIDs, continuity counters, PAT/PMT), H.264 NAL units and slice types,
and the RFC 8216 peak/average bit rate of a run of segments.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from playlists import bandwidth
from playlists.media import TS_PACKET_SIZE
from segmenter.codecs import nal_units

# --- ISO BMFF (fMP4) ------------------------------------------------------------

CONTAINER_BOXES = frozenset({b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"dinf", b"edts"})
SAMPLE_ENTRY_FIELDS = {b"avc1": 78, b"mp4a": 28}
"""Bytes of fixed fields before a sample entry's child boxes (VisualSampleEntry, AudioSampleEntry)."""


class MalformedMediaError(ValueError):
    """Bytes that do not parse as the container they claim to be."""


@dataclass(frozen=True)
class Box:
    kind: bytes
    path: tuple[bytes, ...]
    payload: bytes


def boxes(data: bytes, path: tuple[bytes, ...] = ()) -> Iterator[Box]:
    """Every box, depth first, descending into the container boxes."""
    position = 0
    while position < len(data):
        if position + 8 > len(data):
            raise MalformedMediaError(f"truncated box header at {position}")
        size, kind = struct.unpack_from(">I4s", data, position)
        if size < 8 or position + size > len(data):
            raise MalformedMediaError(f"box {kind!r} of size {size} at {position} overruns {len(data)} bytes")
        payload = data[position + 8 : position + size]
        yield Box(kind, path, payload)
        if kind in CONTAINER_BOXES:
            yield from boxes(payload, (*path, kind))
        elif kind == b"stsd":  # a full box with an entry count, then the sample entries
            yield from boxes(payload[8:], (*path, kind))
        elif kind in SAMPLE_ENTRY_FIELDS:  # fixed fields, then child boxes
            yield from boxes(payload[SAMPLE_ENTRY_FIELDS[kind] :], (*path, kind))
        position += size


def top_level(data: bytes) -> list[bytes]:
    return [b.kind for b in boxes(data) if not b.path]


@dataclass(frozen=True)
class TrackFragment:
    track_id: int
    base_decode_time: int
    """tfdt, read as a signed number for version 1 (a 'negative' tfdt is a huge unsigned one)."""
    durations: list[int]
    sizes: list[int]
    flags: list[int]
    data_offset: int
    trun_flags: int
    tfhd_flags: int


def trex_defaults(init: bytes) -> dict[int, tuple[int, int, int]]:
    """track_ID -> (default duration, size, flags) from the init's `trex` boxes."""
    defaults = {}
    for box in boxes(init):
        if box.kind == b"trex":
            track, _, duration, size, flags = struct.unpack_from(">IIIII", box.payload, 4)
            defaults[track] = (duration, size, flags)
    return defaults


def parse_traf(traf: bytes, trex: dict[int, tuple[int, int, int]]) -> TrackFragment:
    parts = {box.kind: box.payload for box in boxes(traf)}
    tfhd, tfdt, trun = parts[b"tfhd"], parts[b"tfdt"], parts[b"trun"]
    tfhd_flags = int.from_bytes(tfhd[1:4], "big")
    (track,) = struct.unpack_from(">I", tfhd, 4)
    duration, size, flags = trex.get(track, (0, 0, 0))
    position = 8
    for bit, width in ((0x1, 8), (0x2, 4)):  # base data offset, sample description index
        position += width if tfhd_flags & bit else 0
    for bit in (0x8, 0x10, 0x20):
        if tfhd_flags & bit:
            (value,) = struct.unpack_from(">I", tfhd, position)
            position += 4
            duration, size, flags = (
                value if bit == 0x8 else duration,
                value if bit == 0x10 else size,
                value if bit == 0x20 else flags,
            )
    base = struct.unpack_from(">q" if tfdt[0] == 1 else ">I", tfdt, 4)[0]
    trun_flags = int.from_bytes(trun[1:4], "big")
    count, position = struct.unpack_from(">I", trun, 4)[0], 8
    data_offset = 0
    if trun_flags & 0x1:
        (data_offset,) = struct.unpack_from(">i", trun, position)
        position += 4
    first_flags = None
    if trun_flags & 0x4:
        (first_flags,) = struct.unpack_from(">I", trun, position)
        position += 4
    durations, sizes, sample_flags = [], [], []
    for n in range(count):
        values = {}
        for bit in (0x100, 0x200, 0x400, 0x800):
            if trun_flags & bit:
                values[bit] = struct.unpack_from(">I", trun, position)[0]
                position += 4
        durations.append(values.get(0x100, duration))
        sizes.append(values.get(0x200, size))
        sample_flags.append(values.get(0x400, first_flags if n == 0 and first_flags is not None else flags))
    return TrackFragment(track, base, durations, sizes, sample_flags, data_offset, trun_flags, tfhd_flags)


def fragments(segment: bytes, trex: dict[int, tuple[int, int, int]]) -> dict[int, TrackFragment]:
    return {f.track_id: f for f in (parse_traf(b.payload, trex) for b in boxes(segment) if b.kind == b"traf")}


def avcc_record(init: bytes) -> bytes:
    return next(b.payload for b in boxes(init) if b.kind == b"avcC")


# --- MPEG-TS --------------------------------------------------------------------

TS_SYNC_BYTE = 0x47
NULL_PID = 0x1FFF
PAT_PID = 0x0000
PAT_TABLE_ID = 0x00
PMT_TABLE_ID = 0x02
CC_MODULUS = 16


@dataclass(frozen=True)
class TsPacket:
    offset: int
    pid: int
    unit_start: bool
    has_payload: bool
    continuity: int
    payload: bytes


def ts_rows(data: bytes) -> np.ndarray:
    """The segment as an (n, 188) array of packets, sync bytes checked."""
    if len(data) % TS_PACKET_SIZE:
        raise MalformedMediaError(f"{len(data)} bytes is not a whole number of {TS_PACKET_SIZE}-byte packets")
    rows = np.frombuffer(data, dtype=np.uint8).reshape(-1, TS_PACKET_SIZE)
    if rows.size and not (rows[:, 0] == TS_SYNC_BYTE).all():
        raise MalformedMediaError(f"no sync byte at packet {int(np.argmax(rows[:, 0] != TS_SYNC_BYTE))}")
    return rows


@dataclass(frozen=True)
class TsHeaders:
    """Header fields of every packet of a segment, as arrays (fast enough for whole presentations)."""

    pid: np.ndarray
    unit_start: np.ndarray
    has_payload: np.ndarray
    continuity: np.ndarray


def ts_headers(data: bytes) -> TsHeaders:
    rows = ts_rows(data)
    return TsHeaders(
        pid=((rows[:, 1].astype(np.int32) & 0x1F) << 8) | rows[:, 2],
        unit_start=(rows[:, 1] & 0x40) != 0,
        has_payload=(rows[:, 3] & 0x10) != 0,
        continuity=(rows[:, 3] & 0x0F).astype(np.int32),
    )


def ts_packet(data: bytes, index: int) -> TsPacket:
    """One packet's header fields and payload (after any adaptation field)."""
    offset = index * TS_PACKET_SIZE
    packet = data[offset : offset + TS_PACKET_SIZE]
    if len(packet) != TS_PACKET_SIZE or packet[0] != TS_SYNC_BYTE:
        raise MalformedMediaError(f"no packet {index}")
    control = (packet[3] >> 4) & 0x3
    start = 4 + (1 + packet[4] if control & 0x2 else 0)
    return TsPacket(
        offset=offset,
        pid=((packet[1] & 0x1F) << 8) | packet[2],
        unit_start=bool(packet[1] & 0x40),
        has_payload=bool(control & 0x1),
        continuity=packet[3] & 0x0F,
        payload=packet[start:] if control & 0x1 else b"",
    )


def psi_section(packet: TsPacket) -> bytes:
    """The section a PSI packet starts (after its pointer field), up to its section_length, CRC included."""
    pointer = packet.payload[0]
    section = packet.payload[1 + pointer :]
    length = ((section[1] & 0x0F) << 8) | section[2]
    return section[: 3 + length]


def pat_programs(section: bytes) -> dict[int, int]:
    """program_number -> PMT PID of a PAT section (program 0, the network PID, left out)."""
    if section[0] != PAT_TABLE_ID:
        raise MalformedMediaError(f"table id {section[0]:#x} on PID 0 is not a PAT")
    entries = section[8:-4]  # after the 8-byte header, before the CRC
    programs = {}
    for position in range(0, len(entries) - 3, 4):
        number = int.from_bytes(entries[position : position + 2], "big")
        pid = int.from_bytes(entries[position + 2 : position + 4], "big") & 0x1FFF
        if number:
            programs[number] = pid
    return programs


# --- H.264 ----------------------------------------------------------------------

NAL_SLICE = 1
NAL_IDR = 5
NAL_SPS = 7
SLICE_TYPE_NAMES = {0: "P", 1: "B", 2: "I", 3: "SP", 4: "SI"}


annexb_units = nal_units
"""Split an Annex B byte stream at its start codes (the segmenter's own splitter)."""


def length_prefixed_units(sample: bytes, length_size: int = 4) -> list[bytes]:
    units, position = [], 0
    while position < len(sample):
        length = int.from_bytes(sample[position : position + length_size], "big")
        units.append(sample[position + length_size : position + length_size + length])
        position += length_size + length
    if position != len(sample):
        raise MalformedMediaError("NAL lengths do not add up to the sample size")
    return units


def _unescaped(unit: bytes, limit: int) -> bytes:
    """The first bytes of a NAL unit's RBSP: emulation-prevention bytes (00 00 03) removed."""
    out = bytearray()
    zeros = 0
    for byte in unit[1:limit]:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _exp_golomb(bits: str, position: int) -> tuple[int, int]:
    zeros = 0
    while bits[position + zeros] == "0":
        zeros += 1
    value = int(bits[position + zeros : position + 2 * zeros + 1], 2) - 1
    return value, position + 2 * zeros + 1


def slice_type(unit: bytes) -> int:
    """slice_type % 5 of a coded slice NAL unit (0 P, 1 B, 2 I): first_mb_in_slice, then slice_type."""
    bits = "".join(f"{byte:08b}" for byte in _unescaped(unit, 16))
    _, position = _exp_golomb(bits, 0)
    kind, _ = _exp_golomb(bits, position)
    return kind % 5


def avc1_codec(sps: bytes) -> str:
    """'avc1.PPCCLL' from an SPS NAL unit: profile_idc, constraint flags, level_idc."""
    return f"avc1.{sps[1]:02x}{sps[2]:02x}{sps[3]:02x}"


# --- bit rates ------------------------------------------------------------------


rfc_peak_and_average = bandwidth.rfc_peak_and_average
"""The RFC 8216 definition the server predicts against, applied here to measured sizes."""
