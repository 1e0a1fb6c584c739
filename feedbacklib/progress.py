"""Progress bars for long steps: shown to a person, quiet under cron and in the report.

One rule decides whether a bar is drawn (:func:`progress_enabled`):

1. ``progress=False`` never draws (the default of :func:`feedbacklib.pipeline.run_month`,
   so the monthly report that papermill executes never contains a bar);
2. the environment variable ``FEEDBACKLIB_PROGRESS=0`` switches every bar off, whatever
   the caller asked (a kill switch for cron jobs and CI); ``FEEDBACKLIB_PROGRESS=1``
   switches them on where the caller left the choice open;
3. ``progress=True`` draws;
4. ``progress=None`` (auto, the default of the analyst API in :mod:`feedbacklib.explore`)
   draws in a Jupyter kernel or when standard error is a terminal, and not otherwise
   (cron, pipes, log files).

In a Jupyter kernel the bar is tqdm's notebook widget when ``ipywidgets`` is installed
(``pip install -e ".[lab]"``, which ``make install`` does; what ``tqdm.auto`` would pick) and
tqdm's text bar on standard error otherwise (without the warning ``tqdm.auto`` prints when
``ipywidgets`` is missing).

Stage progress of ``feedback-report run``
-----------------------------------------
The report is computed in a Jupyter kernel, so its stages (:data:`STAGES`) cannot draw on
the terminal themselves. Each stage of :func:`feedbacklib.pipeline.run_month` calls
:func:`stage_event`, which appends one JSON line to the file named by
``$FEEDBACKLIB_STAGE_FILE`` (nothing when it is unset: JupyterLab, tests, analysts). The
runner sets that variable for the kernel, and :class:`StageProgress` tails the file and
draws one line per stage on the terminal (rows, rows/s, and time left when an earlier run
of the same output folder tells how long the stage takes); without a terminal it draws
nothing, and the runner writes the stage timings to ``run.log``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from importlib.util import find_spec
from pathlib import Path
from typing import IO

from tqdm.std import tqdm as _text_tqdm

_steps_log = logging.getLogger("feedbacklib.pipeline")

__all__ = ["PROGRESS_ENV", "progress_enabled", "progress_bar", "in_jupyter_kernel", "STAGES", "STAGE_FILE_ENV",
           "stage_event", "StepTimer", "StageProgress", "plural"]

#: Environment variable: "0" turns every progress bar off, "1" turns auto bars on.
PROGRESS_ENV = "FEEDBACKLIB_PROGRESS"
_OFF = {"0", "false", "no", "off"}
_ON = {"1", "true", "yes", "on"}


def in_jupyter_kernel() -> bool:
    """True inside an IPython kernel (JupyterLab, papermill), False in a terminal or script."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # pragma: no cover - a broken IPython install
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _stderr_is_tty() -> bool:
    try:
        return bool(sys.stderr and sys.stderr.isatty())
    except (AttributeError, ValueError):  # closed or replaced stream
        return False


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to draw a progress bar; see the module docstring for the rule.

    >>> progress_enabled(False)
    False
    """
    if progress is False:
        return False
    env = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if env in _OFF:
        return False
    if progress is True or env in _ON:
        return True
    return in_jupyter_kernel() or _stderr_is_tty()


def _bar_class():
    if in_jupyter_kernel() and find_spec("ipywidgets") is not None:
        from tqdm.notebook import tqdm
    else:
        tqdm = _text_tqdm
    return tqdm


def progress_bar(
    iterable: Iterable | None = None,
    *,
    total: int | None = None,
    desc: str | None = None,
    unit: str = "it",
    progress: bool | None = None,
    leave: bool = True,
):
    """A tqdm bar (usable as an iterator wrapper or with ``update``) that follows the rule above.

    When the bar is off it is a disabled tqdm object: iterating, ``update``,
    ``set_postfix_str`` and ``close`` still work and print nothing.

    >>> with progress_bar(total=3, desc="steps", progress=False) as bar:
    ...     bar.update(3)
    """
    enabled = progress_enabled(progress)
    cls = _bar_class() if enabled else _text_tqdm
    kwargs = {"file": sys.stderr} if cls is _text_tqdm else {}
    return cls(iterable, total=total, desc=desc, unit=unit, leave=leave, disable=not enabled,
               dynamic_ncols=True, **kwargs)


# --------------------------------------------------------------------------- stages of a report run

#: The stages of ``feedback-report run``, in order: the kernel reports the first five,
#: the runner the last (the notebook's sections and the HTML export).
STAGES = ("read", "clean", "themes", "sentiment", "compare", "render")
#: Environment variable naming the file the kernel appends its stage events to.
STAGE_FILE_ENV = "FEEDBACKLIB_STAGE_FILE"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 row``, ``2 rows``, ``1,500 rows`` (``many`` for irregular plurals).

    >>> plural(1, "response"), plural(1500, "response"), plural(2, "candidate theme")
    ('1 response', '1,500 responses', '2 candidate themes')
    """
    return f"{n:,} " + (word if n == 1 else (many or word + "s"))


