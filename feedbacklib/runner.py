"""Run the monthly report: execute the notebook, export HTML, publish atomically.

The flow of one run::

    flock <output>/.lock  ->  stage in <output>/.staging-XXXX (same file system)
      -> papermill executes notebooks/monthly_report.ipynb on the project's kernel
      -> nbconvert exports report.html (no code, images embedded, no scripts)
      -> the kernel staged the history store's new partitions in <staging>/history:
         they move to <output>/history/.commit (the store's journal), then
      -> swap the staging folder with <output>/<YYYY-MM> in one atomic rename (the commit point)
      -> the staged partitions replace the store's (HistoryStore.commit)

Any failure, including ``kill -9`` at any point, leaves ``<output>/<YYYY-MM>``
and the history store ``<output>/history`` exactly as they were, or (killed after
the commit point) publishes both; the next run finishes an interrupted commit
before it starts (docs/history-store.md). A failed run raises a :class:`~feedbacklib.errors.FeedbackError`
whose message says what to do, and leaves its log in ``<output>/last-failure.log``.

Test-only fault injection
-------------------------
``FEEDBACKLIB_FAULT="<point>:<action>[,<point>:<action>...]"`` makes a run fail
on purpose at a named point, so the tests can prove the promises above. Points:
``locked`` (lock taken), ``reading`` (checksumming the inputs), ``staging``
(staging folder made), ``executing`` (the kernel is half-way through the
notebook), ``export`` (before writing report.html), ``publish`` (just before the
swap), ``between_renames`` (only where the atomic exchange is unsupported),
``swapped`` (just after the swap), ``kernel`` (kernelspec written), and in the
history store's commit ``store_check`` (checking the store can be written),
``store_prepared`` (journal written, before the swap) and ``store_applying`` (the
first partition replaced, the others not yet).
Actions: ``kill`` (SIGKILL itself), ``enospc`` (raise "No space left on
device"), ``erofs`` (raise "Read-only file system"), ``pause`` (create ``$FEEDBACKLIB_FAULT_DIR/<point>.reached`` and wait
until ``<point>.go`` appears) and, for ``kernel`` only, ``missing`` (a
kernelspec whose interpreter does not exist). Never set it in production.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import html
import json
import logging
import os
import platform as _platform
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import __version__
from . import schema as S
from .clean import clean_responses
from .config import Config, load_config
from .errors import ConfigError, FeedbackError, InputError, NoDataError, OutputError, RenderError
from .faults import FAULT_ENV, fault as _fault, fault_action as _fault_action, fault_requested as _fault_requested
from .fsutil import exchange as _exchange, fsync_dir as _fsync_dir, write_atomic
from .history import HISTORY_DIR, HistoryStore, StoreError
from .io import read_exports
from .lock import lock as _lock, lock_holder
from .months import as_date, check_month, thin_reason
from .pii import redact_pii
from .pipeline import TIMINGS_FILE, month_volumes, report_month
from .progress import STAGE_FILE_ENV, StageProgress
from .runlog import SafeFormatter, quality_lines, sanitise, versions

__all__ = ["RunOutcome", "RunPlan", "RunLimits", "OutputError", "run_report", "plan_report", "default_notebook",
           "export_html", "run_limits", "KERNEL_NAME", "OUTPUT_FILES", "FAULT_ENV"]

log = logging.getLogger("feedbacklib.run")
KERNEL_NAME = "feedbacklib"
TEMPLATE_DIR = Path(__file__).parent / "report" / "templates"
OUTPUT_FILES = ("report.html", "report.ipynb", "feedback.parquet", "kpis.json", "quarantine.csv", "run.log")
DEFAULT_CELL_TIMEOUT = 600
DEFAULT_TIMEOUT = 3600

# Errors raised inside the kernel arrive by name; map them back to our classes.
_KERNEL_ERRORS: dict[str, type[FeedbackError]] = {
    "NoDataError": NoDataError,
    "InputError": InputError,
    "DetectionError": InputError,
    "ConfigError": ConfigError,
    "StoreError": StoreError,
}


# OSErrors raised in the kernel that mean "the output cannot be written": exit code 2 like the runner's own.
_OS_ERRORS = ("OSError", "PermissionError", "IOError")
_OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG)


@dataclass(frozen=True)
class RunOutcome:
    month: str
    folder: Path
    html: Path
    seconds: float


@dataclass(frozen=True)
class RunLimits:
    """Time limits of one run, in seconds: per notebook cell and for the whole run."""

    cell_timeout: int = DEFAULT_CELL_TIMEOUT
    timeout: int = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class RunPlan:
    """What a run would do (``feedback-report run --dry-run``)."""

    month: str
    config_path: Path | None
    input_dir: Path
    output_root: Path
    folder: Path
    notebook: Path
    limits: RunLimits
    replaces: bool
    responses: int
    months_present: list[str]
    quality: list[dict] = field(default_factory=list)
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    files: tuple[str, ...] = OUTPUT_FILES
    #: Responses per month of the input (what ``last`` and the thin rule count).
    volumes: dict[str, int] = field(default_factory=dict)
    #: Why the month is too thin to compare, or None (see :mod:`feedbacklib.months`).
    thin: str | None = None


def default_notebook() -> Path:
    """The report notebook that ships inside the package (``feedbacklib/report/monthly_report.ipynb``).

    In a checkout it is a link to ``notebooks/monthly_report.ipynb``, the copy analysts open in
    JupyterLab; a wheel carries the file itself, so ``pip install .`` alone can run a month.
    """
    return Path(__file__).resolve().parent / "report" / "monthly_report.ipynb"


# --------------------------------------------------------------------------- the kernel

#: glibc's allocator settings for the kernel (unless set in the environment already): blocks of up to
#: 32 MiB (a column of a few million rows) come from the heap and are reused there instead of being
#: mapped and unmapped one by one, and up to 1 GiB of free memory stays at the heap's top instead of
#: going back to the system at each free; the pipeline still hands free memory back between its steps
#: (:func:`feedbacklib.arrowstr.release_memory`). At a million rows this is about a second less, most
#: of it system time spent faulting in fresh pages (docs/scale.md); other C libraries ignore it.
KERNEL_MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(2**30)}


@contextlib.contextmanager
def _project_kernel():
    """A kernelspec named ``feedbacklib`` that runs *this* interpreter, whatever PATH says.

    Cron has a minimal PATH and no activated virtualenv, so the kernel must not be
    looked up by ``python`` on PATH: it is pinned to ``sys.executable``, and the
    spec lives in a private folder put first on ``JUPYTER_PATH`` for this run.
    """
    with tempfile.TemporaryDirectory(prefix="feedbacklib-kernel-") as tmp:
        spec = Path(tmp) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        python = sys.executable
        if _fault_action("kernel") == "missing":
            python = str(Path(tmp) / "no-such-python")
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.log_level=ERROR"],
            "display_name": "Python (feedbacklib)",
            "language": "python",
            "env": {"MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
                    **{k: v for k, v in KERNEL_MALLOC_ENV.items() if k not in os.environ}},
        }))
        old = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = tmp + (os.pathsep + old if old else "")
        try:
            yield KERNEL_NAME
        finally:
            if old is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = old


def _kernel_processes() -> list:
    """This process's kernel children (to stop them when the overall time limit is reached)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        return []
    found = []
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any("ipykernel_launcher" in part for part in child.cmdline()):
                found.append(child)
    return found


