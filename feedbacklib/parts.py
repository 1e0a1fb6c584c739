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
   for counts by key). ``0 + x`` need not work: the :class:`~feedbacklib.additive.Additive` mixin handles ``sum``.
2. Add it to :class:`MonthParts` below, with a default when older callers may not fill it
   (``field(default=...)``), and fill it in :func:`month_parts`.
3. Read it in :func:`feedbacklib.result.month_tables_from_parts`, and test that the parts of
   a month split in three add up to the parts of the whole (tests/test_summary_tables.py).

``__add__`` adds every field with ``+``, so nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields

import pandas as pd

from .additive import Additive
from . import schema as S
from .actions import (
    CallListPartial, FixFirstPartial, RecognitionPartial, call_list_partial, fix_first_partial, recognition_partial,
)
from .config import Config
from .emerging import UncoveredPartial, uncovered_partial
from .quotes import QuotePartial, quote_partial
from .service import ContactWindow, ServicePartial, service_partial
from .stats.breakdowns import VolumePartial, volume_partial
from .stats.summaries import DEFAULT_STRATA, KEYS, SCORES, Summary, summarise

__all__ = ["MonthParts", "month_parts", "PARTS_KEYS", "PARTS_STRATA", "ShownParts", "shown_parts"]

#: Group keys of the month's summary: every table groups by some of these.
PARTS_KEYS = KEYS
#: Case-mix strata of the month's summary (also the channel chart's channel).
PARTS_STRATA = DEFAULT_STRATA


@dataclass(frozen=True)
class ShownParts(Additive):
    """The service KPIs, the volume and the few rows the report shows, as additive partials.

    Each field adds with ``+`` (None: not built; None + x is x). ``service`` (repeat contacts,
    FCR) and ``volume`` built with ``customer_buckets=True`` need every row of a customer key in
    one part; the other fields take any split. Built by :func:`shown_parts`.

    Attributes
    ----------
    service : ServicePartial
        Times by value, SLA, reopen, repeat-contact and FCR counts by service model
        (:func:`~feedbacklib.service.service_kpis_from_partial`, ``compare_service_from_partial``).
    volume : VolumePartial
        Rows and distinct customers (:func:`~feedbacklib.stats.breakdowns.volume_from_partial`).
    call_list : CallListPartial
        The call list's candidates (:func:`~feedbacklib.actions.select_call_list_from_partial`).
    quotes : QuotePartial
        Per theme its count and quote candidates (:func:`~feedbacklib.quotes.theme_quotes_from_partial`).
    fix_first : FixFirstPartial
        Comments and theme hits per vendor, team and channel (:func:`~feedbacklib.actions.fix_first_from_partial`).
    recognition : RecognitionPartial
        Praising comments per team and the praise the report can show
        (:func:`~feedbacklib.actions.select_recognition_from_partial`).
    uncovered : UncoveredPartial
        The uncovered comments' count and bottom-k sample: the emerging-theme fit and the history
        store's sample (:func:`~feedbacklib.emerging.fit_emerging`; the second round,
        :func:`~feedbacklib.emerging.emerging_counts`, needs each part's uncovered texts).
    """

    service: ServicePartial | None = None
    volume: VolumePartial | None = None
    call_list: CallListPartial | None = None
    quotes: QuotePartial | None = None
    fix_first: FixFirstPartial | None = None
    uncovered: UncoveredPartial | None = None
    recognition: RecognitionPartial | None = None

    def __add__(self, other: ShownParts) -> ShownParts:
        if not isinstance(other, ShownParts):
            return NotImplemented

        def add(a, b):
            return b if a is None else a if b is None else a + b
        return ShownParts(**{f.name: add(getattr(self, f.name), getattr(other, f.name)) for f in fields(self)})


def shown_parts(frame: pd.DataFrame, themes: Iterable[str], cfg: Config, *, contacts: pd.DataFrame | None = None,
                window: ContactWindow | None = None, customer_buckets: bool = False) -> ShownParts:
    """The :class:`ShownParts` of ``frame`` (the month's rows, or one part of them).

    ``contacts``: the earlier contacts (``History.contacts``, possibly empty; a part needs at least
    those of its customers); without them (None) the service partial is not built. ``window``: the month's :class:`~feedbacklib.service.ContactWindow` (the sum of
    :func:`~feedbacklib.service.contact_window` over the parts and the contacts); by default that of
    ``frame`` and ``contacts``, right only for the whole month. ``customer_buckets``: the part holds
    every row of each of its customers (the volume then keeps a count, not the customers' hashes).
    """
    themes = list(themes)
    service = None if contacts is None else service_partial(
        frame, contacts, S.SERVICE_MODEL, sla_first_response_hours=cfg.sla_first_response_hours, window=window)
    return ShownParts(
        service=service,
        volume=volume_partial(frame, bucketed=customer_buckets),
        call_list=call_list_partial(frame, cfg.call_list_size),
        quotes=quote_partial(frame, themes, cfg.quotes_per_theme),
        fix_first=fix_first_partial(frame, themes=themes),
        uncovered=uncovered_partial(frame),
        recognition=recognition_partial(frame),
    )


@dataclass(frozen=True)
class MonthParts(Additive):
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
    #: The service KPIs, the volume and the few rows the report shows (:func:`shown_parts`).
    shown: ShownParts = field(default_factory=ShownParts)

    @property
    def rows(self) -> int:
        """How many rows the parts stand for."""
        return self.summary.rows

    def __add__(self, other: MonthParts) -> MonthParts:
        if not isinstance(other, MonthParts):
            return NotImplemented
        return MonthParts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})



def month_parts(frame: pd.DataFrame, month: str, themes: Iterable[str], cfg: Config, *,
                contacts: pd.DataFrame | None = None, window: ContactWindow | None = None,
                customer_buckets: bool = False) -> MonthParts:
    """The :class:`MonthParts` of ``frame``: the month's tagged, scored rows (all of them, or one partition).

    ``month`` is the report month the rows belong to; a row of another month is an error
    (a partition of the wrong month would silently count in this one). ``themes`` are the
    taxonomy's theme ids (their ``theme_<id>`` columns may be missing: no hits, no rate).
    ``cfg`` is the run's configuration (reserved for fields that depend on it, such as
    the service KPIs' SLA). ``contacts``, ``window`` and ``customer_buckets`` go to :func:`shown_parts` (not built
    without ``cfg``).
    """
    if S.MONTH in frame.columns and len(frame):
        other = frame[S.MONTH].astype("string").ne(month).fillna(False)
        if other.any():
            found = sorted(frame.loc[other.to_numpy(dtype=bool), S.MONTH].astype(str).unique())[:5]
            raise ValueError(f"month_parts({month!r}) got rows of other months {found}: pass only the rows of "
                             f"{month} (filter on the {S.MONTH!r} column first).")
    summary = summarise(frame, themes=list(themes), keys=PARTS_KEYS, strata=PARTS_STRATA, scores=SCORES,
                        values=SCORES)
    shown = ShownParts() if cfg is None else shown_parts(frame, summary.themes, cfg, contacts=contacts, window=window,
                                                         customer_buckets=customer_buckets)
    return MonthParts(summary=summary, shown=shown)
