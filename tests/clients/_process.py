"""Bounded subprocess runs that always kill the whole client process tree.

Players spawn helpers (Chromium zygotes, `runuser` children), so on timeout or after the
result is known we kill the process group we created *and* any descendants found via
/proc that may have moved to another group. Output goes to temp files, not pipes, so an
escaped grandchild holding a pipe open can never block the harness.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

KILL_GRACE_SECONDS = 3.0
"""Time between SIGTERM and SIGKILL when stopping a client."""

POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Completed:
    """Outcome of one bounded client run."""

    returncode: int | None
    """Exit status; None only if the process could not be reaped (should not happen)."""
    stdout: str
    stderr: str
    elapsed: float
    timed_out: bool
    """True when the harness killed the client because `timeout` expired."""


def descendants_of(pid: int) -> list[int]:
    """All descendants of `pid` (by walking /proc ppid links)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # comm may contain spaces/parens: fields after the last ')' are fixed.
        fields = stat.rsplit(")", 1)[1].split()
        parents.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _signal_tree(proc: subprocess.Popen[bytes], descendants: Sequence[int], sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    for pid in descendants:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Stop `proc` and everything it started.

    SIGTERM goes to the leader alone first, so e.g. Chromium can stop and reap its own
    helpers (orphans would otherwise sit as zombies until init gets to them); after
    KILL_GRACE_SECONDS the process group and every known descendant get SIGKILL.
    """
    # Once the leader is reaped its pid may be reused: then only its group is safe
    # to signal (a pid stays reserved while it names a live process group).
    reaped = proc.poll() is not None
    descendants = [] if reaped else descendants_of(proc.pid)
    if not reaped:
        proc.terminate()
        try:
            proc.wait(timeout=KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            pass
    _signal_tree(proc, descendants, signal.SIGKILL)
    try:
        proc.wait(timeout=KILL_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    # Orphaned descendants are reaped by init; wait (bounded) until none is alive.
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while time.monotonic() < deadline and any(_alive(pid) for pid in descendants):
        time.sleep(POLL_SECONDS)


def _alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def run_bounded(
    argv: Sequence[str],
    timeout: float,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    done: Callable[[], bool] | None = None,
) -> Completed:
    """Run `argv` in its own session until it exits, `done()` is true, or `timeout` passes.

    When `done` turns true (e.g. a result was posted) or the time runs out, the client
    is killed with its whole tree; `timed_out` tells the two apart.
    """
    with tempfile.TemporaryDirectory(prefix="hls-client-out-") as out_dir:
        out_path = Path(out_dir, "stdout")
        err_path = Path(out_dir, "stderr")
        start = time.monotonic()
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        timed_out = False
        try:
            while proc.poll() is None:
                if done is not None and done():
                    break
                if time.monotonic() - start > timeout:
                    timed_out = True
                    break
                time.sleep(POLL_SECONDS)
        finally:
            # Always clean up: the leader may have exited while helpers live on.
            kill_tree(proc)
        elapsed = time.monotonic() - start
        return Completed(
            returncode=proc.returncode,
            stdout=out_path.read_bytes().decode("utf-8", "replace"),
            stderr=err_path.read_bytes().decode("utf-8", "replace"),
            elapsed=elapsed,
            timed_out=timed_out,
        )
