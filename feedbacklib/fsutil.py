"""File-system primitives of publication: no symlink following, atomic swaps, durable renames.

The report run often runs as root (cron). Every path it creates or writes in a
folder others can write to (the output folder, the history store, the salt file)
is opened without following symbolic links, so a link planted there cannot make
the run truncate or overwrite a file elsewhere.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
import sys
from pathlib import Path

from .errors import SymlinkError

__all__ = ["exchange", "fsync_dir", "fsync_file", "fsync_files", "open_nofollow", "is_symlink",
           "real_dir", "make_dirs", "write_atomic", "SymlinkError"]

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def is_symlink(path: Path) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def open_nofollow(path: Path, flags: int, mode: int = 0o600) -> int:
    """``os.open`` with ``O_NOFOLLOW | O_CLOEXEC``; a symlink at ``path`` raises :class:`SymlinkError`.

    The opened file must be a regular file (a FIFO or device is refused too).
    """
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC | getattr(os, "O_NONBLOCK", 0), mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno in (errno.EMLINK, errno.EEXIST) and is_symlink(path)):
            raise SymlinkError(errno.ELOOP, "is a symbolic link; refusing to follow it", str(path)) from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise SymlinkError(errno.EINVAL, "is not a regular file", str(path))
    if hasattr(os, "O_NONBLOCK"):
        os.set_blocking(fd, True)
    return fd


def real_dir(path: Path) -> Path:
    """``path`` if it is a folder and not a symbolic link (missing is fine); else :class:`SymlinkError`."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return path
    if stat.S_ISLNK(st.st_mode):
        raise SymlinkError(errno.ELOOP, "is a symbolic link; refusing to follow it", str(path))
    if not stat.S_ISDIR(st.st_mode):
        raise SymlinkError(errno.ENOTDIR, "is not a folder", str(path))
    return path


def make_dirs(path: Path, base: Path) -> Path:
    """Create ``path`` and its parents below ``base`` (with the umask's mode), none of them a symlink."""
    rel = Path(path).relative_to(base)
    current = real_dir(base)
    for part in rel.parts:
        current = current / part
        real_dir(current)
        with contextlib.suppress(FileExistsError):
            os.mkdir(current)
        real_dir(current)
    return Path(path)


def fsync_file(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_files(folder: Path) -> None:
    """fsync every file and folder below ``folder`` (not following links), then ``folder`` itself."""
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            fsync_file(Path(dirpath) / name)
        fsync_dir(Path(dirpath))


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux ``renameat2(RENAME_EXCHANGE)``); False when unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def write_atomic(path: Path, data: bytes, *, mode: int = 0o644, replace: bool = True) -> bool:
    """Write ``data`` to ``path`` in one step: a private temporary file beside it, fsynced, then renamed.

    A reader (or a run killed half-way) sees the old file or the whole new one, never a
    partial one. With ``replace=False`` an existing ``path`` is kept and False returned
    (``link`` creates the name only if it is free, so two writers cannot both win).
    """
    folder = path.parent
    tmp = folder / f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
    fd = open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
            created = True
        else:
            try:
                os.link(tmp, path, follow_symlinks=False)
                created = True
            except FileExistsError:
                created = False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    fsync_dir(folder)
    return created
