"""Prepared clip frames on local disk, memory-mapped: shared by every render process, bounded.

Decoding a clip (ProRes with alpha especially) costs far more than encoding a
segment from it, so each clip is decoded once per rendition size, scaled,
composited over the backdrop, and written as raw yuv420p frames to one file
per (clip version, size). Every render process maps the same file: the pages
live in the kernel's page cache, shared by all of them and reclaimable under
memory pressure, so a catalogue of any size costs disk, not unreclaimable
memory. A segment touches only the frames it samples; nothing ever holds a
whole clip decoded (preparation writes frame by frame).

Files are written to a temporary name and renamed into place, so a reader sees
a complete file or none; an advisory lock per file makes concurrent preparers
(threads or processes, this node's only) decode it once. The directory is
bounded by a byte budget: the least recently opened files are deleted first
(a process still mapping one keeps reading it; Linux frees it when unmapped).

The directory must be on a disk, not tmpfs: tmpfs pages are shared memory,
which the kernel cannot drop.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np

from playlists.renditions import Rendition
from segmenter.frames import REST_DIM, ClipDecodeError, decoded_pictures, dimmed, make_background
from segmenter.spec import ClipRef

log = logging.getLogger(__name__)

FRAME_FILE_SUFFIX = ".yuv"
LOCK_SUFFIX = ".lock"
PARTIAL_SUFFIX = ".partial"
STALE_PARTIAL_SECONDS = 3600
"""A partial file older than this was left by a preparer that died; it is removed at start."""
OPEN_MAPPINGS = 64
"""Files a process keeps mapped at once (each costs an fd and address space, not memory)."""


@dataclass(frozen=True)
class ClipFrames:
    """One clip at one rendition size: every loop frame, and the rest-screen still.

    `frames[i]` is a packed yuv420p array (`segmenter.frames.pack_yuv420p`): backed by the prepared
    file, or decoded on demand (`DecodedFrames`) for a long clip nobody has prepared yet."""

    frames: Sequence[np.ndarray]
    rest_still: np.ndarray


class DecodedFrames(Sequence[np.ndarray]):
    """A clip's frames decoded as they are asked for, holding one at a time.

    For a long clip that is not prepared: a segment reads only the frames it
    samples, in order (a loop's wrap or a jump back restarts the decoder; a jump
    far ahead seeks to the keyframe before it). Not shared between renders.
    """

    def __init__(self, clip: ClipRef, rendition: Rendition, background: np.ndarray) -> None:
        self.clip, self.rendition, self.background = clip, rendition, background
        self._pictures: Iterator[tuple[int | None, np.ndarray]] | None = None
        self._index, self._current = -1, background
        self.decoder_starts = 0

    def __len__(self) -> int:
        return self.clip.frames

    def __getitem__(self, index: int) -> np.ndarray:  # type: ignore[override]
        if not 0 <= index < self.clip.frames:
            raise IndexError(index)
        if index == self._index:
            return self._current
        if self._pictures is None or index < self._index or index - self._index > SEEK_BEYOND_FRAMES:
            self._start_at(index)
        assert self._pictures is not None
        try:
            while self._index < index:
                number, self._current = next(self._pictures)
                if number is None:  # a seek into a stream without timestamps: read it from the start
                    self._start_at(0)
                    return self[index]
                self._index = number
        except StopIteration:
            raise ClipDecodeError(
                self.clip.exercise_id, f"{self.clip.path}: frame {index} of {self.clip.frames} could not be decoded"
            ) from None
        if self._index != index:  # the seek landed past it (no keyframe before): read from the start
            self._start_at(0)
            return self[index]
        return self._current

    def _start_at(self, index: int) -> None:
        self.decoder_starts += 1
        self._pictures = _indexed_pictures(self.clip, self.rendition, self.background, index)
        self._index, self._current = -1, self.background


SEEK_BEYOND_FRAMES = 48
"""Decode through gaps up to this many frames; seek over longer ones."""
PREPARE_ON_DEMAND_BYTES = 1 << 30
"""An unprepared clip smaller than this at a size is prepared whole when a segment needs it (the next
segments then map it); a longer one is decoded frame by frame for that segment only, so a request
never waits for a whole minute of 1080p60 to be decoded."""


def frame_bytes(rendition: Rendition) -> int:
    return rendition.width * rendition.height * 3 // 2


def file_name(clip: ClipRef, rendition: Rendition) -> str:
    """The clip's content version and the size: the same clip on two paths shares one file."""
    return f"{clip.version}-{rendition.width}x{rendition.height}{FRAME_FILE_SUFFIX}"