def stage_event(stage: str, event: str, *, rows: int | None = None, seconds: float | None = None) -> None:
    """Record that ``stage`` started (``event="start"``), ended (``"end"``) or ``"failed"``.

    Appends one JSON line to ``$FEEDBACKLIB_STAGE_FILE``; does nothing when it is unset
    or cannot be written (progress is never worth failing a run over). Only counts and
    timings are written, never data.
    """
    path = os.environ.get(STAGE_FILE_ENV)
    if not path:
        return
    record = {"stage": str(stage), "event": str(event), "t": time.time()}
    if rows is not None:
        record["rows"] = int(rows)
    if seconds is not None:
        record["seconds"] = round(float(seconds), 3)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            os.write(fd, (json.dumps(record) + "\n").encode("utf-8"))
        finally:
            os.close(fd)
    except OSError:
        pass


class StepTimer:
    """Times one step of a month's analysis into ``timings[name]``, ticks the progress bar, logs
    the step (logger ``feedbacklib.pipeline``: the benchmarks' stage sampler listens there) and
    emits the stage events ``feedback-report run`` draws its progress lines from."""

    def __init__(self, timings: dict[str, float], name: str, bar=None, rows: int | None = None):
        self.timings, self.name, self.bar, self.rows = timings, name, bar, rows

    def __enter__(self):
        self.start = time.perf_counter()
        _steps_log.info("%s ...", self.name)
        if self.bar is not None:
            self.bar.set_postfix_str(self.name)
        stage_event(self.name, "start", rows=self.rows)
        return self

    def __exit__(self, *exc):
        self.timings[self.name] = round(time.perf_counter() - self.start, 3)
        if self.bar is not None:
            self.bar.update(1)
        if exc[0] is None:
            _steps_log.info("%s done in %.2f s", self.name, self.timings[self.name])
        stage_event(self.name, "failed" if exc[0] else "end", rows=self.rows, seconds=self.timings[self.name])


#: The stage display drawing on the terminal now, if any (see :func:`clear_line`).
_ACTIVE: StageProgress | None = None


def clear_line() -> None:
    """Clear the running stage's line before something else is printed on the terminal (a log line);
    the next tick draws it again below."""
    active = _ACTIVE
    if active is not None:
        active.clear()


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


