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
from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from .additive import Additive
from . import schema as S
from .actions import (
    CallListPartial, FixFirstPartial, RecognitionPartial, call_list_partial, fix_first_partial, recognition_partial,
)
from .config import Config
from .forking import Forked
from .themes.discovery import uncovered_texts
from .emerging import UncoveredPartial, emerging_counts, uncovered_partial
from .history import UNCOVERED_SAMPLE, History, HistoryStore
from .quotes import QuotePartial, quote_partial
from .service import ContactWindow, ServicePartial, contact_window, service_partial
from .stats.breakdowns import VolumePartial, volume_partial
from .stats.summaries import DEFAULT_STRATA, KEYS, SCORES, Summary, summarise

__all__ = ["MonthParts", "month_parts", "PARTS_KEYS", "PARTS_STRATA", "ShownParts", "shown_parts", "RunParts",
           "run_parts", "CustomerParts"]

#: Rows from which :func:`shown_parts` finds the praise to recognise in a forked child while it builds
#: the other parts (on two cores, 3 s of the 7 s at a million rows); below, in this process.
FORK_MIN_ROWS = 50_000

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
    # the praise candidates (the slowest part: each praising text's clause is read) in a forked
    # child, the others here meanwhile; the same function either way
    with Forked(recognition_partial, frame, fork=len(frame) >= FORK_MIN_ROWS) as recognition:
        service = None if contacts is None else service_partial(
            frame, contacts, S.SERVICE_MODEL, sla_first_response_hours=cfg.sla_first_response_hours, window=window)
        return ShownParts(
            service=service,
            volume=volume_partial(frame, bucketed=customer_buckets),
            call_list=call_list_partial(frame, cfg.call_list_size),
            quotes=quote_partial(frame, themes, cfg.quotes_per_theme),
            fix_first=fix_first_partial(frame, themes=themes),
            uncovered=uncovered_partial(frame),
            recognition=recognition.result(),
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


def _add_dicts(a: dict, b: dict) -> dict:
    """Two ``{key: partial}`` added key by key (a key in one only is kept as it is)."""
    out = dict(a)
    for key, value in b.items():
        out[key] = value if key not in out else out[key] + value
    return dict(sorted(out.items()))


def _first(a: pd.Timestamp, b: pd.Timestamp) -> pd.Timestamp:
    return b if pd.isna(a) else a if pd.isna(b) else min(a, b)


@dataclass(frozen=True)
class RunParts(Additive):
    """What a run whose rows stay on the engine's workers needs of each partition, added up in partition order.

    Attributes
    ----------
    month : MonthParts
        The report month's parts without the two fields that need every row of a customer in one
        part (``shown.service`` and ``shown.volume``: they come from the customer-key shuffle,
        :class:`CustomerParts`).
    earlier : dict of str to MonthParts
        Per earlier month of the input that the history store lacks: its summary and its sample
        of uncovered comments (:data:`~feedbacklib.history.UNCOVERED_SAMPLE`), what the history's
        theme counts, KPI tables (with the service KPIs of :class:`CustomerParts`) and uncovered
        sample are made of.
    first_received : Timestamp
        The earliest ``received_at`` of the report month's rows (NaT: none): where the earlier
        contacts that can count as repeats start (:func:`~feedbacklib.history.contacts_since`).
    window : ContactWindow
        The contacts of the report month's rows (:func:`~feedbacklib.service.contact_window`).
    rows : int
        The report month's rows in the parts.
    """

    month: MonthParts
    earlier: dict = field(default_factory=dict)
    first_received: pd.Timestamp = pd.NaT
    window: ContactWindow = field(default_factory=ContactWindow)

    @property
    def rows(self) -> int:
        return self.month.rows

    def __add__(self, other: RunParts) -> RunParts:
        if not isinstance(other, RunParts):
            return NotImplemented
        return RunParts(self.month + other.month, _add_dicts(self.earlier, other.earlier),
                        _first(self.first_received, other.first_received), self.window + other.window)


def run_parts(rows: pd.DataFrame, month: str, themes: Iterable[str], cfg: Config) -> RunParts:
    """The :class:`RunParts` of one partition's tagged, scored rows (the report month and earlier months;
    later months are an error of the caller and are left out)."""
    themes = list(themes)
    months = rows[S.MONTH].astype("string")
    in_month = months.eq(month).fillna(False).to_numpy(dtype=bool)
    current = rows[in_month].reset_index(drop=True)
    parts = month_parts(current, month, themes, cfg)
    parts = replace(parts, shown=replace(parts.shown, service=None, volume=None))
    earlier: dict[str, MonthParts] = {}
    before = months.lt(month).fillna(False).to_numpy(dtype=bool)
    if before.any():
        for m, part in rows[before].groupby(S.MONTH, observed=True, sort=True):
            part = part.reset_index(drop=True)
            summary = month_parts(part, str(m), themes, None).summary  # type: ignore[arg-type]
            earlier[str(m)] = MonthParts(summary, ShownParts(uncovered=uncovered_partial(part, UNCOVERED_SAMPLE)))
    first = pd.NaT
    if S.RECEIVED_AT in current.columns and len(current):
        first = pd.to_datetime(current[S.RECEIVED_AT], utc=True).min()
    return RunParts(parts, earlier, first, contact_window(current))


#: The columns the service partial (and the bucketed volume) read of a row: what the customer-key
#: shuffle sends (:class:`CustomerParts`).
SERVICE_COLUMNS = (S.MONTH, S.RESPONSE_ID, S.SOURCE, S.CUSTOMER_KEY, S.RECEIVED_AT, S.SERVICE_MODEL,
                   S.FIRST_RESPONSE_HOURS, S.RESOLUTION_HOURS, S.RESOLVED_REPORTED, S.REOPENED)
__all__ += ["SERVICE_COLUMNS", "customer_parts"]


@dataclass(frozen=True)
class CustomerParts(Additive):
    """The parts that need every row of a customer in one part: one bucket of customer keys, added up
    over the buckets.

    ``service``: the report month's :class:`~feedbacklib.service.ServicePartial`; ``volume``: its
    bucketed :class:`~feedbacklib.stats.breakdowns.VolumePartial`; ``earlier``: each earlier month's
    service partial (its KPI table's service columns)."""

    service: ServicePartial | None = None
    volume: VolumePartial | None = None
    earlier: dict = field(default_factory=dict)

    def __add__(self, other: CustomerParts) -> CustomerParts:
        if not isinstance(other, CustomerParts):
            return NotImplemented

        def add(a, b):
            return b if a is None else a if b is None else a + b
        return CustomerParts(add(self.service, other.service), add(self.volume, other.volume),
                             _add_dicts(self.earlier, other.earlier))


CONTACTS = (S.RESPONSE_ID, S.SOURCE, S.CUSTOMER_KEY, S.RECEIVED_AT)
#: The column that marks a customer-shuffle row as an earlier contact read from the history store.
STORED = "__stored"


def customer_parts(rows: pd.DataFrame, month: str, cfg: Config, *, since: pd.Timestamp,
                   window: ContactWindow, pool_window: ContactWindow) -> CustomerParts:
    """The :class:`CustomerParts` of one bucket of customer keys: ``rows`` holds every row of its customers
    (:data:`SERVICE_COLUMNS`) of the report month and of the earlier months analysed in this run, and
    their contacts from the history store (:data:`STORED` true; months before those).

    Computed as :func:`~feedbacklib.history.build_history` and :func:`~feedbacklib.result.month_tables`
    do on the whole month: the report month against the earlier contacts since ``since`` within the
    month's ``window``; each earlier month against every contact at hand (``pool_window``).
    """
    stored = rows[STORED].eq(True).to_numpy(dtype=bool) if STORED in rows.columns else np.zeros(len(rows), dtype=bool)
    months = rows[S.MONTH].astype("string")
    is_month = months.eq(month).fillna(False).to_numpy(dtype=bool) & ~stored
    past = months.lt(month).fillna(False).to_numpy(dtype=bool) & ~stored
    contacts = [c for c in CONTACTS if c in rows.columns]
    current = rows[is_month].drop(columns=[STORED], errors="ignore").reset_index(drop=True)
    sla = cfg.sla_first_response_hours
    earlier_contacts = rows.loc[stored | past, contacts]
    service = service_partial(current, History.recent_contacts(earlier_contacts, since), S.SERVICE_MODEL,
                              sla_first_response_hours=sla, window=window) if len(current) else None
    volume = volume_partial(current, bucketed=True) if len(current) else None
    earlier: dict[str, ServicePartial] = {}
    if past.any():
        pool = pd.concat([rows.loc[stored, contacts], rows.loc[past, contacts], current[contacts]],
                         ignore_index=True)
        for m, part in rows[past].groupby(S.MONTH, observed=True, sort=True):
            part = part.drop(columns=[STORED], errors="ignore").reset_index(drop=True)
            earlier[str(m)] = service_partial(part, pool, S.SERVICE_MODEL, sla_first_response_hours=sla,
                                              window=pool_window)
    return CustomerParts(service, volume, earlier)


@dataclass(frozen=True)
class ContactWindows(Additive):
    """What the customer-key shuffle's senders report before the buckets run: the window of the earlier
    contacts since the report month's ``since`` (``recent``) and of every contact at hand (``pool``)."""

    recent: ContactWindow = field(default_factory=ContactWindow)
    pool: ContactWindow = field(default_factory=ContactWindow)

    def __add__(self, other: ContactWindows) -> ContactWindows:
        if not isinstance(other, ContactWindows):
            return NotImplemented
        return ContactWindows(self.recent + other.recent, self.pool + other.pool)


def _windows(frame: pd.DataFrame, earlier: np.ndarray, since: pd.Timestamp | None) -> ContactWindows:
    contacts = frame[[c for c in CONTACTS if c in frame.columns]]
    return ContactWindows(contact_window(History.recent_contacts(contacts[earlier], since)), contact_window(contacts))


class CustomerRows:
    """The customer-key shuffle's sender on one partition of analysed rows (months up to ``month``):
    their :data:`SERVICE_COLUMNS` and the :class:`ContactWindows` of their contacts. A class, so that
    it pickles by reference to the workers."""

    def __init__(self, month: str, since: pd.Timestamp | None):
        self.month, self.since = month, since

    def __call__(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, ContactWindows]:
        frame = rows[[c for c in SERVICE_COLUMNS if c in rows.columns]]
        frame = frame[frame[S.MONTH].astype("string").le(self.month).fillna(False).to_numpy(dtype=bool)]
        earlier = frame[S.MONTH].astype("string").lt(self.month).fillna(False).to_numpy(dtype=bool)
        frame = frame.assign(**{STORED: False}).reset_index(drop=True)
        return frame, _windows(frame, earlier, self.since)


class StoredContacts:
    """The customer-key shuffle's sender of one month of the history store at ``root`` (a path the
    workers read): its contact columns, marked :data:`STORED`, and their :class:`ContactWindows`."""

    def __init__(self, root: str, month: str, since: pd.Timestamp | None):
        self.root, self.month, self.since = root, month, since

    def __call__(self) -> tuple[pd.DataFrame, ContactWindows]:
        from_store = _read_contacts(self.root, self.month)
        frame = from_store.assign(**{STORED: True})
        return frame, _windows(frame, np.ones(len(frame), dtype=bool), self.since)


def _read_contacts(root: str, month: str) -> pd.DataFrame:
    """A stored month's contact columns (as :func:`~feedbacklib.history.build_history` reads them)."""
    store = HistoryStore(root, stage=False)
    return store.read_month(month, [c for c in CONTACTS if c in store.columns(month)]).reset_index(drop=True)


class CustomerStep:
    """The customer-key shuffle's receiver: :func:`customer_parts` of one bucket."""

    def __init__(self, month: str, cfg: Config, since: pd.Timestamp | None, window: ContactWindow,
                 pool_window: ContactWindow):
        self.month, self.cfg, self.since, self.window, self.pool_window = month, cfg, since, window, pool_window

    def __call__(self, rows: pd.DataFrame) -> CustomerParts:
        return customer_parts(rows, self.month, self.cfg, since=self.since, window=self.window,
                              pool_window=self.pool_window)


class EmergingCountsStep:
    """The emerging themes' second round on one partition: ``emerging_counts`` of the report month's
    uncovered comments with the models fitted on the month's sample."""

    def __init__(self, month: str, models):
        self.month, self.models = month, models

    def __call__(self, rows: pd.DataFrame):
        in_month = rows[S.MONTH].astype("string").eq(self.month).fillna(False).to_numpy(dtype=bool)
        return emerging_counts(uncovered_texts(rows[in_month]), self.models)


__all__ += ["ContactWindows", "CustomerRows", "StoredContacts", "CustomerStep", "EmergingCountsStep"]
