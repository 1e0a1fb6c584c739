"""The lock on an output folder: one report run (or history-store writer) at a time.

The lock is the kernel's ``flock`` on ``folder/.lock``; the file only says who holds it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import logging
import os
import socket
from pathlib import Path

from .errors import LockError, OutputError
from .fsutil import SymlinkError, open_nofollow
from .runlog import sanitise

__all__ = ["lock", "lock_holder"]

log = logging.getLogger("feedbacklib.run")


def _read_owner(fd: int) -> dict:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = os.read(fd, 4096)
        owner = json.loads(data.decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _open_locked(path: Path) -> tuple[int, dict]:
    """Open and ``flock`` the lock file; ``(fd, previous owner)``, or raise :class:`LockError`.

    The lock is the kernel's ``flock`` on the open file, not the file's existence:
    a run killed with ``kill -9`` loses its lock with its file descriptors, so a
    lock can never go stale. The file only carries who holds it, for the message.
    """
    while True:
        try:
            fd = open_nofollow(path, os.O_RDWR | os.O_CREAT, 0o644)
        except SymlinkError as exc:
            raise OutputError(f"The lock file {sanitise(path)} {exc.strerror}. Nothing was written; remove it "
                              "(rm) and run again.") from None
        except OSError as exc:
            raise OutputError(f"Cannot create the lock file {path}: {exc.strerror}. "
                              "Check that the output folder is writable.") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fd)
            os.close(fd)
            pid, host = owner.get("pid", "?"), owner.get("host", "?")
            started = owner.get("started")
            since = (f", started {_dt.datetime.fromtimestamp(started, _dt.timezone.utc):%Y-%m-%d %H:%M UTC}"
                     if isinstance(started, (int, float)) else "")
            raise LockError(
                f"Another report run holds the lock {path} (pid {pid} on {host}{since}). "
                "Wait for it to finish; the lock is released automatically when that process ends."
            ) from None
        # A finishing run unlinks the file while holding it: make sure we locked the file at `path`.
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd, _read_owner(fd)
        os.close(fd)


@contextlib.contextmanager
def lock(folder: Path, now: _dt.datetime | None = None):
    """An exclusive lock on ``folder`` for the whole run (``flock`` on ``folder/.lock``); ``now`` (from
    the caller's edge) is recorded as when the run started."""
    path = folder / ".lock"
    fd, previous = _open_locked(path)
    try:
        if previous.get("pid"):
            log.warning("Cleared a stale lock left by pid %s on %s (that run was killed)",
                        previous.get("pid"), previous.get("host"))
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": now.timestamp() if now else None})
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode("utf-8"), 0)
        yield
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # while still holding the lock, see _open_locked
        os.close(fd)


def lock_holder(folder: Path) -> None:
    """Raise :class:`LockError` when a run holds the lock on ``folder`` (without taking it)."""
    path = folder / ".lock"
    if not os.path.lexists(path):
        return
    fd, _ = _open_locked(path)
    os.close(fd)  # we got it, so nobody holds it