class _Watchdog:
    """Kill the kernel when the whole run exceeds its time limit, so the run ends instead of hanging."""

    def __init__(self, seconds: float):
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        for proc in _kernel_processes():
            with contextlib.suppress(Exception):
                proc.kill()

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc):
        self._timer.cancel()


#: A progress-bar frame (tqdm: "Executing:  40%|####      | 4/10 [00:02<00:03]"): never logged.
_FRAME = re.compile(r"\d+%\|.*\||\d+/\d+ \[\d+:\d+")


@contextlib.contextmanager
def _stderr_to_log(max_lines: int = 200):
    """Send what the kernel and nbclient write to stderr into run.log instead of cron mail.

    The kernel inherits file descriptor 2 when it starts, so the descriptor itself is
    redirected (to a temporary file) for the duration; the text is then logged line
    by line, escaped like everything else in run.log. Progress-bar frames (carriage
    returns, tqdm's ``40%|####``) are counted, never logged: the progress a person sees is
    drawn on a copy of the real standard error (:func:`_start_stages`).
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            lines = [part for line in text.splitlines() for part in line.split("\r")]
            frames = [line for line in lines if _FRAME.search(line)]
            lines = [line for line in lines if line.strip() and not _FRAME.search(line)]
            for line in lines[:max_lines]:
                log.info("kernel stderr: %s", line)
            if len(lines) > max_lines:
                log.info("kernel stderr: ... %d more lines", len(lines) - max_lines)
            if frames:
                log.info("kernel stderr: %d progress-bar frames not logged", len(frames))


#: Stage timings of the last successful run in an output folder: the next run's "time left".
STAGE_TIMINGS_FILE = ".stage-timings.json"


def _start_stages(staging: Path, out_root: Path, show: bool):
    """The stage lines of a run (see :class:`~feedbacklib.progress.StageProgress`).

    The kernel appends its stage events to ``<staging>/.stages.jsonl``, named by
    ``$FEEDBACKLIB_STAGE_FILE`` until :func:`_stop_stages`; with ``show`` (a terminal) they
    are drawn on the real standard error as they come, which is duplicated here, before
    :func:`_stderr_to_log` points descriptor 2 at run.log's buffer. The time left comes
    from the last successful run's ``<output>/.stage-timings.json``.
    """

    estimates = {}
    with contextlib.suppress(OSError, ValueError):
        loaded = json.loads((out_root / STAGE_TIMINGS_FILE).read_text(encoding="utf-8"))
        estimates = loaded if isinstance(loaded, dict) else {}
    terminal = None
    if show:
        sys.stderr.flush()
        terminal = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace")
    stages = StageProgress(terminal, live=show, estimates=estimates)
    stages.previous_env = os.environ.get(STAGE_FILE_ENV)
    stages.events = staging / ".stages.jsonl"
    os.environ[STAGE_FILE_ENV] = str(stages.events)
    return stages.watch(stages.events)


def _stop_stages(stages, *, failed: bool) -> None:

    stages.close(failed=failed)
    if stages.previous_env is None:
        os.environ.pop(STAGE_FILE_ENV, None)
    else:
        os.environ[STAGE_FILE_ENV] = stages.previous_env
    with contextlib.suppress(OSError):
        stages.events.unlink()
    if stages.stream is not None:
        with contextlib.suppress(OSError, ValueError):
            stages.stream.close()


def _save_stage_timings(out_root: Path, stages) -> None:
    """The stage timings into run.log, and beside the reports for the next run's time left.

    Also stops the stage lines and removes the kernel's event file before publication.
    """
    stages.close()
    with contextlib.suppress(OSError):
        stages.events.unlink()
    for line in stages.summary():
        log.info("%s", line)
    with contextlib.suppress(OSError):
        tmp = out_root / (STAGE_TIMINGS_FILE + ".tmp")
        tmp.write_text(json.dumps(stages.timings), encoding="utf-8")
        os.replace(tmp, out_root / STAGE_TIMINGS_FILE)


def export_html(notebook_path: Path, html_path: Path) -> None:
    """Export an executed notebook to one self-contained HTML file without code or prompts."""
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(notebook_path, as_version=4)
    exporter = HTMLExporter(
        template_name="feedbacklib",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    _fault("export", html_path)
    html_path.write_text(body, encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _log_inputs(input_dir: Path) -> None:
    files = sorted(p for p in input_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    log.info("input folder %s: %d file(s)", input_dir, len(files))
    for i, p in enumerate(files):
        try:
            log.info("input %s (%d bytes, sha256 %s)", p.name, p.stat().st_size, _sha256(p)[:16])
        except OSError as exc:
            raise InputError(f"Cannot read the export {sanitise(p)!r}: {exc.strerror}.") from None
        if i == 0:
            _fault("reading")


def _redacted(text: str) -> str:

    return str(redact_pii(pd.Series([text], dtype="string")).iloc[0])


_HEADING = re.compile(r"<h[1-3][^>]*>(.*?)</h[1-3]>|^#{1,3}[ \t]+(.+)$", re.S | re.M)


def failed_section(executed: Path, cell_index: int | None) -> str | None:
    """The heading of the report section whose cell ``cell_index`` of ``executed`` failed, if any."""
    if cell_index is None:
        return None
    try:
        import nbformat

        cells = nbformat.read(executed, as_version=4).cells
    except Exception:  # the executed notebook may not have been written
        return None
    for cell in reversed(cells[: int(cell_index) + 1]):
        if cell.cell_type != "markdown":
            continue
        match = _HEADING.search(cell.source)
        if match:
            heading = re.sub(r"<[^>]+>", "", match.group(1) or match.group(2) or "")
            return html.unescape(heading).strip() or None
    return "before the first section (reading and analysing the data)"


def _kernel_error(exc: Exception, log_path: Path, limits: RunLimits, watchdog: _Watchdog,
                  cell_limit_is_overall: bool = False, section: str | None = None) -> FeedbackError:
    """Translate what papermill raised into an error a person can act on.

    ``cell_limit_is_overall`` says the per-cell limit handed to papermill was
    cut down to the time left for the whole run, so a cell timeout then means
    the overall limit was reached (papermill may notice before the watchdog).
    """
    ename = getattr(exc, "ename", "")
    evalue = getattr(exc, "evalue", str(exc))
    name = type(exc).__name__
    timed_out = "Timeout" in name or "timed out" in str(exc).lower()
    starting = "kernel" in str(exc).lower() and "start" in str(exc).lower()
    if watchdog.fired or (cell_limit_is_overall and timed_out and not starting):
        return RenderError(
            f"The report run exceeded its overall time limit of {limits.timeout} s and was stopped. "
            f"Raise it with --timeout or [run] timeout_seconds in the configuration. See {log_path}."
        )
    if ename in _KERNEL_ERRORS:
        return _KERNEL_ERRORS[ename](evalue)
    if ename in _OS_ERRORS and any(f"[Errno {code}]" in str(evalue) for code in _OUTPUT_ERRNOS):
        return OutputError(f"The report run could not write its output ({ename}: {sanitise(str(evalue)[:300])}). "
                           "Free some space or make the output folder and its history/ writable; the previous "
                           f"report and the history store are unchanged. See {log_path}.")
    if "DeadKernel" in name or "died" in str(exc).lower():
        return RenderError(
            "The notebook's kernel died while executing the report (killed, most likely out of memory). "
            f"Check the machine's memory and the size of the input. See {log_path}."
        )
    if timed_out:
        if starting:
            return RenderError(f"The notebook's kernel did not start in time: {exc}. See {log_path}.")
        return RenderError(
            f"A report cell ran longer than the per-cell time limit of {limits.cell_timeout} s. "
            f"Raise it with --cell-timeout or [run] cell_timeout_seconds in the configuration. See {log_path}."
        )
    if isinstance(exc, (FileNotFoundError, PermissionError)) or "NoSuchKernel" in name:
        return RenderError(
            f"The notebook kernel could not be started ({name}: {exc}). The kernel runs {sys.executable} "
            "-m ipykernel_launcher: check that ipykernel is installed in that environment "
            f"(make install). See {log_path}."
        )
    where = f" in the section {section!r}" if section else ""
    return RenderError(f"The report notebook failed{where} with {ename or name}; the previous report is unchanged. "
                       f"Run again with --debug for the full traceback; details in {log_path}.")


# --------------------------------------------------------------------------- limits and checks

def run_limits(cfg: Config, *, cell_timeout: int | None = None, timeout: int | None = None) -> RunLimits:
    """The time limits: command-line values first, then ``[run]`` in the configuration, then defaults.

    ``[run]`` holds ``timeout_seconds`` (the whole run) and ``cell_timeout_seconds``, next to the
    engine settings of docs/scale.md.
    """
    table = cfg.section("run")  # load_config has checked its keys and values
    problems = []
    values = {}
    for key, given, default in (("cell_timeout_seconds", cell_timeout, DEFAULT_CELL_TIMEOUT),
                                ("timeout_seconds", timeout, DEFAULT_TIMEOUT)):
        value = given if given is not None else table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            where = "on the command line" if given is not None else f"[run] {key}"
            problems.append(f"{where} must be a positive number of seconds, found {value!r}")
            value = default
        values[key] = value
    if problems:
        raise ConfigError(f"The run settings in {cfg.source_path} have {len(problems)} problem(s):\n  - "
                          + "\n  - ".join(problems))
    return RunLimits(cell_timeout=values["cell_timeout_seconds"], timeout=values["timeout_seconds"])


def _check_notebook(notebook: Path) -> None:
    """The notebook exists, is a valid notebook, and has a cell tagged ``parameters``.

    Each failure is a configuration problem (exit 2): the run cannot start, and the message says
    how to get a good notebook back.
    """
    import nbformat

    if not notebook.is_file():
        raise ConfigError(f"The report notebook {sanitise(notebook)} is missing. The package ships one "
                          "(feedbacklib/report/monthly_report.ipynb): reinstall feedbacklib, or pass --notebook PATH.")
    try:
        nb = nbformat.read(notebook, as_version=4)
    except Exception as exc:  # nbformat raises json, validation and unicode errors
        raise ConfigError(
            f"The report notebook {sanitise(notebook)} is not a valid notebook ({type(exc).__name__}: "
            f"{sanitise(str(exc)[:200])}). Restore it from version control (git checkout notebooks/) "
            "or leave out --notebook to use the one the package ships."
        ) from None
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
        raise ConfigError(f"The report notebook {sanitise(notebook)} has no cell tagged 'parameters', "
                          "so the month and paths cannot be passed to it. Restore it from version control.")


def _check_kernel() -> None:
    import importlib.util

    if importlib.util.find_spec("ipykernel") is None:
        raise RenderError(f"The notebook kernel cannot start: ipykernel is not installed for {sys.executable}. "
                          "Run make install.")


def _resolve(month, input_dir, config_path, output_dir, notebook,
             cell_timeout, timeout) -> tuple[Config, Path, Path, Path, RunLimits]:
    """Validate everything that can be checked before any work: parameters, paths, limits."""
    check_month(month, what="--month")
    cfg = load_config(config_path)
    inputs = Path(input_dir).resolve() if input_dir else cfg.input.resolve()
    if not inputs.is_dir():
        raise InputError(f"The input folder {sanitise(inputs)} does not exist or is not a folder. Pass --input DIR.")
    out_root = Path(output_dir).resolve() if output_dir else cfg.output.resolve()
    path = Path(notebook).resolve() if notebook else default_notebook()
    _check_notebook(path)
    limits = run_limits(cfg, cell_timeout=cell_timeout, timeout=timeout)
    return cfg, inputs, out_root, path, limits


def _writable_root(out_root: Path) -> None:
    """Raise :class:`OutputError` unless ``out_root`` exists or can be created as a folder."""
    probe = out_root
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"Cannot create the output folder {sanitise(out_root)}: {sanitise(probe)} is a file, "
                          "not a folder. Pass --output DIR.")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"The output folder {sanitise(probe)} is not writable by this user. Pass --output DIR.")


def plan_report(
    month: str = "last",
    input_dir: str | Path | None = None,
    config_path: str | Path = "feedback.toml",
    output_dir: str | Path | None = None,
    *,
    notebook: str | Path | None = None,
    cell_timeout: int | None = None,
    timeout: int | None = None,
    today: _dt.date | str | None = None,
    now: _dt.datetime | None = None,
) -> RunPlan:
    """Check a run without rendering or writing anything (``--dry-run``).

    Validates the parameters, configuration, notebook and kernel, reads and
    cleans every input, resolves the month, and checks the output folder and its
    lock. Raises the same errors, with the same exit codes, as :func:`run_report`.
    """

    cfg, input_dir, out_root, notebook, limits = _resolve(
        month, input_dir, config_path, output_dir, notebook, cell_timeout, timeout)
    today = as_date(today, cfg.timezone) or as_date(now, cfg.timezone)
    _check_kernel()
    _writable_root(out_root)
    if out_root.is_dir():
        lock_holder(out_root)
    exports = read_exports(input_dir, cfg)
    cleaned = clean_responses(exports, cfg)

    volumes = month_volumes(cleaned.frame)
    present = sorted(volumes)
    resolved = report_month(month, volumes, cfg, sanitise(input_dir), today=today)
    reasons = cleaned.quarantine[S.QUARANTINE_REASON].value_counts() if len(cleaned.quarantine) else {}
    return RunPlan(
        month=resolved, config_path=cfg.source_path, input_dir=input_dir, output_root=out_root,
        folder=out_root / resolved, notebook=notebook, limits=limits,
        replaces=(out_root / resolved).exists(),
        responses=int((cleaned.frame[S.MONTH] == resolved).sum()), months_present=present,
        quality=cleaned.quality.to_dict(orient="records"),
        quarantine_reasons={str(k): int(v) for k, v in dict(reasons).items()},
        volumes=volumes, thin=thin_reason(resolved, volumes, min_group_size=cfg.min_group_size),
    )


def run_report(
    month: str = "last",
    input_dir: str | Path | None = None,
    config_path: str | Path = "feedback.toml",
    output_dir: str | Path | None = None,
    *,
    notebook: str | Path | None = None,
    cell_timeout: int | None = None,
    timeout: int | None = None,
    progress: bool = False,
    generated_at: str | None = None,
    today: _dt.date | str | None = None,
    now: _dt.datetime | None = None,
) -> RunOutcome:
    """Render the monthly report into ``<output_dir>/<YYYY-MM>/``, atomically.

    ``cell_timeout`` and ``timeout`` (seconds) default to ``[run]`` in the
    configuration, else 600 s per cell and 3600 s for the whole run.
    Raises a :class:`FeedbackError` subclass on any failure; the previous
    report of that month is then left untouched.
    """
    started = time.perf_counter()
    try:
        cfg, input_dir, out_root, notebook, limits = _resolve(
            month, input_dir, config_path, output_dir, notebook, cell_timeout, timeout)
    except ConfigError as exc:  # cron mail shows it; last-failure.log keeps it beside the reports
        _early_failure_log(exc, config_path, output_dir)
        raise
    today = as_date(today, cfg.timezone) or as_date(now, cfg.timezone)
    _writable_root(out_root)
    try:
        out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the output folder {sanitise(out_root)}: {exc.strerror}. "
                          "Pass --output DIR.") from None
    with _lock(out_root, now):
        _fault("locked")
        try:
            _recover(out_root)
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_root))
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; a report is meant to be read
            _fault("staging", staging)
        except OSError as exc:
            with contextlib.suppress(UnboundLocalError, OSError):
                shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(f"Cannot write to the output folder {sanitise(out_root)}: "
                              f"{exc.strerror or exc}. Free some space or pass --output DIR.") from None
        return _render(month, input_dir, cfg, out_root, staging, notebook, limits, progress,
                       generated_at, started, today, now)


def _local_stamp(now: _dt.datetime | None, timezone: str) -> str:
    """``now`` (passed in by the edge) as a person in the configured zone reads it (``2026-11-02 06:00 GMT``)."""
    if now is None:
        return ""
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def _recover(out_root: Path) -> None:
    """Undo what a killed run left behind (we hold the lock, so no other run is active)."""
    for old in out_root.glob(".old-*"):
        if old.is_symlink():  # not ours: runs only ever rename real folders here
            old.unlink()
            continue
        month = old.name[len(".old-"):].rsplit("-", 1)[0]
        final = out_root / month
        if not final.exists():
            log.warning("Restoring %s from an interrupted publication", final)
            os.replace(old, final)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for stale in out_root.glob(".staging-*"):
        if stale.is_symlink():
            stale.unlink()
        else:
            shutil.rmtree(stale, ignore_errors=True)


def _early_failure_log(exc: FeedbackError, config_path, output_dir) -> None:
    """Write ``last-failure.log`` for a run that failed before its log existed (a configuration error).

    The output folder is ``--output`` when given, else ``[project] output`` of the
    configuration as far as it can be read; nothing is written when neither names a folder
    that exists (the error is on the terminal and in cron mail either way).
    """
    folder = Path(output_dir) if output_dir else None
    if folder is None:
        import tomllib

        path = Path(config_path)
        try:
            project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
            value = project.get("output", "reports") if isinstance(project, dict) else "reports"
        except (OSError, ValueError, TypeError):
            value = "reports"  # unreadable: the default output folder beside the configuration
        folder = Path(value).expanduser() if isinstance(value, str) and value else None
        if folder is not None and not folder.is_absolute():
            folder = path.resolve().parent / folder
    if folder is None or not folder.is_dir() or folder.is_symlink():
        return
    record = logging.LogRecord("feedbacklib.run", logging.ERROR, __file__, 0,
                               "outcome: failed before the run started (exit code %d): %s",
                               (exc.exit_code, str(exc)), None)
    text = SafeFormatter().format(record) + "\n"
    with contextlib.suppress(OSError):
        write_atomic(folder / "last-failure.log", text.encode("utf-8"))


def _render(month, input_dir, cfg, out_root, staging, notebook, limits, progress, generated_at, started, today,
            now):
    log_path = staging / "run.log"
    failure_log = out_root / "last-failure.log"
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(SafeFormatter())
    # feedbacklib's own records at INFO; other libraries' (papermill, nbclient, warnings) at WARNING.
    handler.addFilter(lambda r: r.name.startswith("feedbacklib") or r.levelno >= logging.WARNING)
    loggers = [logging.getLogger()]  # feedbacklib.* propagate to the root logger
    for logger in loggers:
        logger.addHandler(handler)
    logging.getLogger("feedbacklib").setLevel(logging.INFO)
    published = False
    stages = _start_stages(staging, out_root, progress)
    try:
        log.info("feedbacklib %s, Python %s (%s) on %s", __version__, _platform.python_version(),
                 sys.executable, _platform.platform())
        log.info("versions: %s", versions())
        log.info("month=%s today=%s input=%s config=%s output=%s", month, today.isoformat() if today else "-", input_dir,
                 cfg.source_path, out_root)
        log.info("time limits: %d s per cell, %d s for the whole run", limits.cell_timeout, limits.timeout)
        store = HistoryStore(out_root / HISTORY_DIR)
        store.prepare()  # a real folder; an interrupted commit finished or undone; the old layout migrated
        cfg.pii_salt()  # here, not in the kernel: a new salt file is logged (and warned about) in this run's log
        _log_inputs(input_dir)
        executed = staging / "report.ipynb"
        stamp = generated_at or _local_stamp(now, cfg.timezone)
        t0 = time.perf_counter()
        import papermill as pm

        remaining = limits.timeout - (time.perf_counter() - started)
        cell_limit = int(max(1, min(limits.cell_timeout, remaining)))
        with _project_kernel() as kernel, _stderr_to_log(), _Watchdog(remaining) as watchdog:
            if _fault_requested("executing"):
                _fault_when(staging / "kpis.json", "executing")
            try:
                pm.execute_notebook(
                    str(notebook), str(executed),
                    parameters={
                        "month": month, "input_dir": str(input_dir), "config_path": str(cfg.source_path),
                        "output_dir": str(staging), "generated_at": stamp, "today": today.isoformat() if today else "",
                        "history_dir": str(out_root / HISTORY_DIR),
                    },
                    kernel_name=kernel, language="python", progress_bar=False, log_output=False,
                    cwd=str(notebook.parent), execution_timeout=cell_limit,
                    start_timeout=min(120, max(1, int(remaining))),
                )
            except Exception as exc:  # papermill wraps kernel errors; translate them
                # The section and the error's name, and its value with personal data redacted: a cell's
                # traceback could quote customer data, so it reaches the terminal only with --debug.
                section = failed_section(executed, getattr(exc, "cell_index", None))
                log.error("notebook execution failed%s: %s: %s",
                          f" in the section {section!r}" if section else "",
                          getattr(exc, "ename", "") or type(exc).__name__,
                          _redacted(str(getattr(exc, "evalue", exc))[:500]))
                raise _kernel_error(exc, failure_log, limits, watchdog,
                                    cell_limit_is_overall=cell_limit < limits.cell_timeout,
                                    section=section) from exc
        log.info("notebook executed in %.2f s", time.perf_counter() - t0)
        _stable_cell_ids(executed)
        timings_path = staging / TIMINGS_FILE
        if timings_path.exists():
            for step, secs in json.loads(timings_path.read_text()).items():
                log.info("step %s: %.2f s", step, secs)
            timings_path.unlink()
        if not (staging / "kpis.json").is_file():
            raise RenderError(f"The report notebook {sanitise(notebook)} ran but wrote no kpis.json: it must call "
                              f"save_outputs(result, output_dir). See {failure_log}.")
        kpis = json.loads((staging / "kpis.json").read_text())
        month_done = kpis["month"]
        log.info("report month %s: %s responses", month_done, kpis.get("responses"))
        for line in quality_lines(kpis.get("data_quality") or []):
            log.info("%s", line)
        t0 = time.perf_counter()
        try:
            export_html(executed, staging / "report.html")
        except OSError:
            raise
        except Exception as exc:
            raise RenderError(f"Exporting the report to HTML failed: {exc}. See {failure_log}.") from exc
        log.info("step export_html: %.2f s (%d bytes)", time.perf_counter() - t0,
                 (staging / "report.html").stat().st_size)
        stages.start("render")  # no-op when the kernel's 'compare' already started it
        stages.finish("render")
        _save_stage_timings(out_root, stages)
        if time.perf_counter() - started > limits.timeout:
            raise RenderError(f"The report run exceeded its overall time limit of {limits.timeout} s. "
                              f"Raise it with --timeout or [run] timeout_seconds. See {failure_log}.")
        log.info("outcome: success, %s published to %s in %.1f s", month_done, out_root / month_done,
                 time.perf_counter() - started)
        final = out_root / month_done
        staged = staging / HISTORY_DIR
        parts = sorted(str(p.relative_to(staged)) for p in staged.glob("*/month=*")) if staged.is_dir() else []
        months = sorted({p.split("month=", 1)[1] for p in parts})
        log.info("history: committing %d partition(s) of %s to %s with the report", len(parts),
                 ", ".join(months) or "no month", store.root)
        handler.flush()
        store.commit(staged, report=(staging, final), publish=lambda: _publish(staging, final))
        published = True
        return RunOutcome(month_done, final, final / "report.html", time.perf_counter() - started)
    except FeedbackError as exc:
        log.error("outcome: failed (exit code %d): %s", exc.exit_code, exc)
        raise
    except OSError as exc:
        log.error("outcome: failed writing the output: %s", exc)
        raise OutputError(f"Cannot write the report into {sanitise(out_root)}: {exc.strerror or exc}. "
                          f"Free some space or check permissions; the previous report is unchanged. "
                          f"See {failure_log}.") from exc
    except Exception as exc:
        log.exception("outcome: unexpected error")
        raise FeedbackError(f"Unexpected error: {type(exc).__name__}: {exc}. Details in {failure_log}.") from exc
    finally:
        _stop_stages(stages, failed=not published)
        for logger in loggers:
            logger.removeHandler(handler)
        handler.close()
        if not published:
            with contextlib.suppress(OSError):
                if log_path.exists():
                    os.replace(log_path, failure_log)
            shutil.rmtree(staging, ignore_errors=True)


def _stable_cell_ids(path: Path) -> None:
    """Papermill gives its injected-parameters cell a random id; a rerun must give the same HTML."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
    nbformat.write(nb, path)