class FrameStore:
    """Prepared frames per (clip version, size) under `directory`, at most `budget_bytes` on disk."""

    def __init__(self, directory: Path, budget_bytes: int) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._budget = budget_bytes
        self._lock = threading.Lock()
        self._mapped: OrderedDict[str, ClipFrames] = OrderedDict()
        self._backgrounds: dict[tuple[int, int], np.ndarray] = {}
        self.prepared_here = 0
        """Files this process decoded and wrote (the others it found ready)."""
        _remove_stale_partials(self.directory)
        if _on_tmpfs(self.directory):
            log.warning("frame store %s is on tmpfs: its pages count as unreclaimable memory", self.directory)

    @property
    def budget(self) -> int:
        return self._budget

    def background(self, rendition: Rendition) -> np.ndarray:
        size = (rendition.width, rendition.height)
        with self._lock:
            if size not in self._backgrounds:
                self._backgrounds[size] = make_background(*size)
            return self._backgrounds[size]

    def path(self, clip: ClipRef, rendition: Rendition) -> Path:
        return self.directory / file_name(clip, rendition)

    @staticmethod
    def clip_bytes(clip: ClipRef, rendition: Rendition) -> int:
        """The size of a clip's prepared file at a rendition (its frames and the rest still)."""
        return (clip.frames + 1) * frame_bytes(rendition)

    def is_prepared(self, clip: ClipRef, rendition: Rendition) -> bool:
        return self.path(clip, rendition).exists()

    def clip_frames(self, clip: ClipRef, rendition: Rendition) -> ClipFrames:
        """The clip's frames at the rendition's size, preparing them first if no process has."""
        name = file_name(clip, rendition)
        with self._lock:
            if name in self._mapped:
                self._mapped.move_to_end(name)
                return self._mapped[name]
        if not self.is_prepared(clip, rendition) and self.clip_bytes(clip, rendition) > PREPARE_ON_DEMAND_BYTES:
            decoded = DecodedFrames(clip, rendition, self.background(rendition))
            return ClipFrames(decoded, dimmed(decoded[0], REST_DIM))  # the decoder goes on from frame 0
        self.prepare(clip, rendition)
        frames = self._map(clip, rendition)
        with self._lock:
            self._mapped[name] = frames
            while len(self._mapped) > OPEN_MAPPINGS:
                self._mapped.popitem(last=False)  # the mapping closes when no render holds its arrays
        return frames

    def prepare(self, clip: ClipRef, rendition: Rendition) -> bool:
        """Decode the clip to its file unless it is there; True if this call wrote it."""
        path = self.path(clip, rendition)
        if path.exists():
            return False
        with _file_lock(path.with_name(path.name + LOCK_SUFFIX)):
            if path.exists():  # another thread or process prepared it while we waited
                return False
            self._write(clip, rendition, path)
        with self._lock:
            self.prepared_here += 1
        self.evict(keep=path)
        return True

    def _write(self, clip: ClipRef, rendition: Rendition, path: Path) -> None:
        partial = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}{PARTIAL_SUFFIX}")
        started = time.monotonic()
        written, first = 0, None
        try:
            with open(partial, "wb") as out:
                for picture in _pictures(clip, rendition, self.background(rendition)):
                    if first is None:
                        first = picture
                    out.write(picture.tobytes())
                    written += 1
                if first is None or written != clip.frames:
                    raise ClipDecodeError(
                        clip.exercise_id, f"{clip.path}: decoded {written} frames, the catalogue says {clip.frames}"
                    )
                out.write(dimmed(first, REST_DIM).tobytes())
            os.replace(partial, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        log.info(
            "prepared clip %s at %dx%d: %d frames in %.2f s",
            clip.exercise_id,
            rendition.width,
            rendition.height,
            written,
            time.monotonic() - started,
        )

    def _map(self, clip: ClipRef, rendition: Rendition) -> ClipFrames:
        path = self.path(clip, rendition)
        shape = (rendition.height * 3 // 2, rendition.width)
        try:
            mapped = np.memmap(path, dtype=np.uint8, mode="r")
            with contextlib.suppress(OSError):
                os.utime(path)  # recency for eviction: the last time a process opened it
        except (FileNotFoundError, ValueError) as error:  # evicted between prepare and map, or empty
            raise ClipDecodeError(clip.exercise_id, f"{path}: prepared frames unreadable: {error}") from error
        count = mapped.size // frame_bytes(rendition)
        if count != clip.frames + 1 or mapped.size % frame_bytes(rendition):
            raise ClipDecodeError(clip.exercise_id, f"{path}: holds {count} frames, expected {clip.frames + 1}")
        pictures = mapped.reshape(count, *shape)
        return ClipFrames(pictures[: clip.frames], pictures[clip.frames])

    def files(self) -> list[Path]:
        return [p for p in self.directory.iterdir() if p.name.endswith(FRAME_FILE_SUFFIX)]

    @property
    def nbytes(self) -> int:
        """Bytes of prepared frames on disk now (every process's)."""
        return sum(_size(p) for p in self.files())

    @property
    def prepared(self) -> int:
        """How many (clip, size) files are prepared on disk."""
        return len(self.files())

    def evict(self, keep: Path | None = None) -> int:
        """Delete the least recently opened files until the store fits its budget; how many went."""
        files = sorted(self.files(), key=_mtime)
        total = sum(_size(p) for p in files)
        removed = 0
        for candidate in files:
            if total <= self._budget:
                break
            if candidate == keep:
                continue
            total -= _size(candidate)
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
                removed += 1
        return removed


def _pictures(clip: ClipRef, rendition: Rendition, background: np.ndarray) -> Iterator[np.ndarray]:
    try:
        yield from decoded_pictures(clip.path, rendition.width, rendition.height, background)
    except (av.error.FFmpegError, OSError) as error:
        raise ClipDecodeError(clip.exercise_id, f"{clip.path}: {error}") from error


def _indexed_pictures(
    clip: ClipRef, rendition: Rendition, background: np.ndarray, start: int
) -> Iterator[tuple[int | None, np.ndarray]]:
    """(frame index, picture) from the keyframe at or before `start` (from the first frame if 0)."""
    try:
        yield from decoded_pictures(
            clip.path, rendition.width, rendition.height, background, from_frame=start, fps=clip.fps
        )
    except (av.error.FFmpegError, OSError) as error:
        raise ClipDecodeError(clip.exercise_id, f"{clip.path}: {error}") from error


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive across threads and processes (flock is per open file description)."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _remove_stale_partials(directory: Path) -> None:
    cutoff = time.time() - STALE_PARTIAL_SECONDS
    for partial in directory.glob(f"*{PARTIAL_SUFFIX}"):
        if _mtime(partial) < cutoff:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()


def _on_tmpfs(directory: Path) -> bool:
    try:
        with open("/proc/self/mounts") as mounts:
            entries = [line.split() for line in mounts]
    except OSError:
        return False
    resolved, best = str(directory.resolve()), ("", "")
    for fields in entries:
        mount = fields[1] if len(fields) >= 3 else ""
        inside = resolved == mount or resolved.startswith(mount.rstrip("/") + "/")
        if mount and inside and len(mount) > len(best[0]):
            best = (fields[1], fields[2])
    return best[1] == "tmpfs"