class StageProgress:
    """Draw one line per stage of a report run on ``stream`` (the terminal's standard error).

    ``live=True`` (a terminal) redraws the running stage's line in place a few times a
    second with its elapsed time and, when ``estimates`` (``{stage: {"seconds", "rows"}}``
    of an earlier run) allow, the time left; each finished stage keeps its line: rows,
    seconds, rows/s. ``live=False`` prints nothing at all (cron): the run's final line and
    ``run.log`` say the rest. Either way :attr:`timings` collects what each stage took.

    Events come from :meth:`feed` (the kernel's lines, see :func:`stage_event`) or from
    :meth:`start` and :meth:`finish` (the runner's own stage, ``render``).
    """

    def __init__(self, stream: IO[str] | None, *, live: bool, estimates: dict | None = None,
                 stages: tuple[str, ...] = STAGES, clock: Callable[[], float] = time.monotonic,
                 interval: float = 0.25, waiting: str | None = "starting the report kernel"):
        self.stream, self.live, self.stages = stream, bool(live and stream is not None), stages
        self.estimates = estimates or {}
        self.clock, self.interval = clock, interval
        self.timings: dict[str, dict] = {}
        self._current: str | None = None
        self._rows: int | None = None
        self._started = clock()
        self._waiting = waiting
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._path: Path | None = None
        self._offset = 0
        self._shown: str | None = None
        self._polling = False  # reading the event file (its events call start/finish)
        #: The runner's bookkeeping: the event file it set for the kernel, and the variable's old value.
        self.events: Path | None = None
        self.previous_env: str | None = None

    # -- events
    def start(self, stage: str, rows: int | None = None) -> None:
        with self._lock:
            if self._path is not None and not self._polling:
                self._catch_up()  # the kernel's events first, in order (the ticker may not have run)
            if self._current == stage or stage in self.timings:
                return  # already running, or done (the runner's 'render' after the kernel's)
            if self._current is not None:
                self.finish(self._current)
            if self._waiting is not None:
                self._end_line(f"{self._waiting}: {_duration(self.clock() - self._started)}")
                self._waiting = None
            self._current, self._rows, self._started = stage, rows, self.clock()
            self._draw()

    def finish(self, stage: str, seconds: float | None = None, rows: int | None = None, *,
               failed: bool = False) -> None:
        with self._lock:
            if self._current != stage:
                return
            seconds = self.clock() - self._started if seconds is None else seconds
            rows = self._rows if rows is None else rows
            self.timings[stage] = {"seconds": round(seconds, 3), **({"rows": rows} if rows is not None else {})}
            self._current = None
            self._end_line(self._line(stage, seconds, rows, done=not failed, failed=failed))

    def feed(self, record: dict) -> None:
        """One event of the kernel (a parsed line of ``$FEEDBACKLIB_STAGE_FILE``)."""
        stage, event = record.get("stage"), record.get("event")
        if stage not in self.stages:
            return
        if event == "start":
            self.start(stage, record.get("rows"))
        elif event in ("end", "failed"):
            self.finish(stage, record.get("seconds"), record.get("rows"), failed=event == "failed")
            if event == "end" and stage == "compare":  # the notebook's sections follow
                self.start("render")

    def clear(self) -> None:
        """Wipe the line being redrawn (the next tick draws it again)."""
        with self._lock:
            if self.live and self._shown is not None:
                self._shown = None
                self._write("\r\x1b[K")

    def close(self, *, failed: bool = False) -> None:
        """Stop the ticker; a stage still running is closed (as failed when ``failed``)."""
        global _ACTIVE
        if _ACTIVE is self:
            _ACTIVE = None
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self._poll()
        with self._lock:
            if self._current is not None:
                self.finish(self._current, failed=failed)
            elif self._waiting is not None and failed:
                self._end_line(f"{self._waiting}: failed after {_duration(self.clock() - self._started)}")
                self._waiting = None

    # -- the kernel's event file
    def watch(self, path: Path) -> StageProgress:
        """Tail ``path`` in a background thread (and redraw the running line) until :meth:`close`."""
        global _ACTIVE
        if self.live:
            _ACTIVE = self
        self._path = Path(path)
        self._thread = threading.Thread(target=self._run, name="feedbacklib-progress", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._poll()
            with self._lock:
                self._draw()

    def _catch_up(self) -> None:
        self._poll()

    def _poll(self) -> None:
        if self._path is None or self._polling:
            return
        with self._lock:  # one reader at a time, events fed in file order
            self._polling = True
            try:
                self._read_events()
            finally:
                self._polling = False

    def _read_events(self) -> None:
        try:
            with open(self._path, "rb") as fh:  # type: ignore[arg-type]  # the caller checked it is set
                fh.seek(self._offset)
                data = fh.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1  # only complete lines
        self._offset += end
        for line in data[:end].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                self.feed(record)

    # -- drawing
    def _label(self, stage: str) -> str:
        k = self.stages.index(stage) + 1 if stage in self.stages else 0
        return f"[{k}/{len(self.stages)}] {stage:<9}"

    def _left(self, stage: str, elapsed: float, rows: int | None) -> str | None:
        past = self.estimates.get(stage) or {}
        seconds = past.get("seconds")
        if not isinstance(seconds, (int, float)):
            return None
        if rows and past.get("rows"):
            seconds = seconds * rows / past["rows"]
        left = seconds - elapsed
        if left >= 0.5:
            return f"about {_duration(left)} left"
        return "almost done" if elapsed <= 1.5 * seconds + 1 else "taking longer than the last run"

    def _line(self, stage: str, seconds: float, rows: int | None, *, done: bool = False,
              failed: bool = False) -> str:
        parts = [self._label(stage)]
        parts.append(f"{plural(rows, 'row'):>13}" if rows is not None else " " * 13)
        parts.append(f"{_duration(seconds):>9}")
        if failed:
            parts.append("  failed")
        elif done:
            if rows and seconds > 0:
                parts.append(f"  {rows / seconds:>9,.0f} rows/s")
        else:
            left = self._left(stage, seconds, rows)
            parts.append("  " + (left or "running"))
        return "".join(parts)

    def _draw(self) -> None:
        if not self.live:
            return
        if self._current is not None:
            text = self._line(self._current, self.clock() - self._started, self._rows)
        elif self._waiting is not None:
            text = f"{self._waiting}: {_duration(self.clock() - self._started)}"
        else:
            return
        if text != self._shown:  # redraw only what changed
            self._shown = text
            self._write("\r\x1b[K" + text)

    def _end_line(self, text: str) -> None:
        self._shown = None
        if self.live:
            self._write("\r\x1b[K" + text + "\n")

    def _write(self, text: str) -> None:
        if self.stream is None:  # live is False without a stream; kept for the type checker
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # the terminal went away: keep running, quietly
            self.live = False

    def summary(self) -> list[str]:
        """One line per finished stage, for ``run.log``: seconds, rows and rows/s."""
        lines = []
        for stage in self.stages:
            t = self.timings.get(stage)
            if not t:
                continue
            rows = t.get("rows")
            rate = f", {plural(rows, 'row')} ({rows / t['seconds']:,.0f} rows/s)" if rows and t["seconds"] > 0 else ""
            lines.append(f"stage {stage}: {t['seconds']:.2f} s{rate}")
        return lines
