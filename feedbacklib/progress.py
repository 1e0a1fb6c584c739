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
(what ``tqdm.auto`` would pick) and tqdm's text bar on standard error otherwise (without
the warning ``tqdm.auto`` prints when ``ipywidgets`` is missing).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from importlib.util import find_spec

from tqdm.std import tqdm as _text_tqdm

__all__ = ["PROGRESS_ENV", "progress_enabled", "progress_bar", "in_jupyter_kernel"]

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
