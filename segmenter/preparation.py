"""Preparing clips before players ask: background decoding into the frame store, with progress.

A clip is prepared (decoded at every rendition size into `segmenter.frame_store`)
when the server starts, when it is uploaded or replaced, and when a catalogue
refresh brings one from another node. Preparation runs on one background
thread, rendition by rendition in ladder order (the start rendition of every
clip first), so the renditions players start on are ready soonest. A segment
of a clip that is not prepared yet still renders: its render prepares the
frames it needs (slower, the same bytes).

Preparation never fills the store past its budget: pairs that would not fit
(after those already on disk and queued) are skipped and prepared on first
use instead, so warming never evicts what it prepared a moment before.

A replaced clip has a new content version, so its frames go to a new file
while the old version's file stays until the store's budget evicts it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from playlists.renditions import Rendition
from segmenter.frame_store import FrameStore, file_name, frame_bytes
from segmenter.spec import ClipRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Progress:
    """Where preparation stands: (clip, size) pairs queued, prepared, failed since start."""

    pending: int
    prepared: int
    failed: int
    skipped: int
    """Pairs not queued because the store's budget would not hold them."""
    decoded: int
    """Of `prepared`, how many this node decoded (the rest were on disk already)."""
    seconds: float
    """Time spent preparing since start."""

    @property
    def done(self) -> bool:
        return self.pending == 0


class ClipPreparer:
    """A queue of (clip, rendition) pairs and the thread that works through it."""

    def __init__(self, store: FrameStore, renditions: tuple[Rendition, ...]) -> None:
        self.store = store
        self.renditions = renditions
        self._queue: deque[tuple[ClipRef, Rendition]] = deque()
        self._queued: set[str] = set()
        self._condition = threading.Condition()
        self._closed = False
        self._prepared = self._failed = self._decoded = self._skipped = 0
        self._queued_bytes = 0
        self._seconds = 0.0
        self._busy = False
        self._thread = threading.Thread(target=self._work, name="clip-preparer", daemon=True)
        self._thread.start()

    def enqueue(self, clips: Iterable[ClipRef]) -> int:
        """Queue every size of each clip not prepared yet; how many pairs were added."""
        clips = list(clips)
        added = 0
        room = self.store.budget - self.store.nbytes
        with self._condition:
            room -= self._queued_bytes
            for rendition in self.renditions:
                for clip in clips:
                    name = file_name(clip, rendition)
                    if name in self._queued or self.store.is_prepared(clip, rendition):
                        continue
                    size = (clip.frames + 1) * frame_bytes(rendition)
                    if size > room:
                        self._skipped += 1
                        continue
                    room -= size
                    self._queue.append((clip, rendition))
                    self._queued.add(name)
                    self._queued_bytes += size
                    added += 1
            self._condition.notify()
        if added:
            log.info("preparing %d clip sizes in the background", added)
        return added

    def progress(self) -> Progress:
        with self._condition:
            pending = len(self._queue) + (1 if self._busy else 0)
            return Progress(pending, self._prepared, self._failed, self._skipped, self._decoded, self._seconds)

    def wait(self, timeout: float | None = None) -> bool:
        """Until the queue is empty; False if `timeout` passed first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            while self._queue or self._busy:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._condition.wait(left)
        return True

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._queue.clear()
            self._condition.notify_all()
        self._thread.join()

    def _work(self) -> None:
        while True:
            with self._condition:
                while not self._queue and not self._closed:
                    self._condition.wait()
                if self._closed:
                    return
                clip, rendition = self._queue.popleft()
                self._busy = True
            started = time.monotonic()
            decoded, failed = False, False
            try:
                decoded = self.store.prepare(clip, rendition)
            except Exception:  # a broken clip must not stop the others; its segments report it
                failed = True
                log.exception("could not prepare clip %s for %s", clip.exercise_id, rendition.name)
            with self._condition:
                self._busy = False
                self._queued.discard(file_name(clip, rendition))
                self._queued_bytes -= (clip.frames + 1) * frame_bytes(rendition)
                self._seconds += time.monotonic() - started
                if failed:
                    self._failed += 1
                else:
                    self._prepared += 1
                    self._decoded += int(decoded)
                if not self._queue:
                    log.info(
                        "clip preparation done: %d prepared (%d decoded), %d failed, %.1f s",
                        self._prepared,
                        self._decoded,
                        self._failed,
                        self._seconds,
                    )
                self._condition.notify_all()
