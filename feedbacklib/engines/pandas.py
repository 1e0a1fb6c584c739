"""The pandas engine: one process reads, cleans, tags and scores the whole input.

The exports are read and mapped one file at a time (:class:`~feedbacklib.io.ExportStream`,
:func:`~feedbacklib.clean.map_exports`): a file's raw frame is let go once its canonical rows exist.

Tagging and sentiment fork a pool of two workers above a few ten thousand texts
(:mod:`feedbacklib.themes.tagger`, :mod:`feedbacklib.sentiment`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import schema as S
from ..arrowstr import release_memory
from ..clean import CleanResult, clean_mapped, map_exports
from ..errors import InputError
from ..io import ExportStream
from ..io._common import local_path
from ..themes import Taxonomy
from .base import (
    Annotated, Cleaned, RowStaging, SummaryStep, Timer, add_sentiment, add_themes, fit_tagger, month_volumes, months_to_analyse,
    score_ahead,
)

__all__ = ["PandasEngine"]


class PandasEngine:
    """read -> clean -> themes -> sentiment in this process (see :mod:`feedbacklib.engines.base`)."""

    name = "pandas"
    fits_here = True

    def session(self) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext(self)

    def clean(self, folder: Path, cfg: Any, timings: dict[str, float], bar: Any = None) -> Cleaned:
        local = local_path(folder)  # a file:// URL is its local folder
        if local is None:
            raise InputError(f"The input {str(folder)!r} is an object-store URL, which the pandas engine does not "
                             "read: run with the dask engine (--engine dask; its workers open URLs through fsspec) "
                             "or copy the exports to a local folder.")
        folder = local
        # file by file: each export is mapped as soon as it is read, and its raw frame let go
        exports = ExportStream(folder, cfg)
        with Timer(timings, "read", bar) as step:  # read and map
            mapped = map_exports(exports, cfg)
            step.rows = mapped.rows_read
        with Timer(timings, "clean", bar, rows=step.rows):  # the month-wide rules, time order, quarantine
            cleaned: CleanResult = clean_mapped(mapped, cfg)
            skipped = list(exports.skipped)
            del mapped  # the quarantine and quality tables keep what they need
            release_memory()
        return Cleaned(volumes=month_volumes(cleaned.frame), quarantine=cleaned.quarantine,
                       quality=cleaned.quality, skipped=skipped, rows=cleaned.frame)

    def annotate(self, cleaned: Cleaned, month: str, taxonomy: Taxonomy, *, skip_months: Sequence[str] = (),
                 timings: dict[str, float], bar: Any = None, summary: SummaryStep | None = None,
                 staging: RowStaging | None = None) -> Annotated:
        """``staging`` is ignored: the rows are in this process, and the store writes them from here."""
        frame: pd.DataFrame = cleaned.rows
        analyse = months_to_analyse(frame, month, skip_months)
        frame = (frame if analyse.all() else frame[analyse]).reset_index(drop=True)  # no copy when all rows are kept
        cleaned.rows = None  # the unfiltered frame is not needed any more
        release_memory()
        ahead = None
        try:
            with Timer(timings, "themes", bar, rows=len(frame)):
                # the sentiment scores are computed in a forked child meanwhile: "sentiment" then mostly waits
                ahead = score_ahead(frame)
                in_month = (frame[S.MONTH] == month).to_numpy(dtype=bool)
                # the month's comments; the whole column when every row is in the month (no copy of the texts)
                tagger = fit_tagger(frame[S.TEXT] if in_month.all() else frame.loc[in_month, S.TEXT], taxonomy)
                frame = add_themes(frame, tagger)
                release_memory()
            with Timer(timings, "sentiment", bar, rows=len(frame)):
                frame = add_sentiment(frame, ahead=ahead)
                release_memory()
        finally:
            if ahead is not None:
                ahead.cancel()  # a failed step: the child's scores are not wanted (no-op once taken)
        combined = summary(frame, month, list(tagger.theme_ids_)) if summary is not None else None
        return Annotated(frame=frame, tagger=tagger, summary=combined)
