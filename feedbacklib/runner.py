"""Run the monthly report: execute the notebook, export HTML, publish atomically.

The flow of one run::

    lock <output>/.lock  ->  stage in <output>/.staging-XXXX (same file system)
      -> papermill executes notebooks/monthly_report.ipynb on the project's kernel
      -> nbconvert exports report.html (no code, images embedded, no scripts)
      -> rename the staging folder to <output>/<YYYY-MM> (the old one kept until then)

Any failure leaves ``<output>/<YYYY-MM>`` exactly as it was, and raises a
:class:`~feedbacklib.errors.FeedbackError` whose message says what to do.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import platform as _platform
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .config import load_config
from .errors import ConfigError, FeedbackError, InputError, LockError, NoDataError, RenderError
from .pipeline import MONTH_PATTERN, TIMINGS_FILE

__all__ = ["RunOutcome", "run_report", "default_notebook", "export_html", "KERNEL_NAME"]

log = logging.getLogger("feedbacklib.run")
KERNEL_NAME = "feedbacklib"
TEMPLATE_DIR = Path(__file__).parent / "report" / "templates"

# Errors raised inside the kernel arrive by name; map them back to our classes.
_KERNEL_ERRORS: dict[str, type[FeedbackError]] = {
    "NoDataError": NoDataError,
    "InputError": InputError,
    "DetectionError": InputError,
    "ConfigError": ConfigError,
}


@dataclass(frozen=True)
class RunOutcome:
    month: str
    folder: Path
    html: Path
    seconds: float


def default_notebook() -> Path:
    """The report notebook of this checkout (``notebooks/monthly_report.ipynb``)."""
    return Path(__file__).resolve().parents[1] / "notebooks" / "monthly_report.ipynb"


@contextlib.contextmanager
def _lock(folder: Path):
    """An exclusive lock on ``folder`` for the whole run; a stale lock of a dead process is cleared."""
    path = folder / ".lock"
    for attempt in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            try:
                owner = json.loads(path.read_text() or "{}")
            except (OSError, ValueError):
                owner = {}
            pid, host = owner.get("pid"), owner.get("host")
            alive = True
            if host == socket.gethostname() and isinstance(pid, int):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    alive = False
                except PermissionError:
                    alive = True
            elif not owner:
                # An empty or unreadable lock: only stale if old (a writer may be mid-write).
                alive = time.time() - path.stat().st_mtime < 60
            if alive or attempt:
                raise LockError(
                    f"Another report run holds the lock {path} (pid {pid} on {host}). Wait for it to finish; "
                    "if no run is active, delete the lock file."
                ) from None
            log.warning("Clearing a stale lock left by pid %s", pid)
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as fh:
            json.dump({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}, fh)
        break
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def _project_kernel():
    """A kernelspec named ``feedbacklib`` that runs *this* interpreter, whatever PATH says.

    Cron has a minimal PATH and no activated virtualenv, so the kernel must not be
    looked up by ``python`` on PATH: it is pinned to ``sys.executable``.
    """
    with tempfile.TemporaryDirectory(prefix="feedbacklib-kernel-") as tmp:
        spec = Path(tmp) / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        (spec / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.log_level=ERROR"],
            "display_name": "Python (feedbacklib)",
            "language": "python",
            "env": {"MPLBACKEND": "Agg", "PYTHONHASHSEED": "0"},
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
    html_path.write_text(body, encoding="utf-8")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _log_inputs(input_dir: Path) -> None:
    files = sorted(p for p in input_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    for p in files:
        log.info("input %s (%d bytes, sha256 %s)", p.name, p.stat().st_size, _sha256(p)[:16])


def _kernel_error(exc: Exception, log_path: Path) -> FeedbackError:
    ename = getattr(exc, "ename", "")
    evalue = getattr(exc, "evalue", str(exc))
    if ename in _KERNEL_ERRORS:
        return _KERNEL_ERRORS[ename](evalue)
    if "DeadKernel" in type(exc).__name__ or "died" in str(exc).lower():
        return RenderError(f"The notebook's kernel died (out of memory?) while executing the report. See {log_path}.")
    if "Timeout" in type(exc).__name__:
        return RenderError(f"A report cell ran longer than the time limit. See {log_path}.")
    return RenderError(f"The report notebook failed: {ename or type(exc).__name__}: {evalue}. See {log_path}.")


def run_report(
    month: str = "last",
    input_dir: str | Path | None = None,
    config_path: str | Path = "feedback.toml",
    output_dir: str | Path | None = None,
    *,
    notebook: str | Path | None = None,
    cell_timeout: int = 600,
    progress: bool = False,
    generated_at: str | None = None,
) -> RunOutcome:
    """Render the monthly report into ``<output_dir>/<YYYY-MM>/``, atomically.

    Raises a :class:`FeedbackError` subclass on any failure; the previous
    report of that month is then left untouched.
    """
    started = time.perf_counter()
    if month != "last" and not (isinstance(month, str) and MONTH_PATTERN.match(month)):
        raise InputError(f"--month must be YYYY-MM (for example 2026-10) or 'last'; got {month!r}.")
    cfg = load_config(config_path)
    input_dir = Path(input_dir).resolve() if input_dir else cfg.input.resolve()
    if not input_dir.is_dir():
        raise InputError(f"The input folder {input_dir} does not exist or is not a folder. Pass --input DIR.")
    out_root = Path(output_dir).resolve() if output_dir else cfg.output.resolve()
    notebook = Path(notebook).resolve() if notebook else default_notebook()
    if not notebook.is_file():
        raise RenderError(f"The report notebook {notebook} is missing. Pass --notebook PATH.")
    try:
        out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create the output folder {out_root}: {exc.strerror}.") from None
    with _lock(out_root):
        _recover(out_root)
        try:
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out_root))
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it private; a report is meant to be read
        except OSError as exc:
            raise InputError(f"Cannot write to the output folder {out_root}: {exc.strerror}.") from None
        return _render(month, input_dir, cfg, out_root, staging, notebook, cell_timeout, progress,
                       generated_at, started)


def _recover(out_root: Path) -> None:
    """Undo what a killed run left behind (we hold the lock, so no other run is active)."""
    for old in out_root.glob(".old-*"):
        month = old.name[len(".old-"):].rsplit("-", 1)[0]
        final = out_root / month
        if not final.exists():
            log.warning("Restoring %s from an interrupted publication", final)
            os.replace(old, final)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for stale in out_root.glob(".staging-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _render(month, input_dir, cfg, out_root, staging, notebook, cell_timeout, progress, generated_at, started):
    log_path = staging / "run.log"
    failure_log = out_root / "last-failure.log"
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root_logger = logging.getLogger("feedbacklib")
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)
    published = False
    try:
        log.info("feedbacklib %s, Python %s on %s", __version__, _platform.python_version(), _platform.platform())
        log.info("month=%s input=%s config=%s output=%s", month, input_dir, cfg.source_path, out_root)
        _log_inputs(input_dir)
        executed = staging / "report.ipynb"
        stamp = generated_at or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        t0 = time.perf_counter()
        import papermill as pm

        with _project_kernel() as kernel:
            try:
                pm.execute_notebook(
                    str(notebook), str(executed),
                    parameters={
                        "month": month, "input_dir": str(input_dir), "config_path": str(cfg.source_path),
                        "output_dir": str(staging), "generated_at": stamp,
                    },
                    kernel_name=kernel, progress_bar=progress, log_output=False,
                    cwd=str(notebook.parent), execution_timeout=cell_timeout, start_timeout=120,
                )
            except Exception as exc:  # papermill wraps kernel errors; translate them
                log.error("notebook execution failed: %s", exc)
                raise _kernel_error(exc, failure_log) from exc
        log.info("notebook executed in %.2f s", time.perf_counter() - t0)
        timings_path = staging / TIMINGS_FILE
        if timings_path.exists():
            for step, secs in json.loads(timings_path.read_text()).items():
                log.info("step %s: %.2f s", step, secs)
            timings_path.unlink()
        month_done = json.loads((staging / "kpis.json").read_text())["month"]
        t0 = time.perf_counter()
        try:
            export_html(executed, staging / "report.html")
        except Exception as exc:
            raise RenderError(f"Exporting the report to HTML failed: {exc}. See {failure_log}.") from exc
        log.info("HTML exported in %.2f s (%d bytes)", time.perf_counter() - t0, (staging / "report.html").stat().st_size)
        log.info("outcome: success, %s published", month_done)
        handler.flush()
        final = out_root / month_done
        _publish(staging, final)
        published = True
        return RunOutcome(month_done, final, final / "report.html", time.perf_counter() - started)
    except FeedbackError as exc:
        log.error("outcome: failed: %s", exc)
        raise
    except Exception as exc:
        log.exception("outcome: unexpected error")
        raise FeedbackError(f"Unexpected error: {type(exc).__name__}: {exc}. Details in {failure_log}.") from exc
    finally:
        root_logger.removeHandler(handler)
        handler.close()
        if not published:
            with contextlib.suppress(OSError):
                if log_path.exists():
                    os.replace(log_path, failure_log)
            shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, final: Path) -> None:
    """Swap ``staging`` in as ``final`` with renames; the old folder survives until the new one is in place."""
    old = None
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        os.replace(final, old)
    try:
        os.replace(staging, final)
    except OSError:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
