"""Fault injection for the tests: kill, disk full or a pause at named points of a run.

Nothing happens unless the environment variable ``FEEDBACKLIB_FAULT`` names the point
(``point[:action]``, comma-separated; actions ``kill`` (default), ``enospc``, ``erofs``,
``pause``). ``tests/test_faults.py`` drives it; production runs never set it.
"""

from __future__ import annotations

import errno
import os
import signal
import tempfile
import time
from pathlib import Path

__all__ = ["FAULT_ENV", "FAULT_DIR_ENV", "fault", "fault_requested", "fault_action"]

FAULT_ENV = "FEEDBACKLIB_FAULT"
FAULT_DIR_ENV = "FEEDBACKLIB_FAULT_DIR"


def fault(point: str, path: Path | None = None) -> None:
    """Fire the fault named ``point`` if the environment asks for it."""
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    for item in spec.split(","):
        name, _, action = item.strip().partition(":")
        if name != point:
            continue
        action = action or "kill"
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        elif action == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path or ""))
        elif action == "erofs":
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path or ""))
        elif action == "pause":
            folder = Path(os.environ.get(FAULT_DIR_ENV) or tempfile.gettempdir())
            (folder / f"{point}.reached").write_text(str(os.getpid()))
            deadline = time.monotonic() + 300
            while not (folder / f"{point}.go").exists() and time.monotonic() < deadline:
                time.sleep(0.05)


def fault_requested(point: str) -> bool:
    return any(item.strip().partition(":")[0] == point for item in os.environ.get(FAULT_ENV, "").split(","))


def fault_action(point: str) -> str | None:
    for item in os.environ.get(FAULT_ENV, "").split(","):
        name, _, action = item.strip().partition(":")
        if name == point:
            return action or "kill"
    return None
