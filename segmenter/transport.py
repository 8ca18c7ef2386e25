"""Byte-level touches on the muxed MPEG-TS.

FFmpeg's muxer writes an SDT (service names) before the PAT. HLS wants each
segment to open with the PAT and PMT (RFC 8216 3.2) and no player needs the
SDT, so its packets are dropped.
"""

from __future__ import annotations

import numpy as np

TS_PACKET_SIZE = 188
TS_SYNC_BYTE = 0x47
SDT_PID = 0x0011


class TransportStreamError(ValueError):
    """The muxer's output is not whole, synchronised TS packets."""


def packet_pids(data: bytes) -> np.ndarray:
    if len(data) % TS_PACKET_SIZE:
        raise TransportStreamError(f"{len(data)} bytes is not a whole number of TS packets")
    packets = np.frombuffer(data, dtype=np.uint8).reshape(-1, TS_PACKET_SIZE)
    if (packets[:, 0] != TS_SYNC_BYTE).any():
        raise TransportStreamError("lost TS sync")
    return ((packets[:, 1].astype(np.uint16) & 0x1F) << 8) | packets[:, 2]


def drop_pid(data: bytes, pid: int) -> bytes:
    packets = np.frombuffer(data, dtype=np.uint8).reshape(-1, TS_PACKET_SIZE)
    return packets[packet_pids(data) != pid].tobytes()
