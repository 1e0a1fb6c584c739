"""What a month's tables need of its rows, as additive parts: a client that never holds the month.

Each engine partition turns its rows into a :class:`MonthParts` with :func:`month_parts`;
the parts are added up (``a + b``, or ``sum(parts)``) and
:func:`feedbacklib.result.month_tables_from_parts` computes the month's tables from the
total, the same tables :func:`feedbacklib.result.month_tables` computes from the rows.
A :class:`MonthParts` is small (thousands of cells for a million rows) and picklable, so
workers send it to the client instead of their rows.

Adding up is associative but not always commutative: some fields keep the first value
seen (each team's service model on its first row, the order sources first appear), so
add the partitions' parts **in partition order** (``sum(parts)`` or a tree of ``+`` that
keeps the order, like Dask's ``reduction`` does).

How to add a field
------------------
1. Give it a type whose ``+`` adds two partitions' worth (a frozen dataclass with an
   ``__add__``, like :class:`~feedbacklib.stats.summaries.Summary`; an ``int``; a ``Counter``
   for counts by key). ``0 + x`` need not work: :meth:`MonthParts.__radd__` handles ``sum``.
2. Add it to :class:`MonthParts` below, with a default when older callers may not fill it
   (``field(default=...)``), and fill it in :func:`month_parts`.
3. Read it in :func:`feedbacklib.result.month_tables_from_parts`, and test that the parts of
   a month split in three add up to the parts of the whole (tests/test_summary_tables.py).

``__add__`` adds every field with ``+``, so nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields

import pandas as pd

from . import schema as S
from .config import Config
from .stats.summaries import DEFAULT_STRATA, KEYS, SCORES, Summary, summarise

__all__ = ["MonthParts", "month_parts", "PARTS_KEYS", "PARTS_STRATA"]

#: Group keys of the month's summary: every table groups by some of these.
PARTS_KEYS = KEYS
#: Case-mix strata of the month's summary (also the channel chart's channel).
PARTS_STRATA = DEFAULT_STRATA


@dataclass(frozen=True)
class MonthParts:
    """Additive parts of one month's rows: add two to pool their rows.

    Attributes
    ----------
    summary : Summary
        Counts, sums and sums of squares per month x service model x vendor x team x
        channel x contact reason, CSAT and NPS by value per theme pattern and per group
        (:mod:`feedbacklib.stats.summaries`): the KPI tables, comparisons, perception
        gap, case-mix, drivers, theme impact, theme counts and the breakdowns.
    """

    summary: Summary

    @property
    def rows(self) -> int:
        """How many rows the parts stand for."""
        return self.summary.rows

    def __add__(self, other: MonthParts) -> MonthParts:
        if not isinstance(other, MonthParts):
            return NotImplemented
        return MonthParts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def __radd__(self, other) -> MonthParts:
        if isinstance(other, int) and other == 0:   # sum(parts) starts from 0
            return self
        return NotImplemented


def month_parts(frame: pd.DataFrame, month: str, themes: Iterable[str], cfg: Config) -> MonthParts:
    """The :class:`MonthParts` of ``frame``: the month's tagged, scored rows (all of them, or one partition).

    ``month`` is the report month the rows belong to; a row of another month is an error
    (a partition of the wrong month would silently count in this one). ``themes`` are the
    taxonomy's theme ids (their ``theme_<id>`` columns may be missing: no hits, no rate).
    ``cfg`` is the run's configuration (reserved for fields that depend on it, such as
    the service KPIs' SLA).
    """
    if S.MONTH in frame.columns and len(frame):
        other = frame[S.MONTH].astype("string").ne(month).fillna(False)
        if other.any():
            found = sorted(frame.loc[other.to_numpy(dtype=bool), S.MONTH].astype(str).unique())[:5]
            raise ValueError(f"month_parts({month!r}) got rows of other months {found}: pass only the rows of "
                             f"{month} (filter on the {S.MONTH!r} column first).")
    summary = summarise(frame, themes=list(themes), keys=PARTS_KEYS, strata=PARTS_STRATA, scores=SCORES,
                        values=SCORES)
    return MonthParts(summary=summary)
