"""Keep the C heap from holding on to memory Python has freed (glibc).

Segments are megabytes of bytes objects, made and dropped all the time in the
server (received from render processes, cached, evicted) and in the render
processes (muxed, sent). glibc serves such blocks with mmap at first, but
after the first one is freed it raises its mmap threshold (up to 32 MiB) and
serves later ones from the heap, where freed blocks stay part of the process:
measured, a server under eight players grew by 50 MB every 5 s with its
segment cache full. In the server a fixed threshold keeps every large block
in its own mapping, returned to the kernel when freed. Render processes do
not use it (every frame-sized temporary would then be a fresh mapping, its
pages faulted in again: 10 % slower at 1080p); a trim after each render gives
back what they freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_MMAP_THRESHOLD = -3
"""mallopt parameter number (malloc.h); setting it also switches off glibc's dynamic threshold."""
LARGE_BLOCK_BYTES = 256 * 1024


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name)
    except OSError:
        return None


def keep_large_blocks_in_their_own_mappings() -> bool:
    """Call once at process start; False where the C library is not glibc (nothing to do there)."""
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES))


def release_freed_memory() -> None:
    """Give the heap's free pages back to the kernel (after a render)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
