"""Engines: where read -> clean -> themes -> sentiment run for one month.

``pandas`` (:mod:`.pandas`, the default) runs in this process, with the month in memory, or with a
work folder one export file at a time (:mod:`.local`: the Dask engine's plan, run here, for months
larger than memory); ``dask`` (:mod:`.dask`) runs on a Dask cluster and needs the ``[dask]`` extra. :func:`feedbacklib.pipeline.run_month`
chooses one with :func:`resolve_engine` and drives it through the two calls of
:class:`~.base.Engine`. See docs/scale.md.
"""

from __future__ import annotations

import os
from typing import Any

from ..config import ENGINES
from ..errors import ConfigError
from .base import FIT_SAMPLE, Annotated, Cleaned, Engine, MonthPartsStep, RowStaging, RunPartsStep, SummaryStep, Timer, month_volumes, tag_frame
from .dask import DaskEngine
from .local import WorkFolderEngine
from .pandas import PandasEngine

__all__ = ["ENGINES", "FIT_SAMPLE", "Annotated", "Cleaned", "Engine", "MonthPartsStep", "RowStaging", "RunPartsStep", "SummaryStep", "Timer", "month_volumes",
           "tag_frame", "resolve_engine", "make_engine", "PandasEngine", "DaskEngine", "WorkFolderEngine"]


def resolve_engine(cfg: Any, engine: str | None = None, scheduler: Any = None) -> tuple[str, Any]:
    """Engine and scheduler: the arguments, else FEEDBACK_ENGINE / FEEDBACK_DASK_SCHEDULER, else ``[run]``."""
    run = getattr(cfg, "run", None)
    engine = engine or os.environ.get("FEEDBACK_ENGINE") or getattr(run, "engine", None) or "pandas"
    engine = engine.strip().lower()
    if engine not in ENGINES:
        raise ConfigError(f"Unknown engine {engine!r}: use one of {', '.join(ENGINES)} "
                          "(--engine, FEEDBACK_ENGINE or [run] engine in feedback.toml).")
    if engine == "dask" and scheduler is None:
        scheduler = os.environ.get("FEEDBACK_DASK_SCHEDULER") or getattr(run, "scheduler", None) or None
    return engine, scheduler


def make_engine(name: str, scheduler: Any = None, **options: Any) -> Engine:
    """The engine called ``name`` (see :func:`resolve_engine`); ``options`` go to the Dask engine, or for
    pandas ``work_dir`` (default ``FEEDBACK_WORK_DIR``): with one, the month's rows wait on disk there
    and one export file is in memory at a time (:class:`~.local.WorkFolderEngine`); ``""``: in memory.

    Dask: ``work_dir`` and ``rows_dir`` default to ``FEEDBACK_DASK_WORK_DIR`` and
    ``FEEDBACK_DASK_ROWS_DIR`` (shared folders; see docs/scale.md), and ``collect_rows`` to false when
    ``FEEDBACK_DASK_COLLECT_ROWS`` is ``0``/``false``/``no`` (the rows stay on the workers), so a scheduled
    ``feedback-report run`` can set them.
    """
    if name == "dask":
        for key, env in (("work_dir", "FEEDBACK_DASK_WORK_DIR"), ("rows_dir", "FEEDBACK_DASK_ROWS_DIR")):
            if options.get(key) is None and os.environ.get(env):
                options[key] = os.environ[env]
        collect = os.environ.get("FEEDBACK_DASK_COLLECT_ROWS", "").strip().lower()
        if "collect_rows" not in options and collect:
            if collect not in ("0", "false", "no", "1", "true", "yes"):
                raise ConfigError(f"FEEDBACK_DASK_COLLECT_ROWS={collect!r}: use 0 (the rows stay on the Dask "
                                  "workers) or 1 (they come back to the client, the default).")
            options["collect_rows"] = collect in ("1", "true", "yes")
        return DaskEngine(scheduler, **options)
    work_dir = options.pop("work_dir", None)
    if work_dir is None:
        work_dir = os.environ.get("FEEDBACK_WORK_DIR")
    if options:
        raise TypeError(f"The pandas engine takes no option {', '.join(sorted(options))!r} (only work_dir).")
    return WorkFolderEngine(work_dir) if work_dir else PandasEngine()
