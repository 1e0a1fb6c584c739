"""The pandas engine with a work folder: the Dask engine's plan, carried out in this process.

:class:`~.pandas.PandasEngine` holds the whole month in memory: the fastest way up to a million
or two rows, but its peak memory grows by about 1.5 GB per million rows. Given a work folder
(``[run] work_dir``, ``FEEDBACK_WORK_DIR``, or automatically above 512 MiB of exports: see
:func:`feedbacklib.pipeline.choose_engine`), the pandas engine runs the steps of
:class:`~.dask.DaskEngine` instead, one task at a time, here (:class:`InProcessClient` stands for
the Dask client): each export file is read, mapped and cleaned on its own; its rows wait in the
work folder as Parquet between the steps; the duplicate and repeat rules see every row of their
key through the same shuffles (keys only, and the comments of the rows that can repeat); the
month's analysed rows are written there as one part per file; and the report's statistics come
from each file's parts (:class:`~feedbacklib.parts.RunParts`) and a shuffle on the customer key,
as on a cluster with ``collect_rows=False``. The answer is the pandas engine's (the same
``kpis.json``); what stays in memory is one file's rows plus the parts, not the month.

Nothing here needs ``distributed``: the tasks are plain functions of :mod:`.dask`.
"""

from __future__ import annotations

import contextlib
import operator
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from ..arrowstr import release_memory
from .dask import DaskEngine

__all__ = ["InProcessClient", "WorkFolderEngine"]


class _Done:
    """A task's result (what ``submit`` returns in place of a future)."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def _value(item: Any) -> Any:
    return item.value if isinstance(item, _Done) else item


class InProcessClient:
    """The two calls of ``distributed.Client`` that :class:`~.dask.DaskEngine` makes, carried out at
    once in this process: ``submit`` runs the task with its arguments' results in place of their
    futures; ``gather`` returns the results. A result lives as long as the engine holds its future,
    as on a cluster (the engine lets each partition's go once it is used)."""

    def submit(self, fn: Any, *args: Any, pure: bool = False, **kwargs: Any) -> _Done:
        done = _Done(fn(*map(_value, args), **{k: _value(v) for k, v in kwargs.items()}))
        if fn is not operator.getitem:  # a task that read a file's rows: what it freed goes back to the system
            release_memory()
        return done

    def gather(self, futures: Any) -> Any:
        if isinstance(futures, list):
            return [_value(f) for f in futures]
        return _value(futures)


class WorkFolderEngine(DaskEngine):
    """The pandas engine with a work folder (see the module docstring).

    ``work_dir``: where each file's rows wait between the steps (``work/``, removed when the run ends)
    and the month's analysed rows go, one part per file (``rows/``: what ``feedback.parquet`` is written
    from, removed once the run's MonthResult is let go, see :meth:`release_with`), both in a folder of
    the run's own (``feedback-run-*``); the work folder itself is left. ``buckets``: hash buckets of
    the shuffles (default: as the Dask engine).
    """

    name = "pandas"
    fits_here = True  # InProcessClient: the "worker" is this process

    def __init__(self, work_dir: str | Path, *, buckets: int | None = None):
        super().__init__(buckets=buckets, collect_rows=False)
        self.folder = Path(work_dir)
        self.run_folder: Path | None = None

    @contextlib.contextmanager
    def session(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        run = self.run_folder = Path(tempfile.mkdtemp(prefix="feedback-run-", dir=self.folder))
        self.work_dir, self.rows_dir = str(run / "work"), str(run / "rows")
        self.client = InProcessClient()
        try:
            yield self
        except BaseException:
            shutil.rmtree(run, ignore_errors=True)  # a failed run leaves nothing behind
            raise
        finally:
            self.client = None
            shutil.rmtree(run / "work", ignore_errors=True)

    def release_with(self, result: Any) -> Any:
        """``result`` (the run's MonthResult), its rows' part files removed once it is garbage-collected."""
        if self.run_folder is not None:
            weakref.finalize(result, shutil.rmtree, str(self.run_folder), True)
        return result