def _fault_when(path: Path, point: str) -> None:
    """Fire the fault ``point`` from a thread once ``path`` exists (the kernel is mid-notebook)."""
    def wait():
        while not path.exists():
            time.sleep(0.02)
        _fault(point)

    threading.Thread(target=wait, daemon=True).start()


def _fsync_tree(folder: Path) -> None:
    """Flush the staged files to disk so a power cut after the swap cannot publish empty files."""
    for p in folder.iterdir():
        if p.is_file():
            with contextlib.suppress(OSError):
                fd = os.open(p, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)


def _publish(staging: Path, final: Path) -> None:
    """Put ``staging`` in place of ``final``; the old folder survives until the new one is in place.

    On Linux the two folders are exchanged in one atomic ``renameat2`` call, so
    ``final`` always names a complete report. Elsewhere (or on a file system
    without it) two renames are used and :func:`_recover` repairs a swap that a
    kill interrupted between them.
    """
    _fsync_tree(staging)
    _fault("publish", final)
    if final.exists() and _exchange(staging, final):
        _fsync_dir(final.parent)
        _fault("swapped", final)
        shutil.rmtree(staging, ignore_errors=True)  # now the old report
        return
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        os.replace(final, old)
        _fault("between_renames", final)
    try:
        os.replace(staging, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        raise
    _fsync_dir(final.parent)
    _fault("swapped", final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
