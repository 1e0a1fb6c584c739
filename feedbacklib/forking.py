"""One function run in a forked child process while this process goes on with other work.

The pandas engine holds the month in one process; on two cores, steps that do not depend on each
other (the month's parts and the emerging themes, say) can run at once. A forked child inherits
the rows without copying or pickling them, and sends back only its (small) result::

    with Forked(emerging_themes, frame, history, month) as later:
        parts = month_parts(frame, ...)   # meanwhile, here
        emerging = later.result()

Leaving the ``with`` block without the result (an error meanwhile) stops the child.

Where ``fork`` is not available (Windows, macOS' default, a daemonic process such as a Dask
worker, a child of :class:`Forked` itself), the work is small, less than :data:`FORK_MIN_AVAILABLE`
of memory is free (a child's own allocations come on top of this process's), or the fork fails, the
function simply runs here when its result is asked for: the result is the same.
A child that dies without a result (killed for memory, say) is reported in the log, and its
function is run here instead, so the run loses nothing.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["Forked", "can_fork", "available_memory", "room_to_fork", "FORK_MIN_AVAILABLE"]

log = logging.getLogger(__name__)
T = TypeVar("T")


#: Memory the machine (or this process's control group) must have free for :class:`Forked` to fork:
#: a child's own allocations come on top of what it shares with this process (at a million rows each
#: child of the report's steps allocates a few hundred megabytes). Below, the work runs here.
FORK_MIN_AVAILABLE = 1 << 30


#: True in a child started by :class:`Forked`: it does its work in one process (the parent and its
#: other children have the cores), and a cancelled child leaves no workers of its own behind.
_IN_FORKED_CHILD = False


def can_fork() -> bool:
    """Whether this process may fork workers: not a daemonic process (such as a Dask worker), nor a
    :class:`Forked` child. The tagging and sentiment pools ask this too."""
    return ("fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon
            and not _IN_FORKED_CHILD)


def available_memory() -> int | None:
    """Bytes of memory free for new allocations: ``MemAvailable``, or less when this process's control
    group (v2 ``memory.max``, v1 ``memory.limit_in_bytes``) leaves less; None where neither is known."""
    found: list[int] = []
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
                    break
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            groups = [line.rstrip("\n").split(":", 2) for line in fh]
        for _, controllers, path in groups:
            if controllers == "":  # v2
                base, limit, used = f"/sys/fs/cgroup{path}", "memory.max", "memory.current"
            elif "memory" in controllers.split(","):  # v1
                base, limit, used = f"/sys/fs/cgroup/memory{path}", "memory.limit_in_bytes", "memory.usage_in_bytes"
            else:
                continue
            with contextlib.suppress(OSError, ValueError):
                with open(f"{base}/{limit}", encoding="ascii") as fh:
                    cap = fh.read().strip()
                if cap != "max" and int(cap) < 1 << 60:
                    with open(f"{base}/{used}", encoding="ascii") as fh:
                        found.append(int(cap) - int(fh.read().strip()))
    return min(found) if found else None


def room_to_fork() -> bool:
    """Whether at least :data:`FORK_MIN_AVAILABLE` bytes of memory are free (true when unknown)."""
    free = available_memory()
    if free is not None and free < FORK_MIN_AVAILABLE:
        log.info("%d MiB of memory free: the next step runs in this process, not in a forked child", free >> 20)
        return False
    return True


def _child(conn: Any, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    global _IN_FORKED_CHILD
    _IN_FORKED_CHILD = True
    try:
        outcome: tuple[bool, Any] = (True, fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        outcome = (False, exc)
    try:
        conn.send(outcome)
    except Exception:  # the exception (or the result) does not pickle: its text does
        conn.send((False, RuntimeError("".join(traceback.format_exception(outcome[1]))
                                       if not outcome[0] else "the result could not be sent back")))
    finally:
        conn.close()


class Forked(Generic[T]):
    """``fn(*args, **kwargs)`` computed in a forked child (when the ``fork`` start method is available,
    memory allows and the ``fork`` argument is true; :attr:`forked` says), else here when
    :meth:`result` is first asked for; :meth:`result` returns it, or raises what ``fn`` raised."""

    def __init__(self, fn: Callable[..., T], *args: Any, fork: bool = True, **kwargs: Any) -> None:
        self._call: tuple[Callable[..., T], tuple, dict] | None = (fn, args, kwargs)
        self._outcome: tuple[bool, Any] | None = None
        self._process: Any = None
        if fork and can_fork() and room_to_fork():
            ctx = multiprocessing.get_context("fork")
            conn, child_conn = ctx.Pipe(duplex=False)
            process = ctx.Process(target=_child, args=(child_conn, fn, args, kwargs),
                                  name=f"feedbacklib-{getattr(fn, '__name__', 'step')}")
            try:
                process.start()
            except OSError as exc:  # no memory or no process left for a child: the work is done here
                conn.close()
                log.info("cannot fork for %s (%s): it runs in this process", getattr(fn, "__name__", "a step"), exc)
            else:
                self._conn, self._process = conn, process
            finally:
                child_conn.close()  # the parent keeps the reading end only: a dead child then reads as EOF

    @property
    def forked(self) -> bool:
        """Whether a child computes the result (else :meth:`result` computes it here)."""
        return self._process is not None

    def result(self) -> T:
        if self._outcome is None:
            if self._process is not None:
                self._outcome = self._wait()
            else:  # not forked: computed here, now
                assert self._call is not None
                fn, args, kwargs = self._call
                self._call = None
                try:
                    self._outcome = (True, fn(*args, **kwargs))
                except Exception as exc:
                    self._outcome = (False, exc)
        outcome: tuple[bool, Any] = self._outcome
        if not outcome[0]:
            raise outcome[1]
        return outcome[1]

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()  # left without its result (an error meanwhile): the child is stopped

    def cancel(self) -> None:
        """Stop the child if it still runs (or forget the call not yet made here): its result is not wanted."""
        if self._outcome is None and self._process is None:
            self._call, self._outcome = None, (False, RuntimeError("cancelled"))
        if self._process is not None:
            self._process.terminate()
            self._process.join()
            self._conn.close()
            self._process, self._call = None, None
            self._outcome = (False, RuntimeError("cancelled"))

    def _wait(self) -> tuple[bool, Any]:
        assert self._call is not None and self._process is not None
        fn, args, kwargs = self._call
        self._call = None  # the child's inputs are not kept alive by this handle
        try:
            outcome = self._conn.recv()
        except (EOFError, OSError):
            self._process.join()
            log.warning("the child process computing %s ended without a result (exit code %s): computing it here",
                        getattr(fn, "__name__", "a step"), self._process.exitcode)
            outcome = (True, fn(*args, **kwargs))
        finally:
            self._conn.close()
        self._process.join()
        self._process = None
        return outcome
