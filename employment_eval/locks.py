"""One writer at a time: advisory file locks beside the working database and the marts file.

A run holds `<work>.lock` and `<marts>.lock` from its start until its end (work first, then
marts, so two runs never wait on each other in a circle). A second run on the same working
database or the same marts file waits up to `wait_seconds`, then gives up with `LockBusy`.
The locks are `flock` locks: the kernel drops them when their holder dies, so a killed run never
leaves a lock behind. Within one process a lock is re-entrant (the year-end flow runs the nightly
refresh as a subflow under the locks it already holds)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

POLL_SECONDS = 0.2


class LockBusy(Exception):
    """Another run holds the lock (after waiting the allowed time)."""

    def __init__(self, path: Path, waited: float):
        self.path = path
        self.waited = waited
        super().__init__(
            f"另一次运行正在使用 {path.with_suffix('')}（锁文件 {path}），"
            f"等待 {waited:.0f} 秒后仍未结束，本次未运行、未发布任何结果。"
            "请等那次运行结束后再试，或用 --wait 秒数 延长等待时间。"
        )


_HELD: dict[Path, list[int]] = {}  # lock path → [fd, depth]
_GUARD = threading.Lock()


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def hold(
    target: Path, wait_seconds: float = 0, on_wait: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """Hold the lock of `target` (a file path; the lock file sits beside it)."""
    path = lock_path(target)
    with _GUARD:
        held = _HELD.get(path)
        if held is not None:
            held[1] += 1
    if held is not None:
        try:
            yield path
        finally:
            _release(path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        started = time.monotonic()
        told = False
        while not _try_lock(fd):
            waited = time.monotonic() - started
            if waited >= wait_seconds:
                raise LockBusy(path, waited)
            if on_wait is not None and not told:
                on_wait(f"另一次运行正在使用 {target}，等待其结束（最多 {wait_seconds:.0f} 秒）……")
                told = True
            time.sleep(POLL_SECONDS)
    except BaseException:
        os.close(fd)
        raise
    with _GUARD:
        _HELD[path] = [fd, 1]
    try:
        yield path
    finally:
        _release(path)


def _release(path: Path) -> None:
    with _GUARD:
        held = _HELD[path]
        held[1] -= 1
        if held[1] > 0:
            return
        del _HELD[path]
    fcntl.flock(held[0], fcntl.LOCK_UN)
    os.close(held[0])


def is_held_here(target: Path) -> bool:
    return lock_path(target) in _HELD
