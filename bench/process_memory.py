"""Memory as a container's limit sees it: the unreclaimable memory of a whole process tree.

The server is a process with render worker children. RSS of one process misses
the children, and counts file pages (the memory-mapped frame store) that the
kernel can drop at will. What an out-of-memory kill depends on is anonymous
plus shared memory; summed as PSS (`Pss_Anon + Pss_Shmem` from
`/proc/<pid>/smaps_rollup`), pages shared between the server and its forked
workers are counted once across the tree.
"""

from __future__ import annotations

import threading
from pathlib import Path

KIB = 1024
MIB = 1024 * 1024
UNRECLAIMABLE_FIELDS = ("Pss_Anon", "Pss_Shmem")


def descendants(pid: int) -> list[int]:
    """`pid` and every process under it (children of every thread), as they are now."""
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                stack += [int(child) for child in (task / "children").read_text().split()]
            except OSError:  # the thread or process ended meanwhile
                continue
    return found


def unreclaimable_bytes(pid: int) -> int:
    """Pss_Anon + Pss_Shmem of `pid`; 0 if it has gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    total = 0
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in UNRECLAIMABLE_FIELDS:
            total += int(rest.split()[0]) * KIB
    return total


def tree_unreclaimable_mib(pid: int) -> float:
    return sum(unreclaimable_bytes(p) for p in descendants(pid)) / MIB


class PeakSampler:
    """Samples a process tree's unreclaimable memory in the background and keeps the peak."""

    def __init__(self, pid: int, every_seconds: float = 0.2) -> None:
        self.pid = pid
        self.every = every_seconds
        self.peak_mib = 0.0
        self.last_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def start(self) -> PeakSampler:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def sample(self) -> float:
        self.last_mib = tree_unreclaimable_mib(self.pid)
        self.peak_mib = max(self.peak_mib, self.last_mib)
        return self.last_mib

    def reset(self) -> None:
        self.peak_mib = self.sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
