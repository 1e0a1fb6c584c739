"""Service KPIs: response and resolution times, SLA, reopens, repeat contacts, first-contact resolution.

These complement :func:`feedbacklib.stats.kpi_table` (what customers *say*)
with what the service *did*, as the provider's own systems record it. Every
figure carries its own denominator (``*_n``) and a 95% interval: Wilson for
shares, a seeded percentile bootstrap for medians and 90th percentiles.

Every table is computed from a :class:`ServicePartial` (counts per group, and how
many rows have each distinct time), which parts of a month build and add up; a
bootstrap resample is a multinomial draw of those counts (:func:`service_partial`).
Repeat contacts and FCR need all of a customer's contacts in one part.

Definitions (the report's method notes can quote them)
------------------------------------------------------
- **Contact**: a row whose ``source`` is in ``contact_sources`` (default
  ``ticket`` and ``complaint``: a survey answer is feedback *about* a contact,
  not a new one) with a ``customer_key`` and a ``received_at``.
- **SLA met** (as reported by the provider): ``first_response_hours <=
  sla_first_response_hours`` (default 24), among rows whose first-response time
  is known. Optionally the same for ``resolution_hours`` with
  ``sla_resolution_hours``.
- **Reopen rate**: ``reopened`` True among rows where ``reopened`` is known.
- **Repeat-contact rate within N days** (default N = 7 and 30): among this
  frame's contacts, the share whose customer had *another* contact in the N days
  *before* it (``|gap| <= N`` days, any team, any contact source, looked up in
  ``history``). The "before" direction can be measured at month end; a contact
  whose look-back window starts before the first observed timestamp
  (``observed_from``, default the earliest ``received_at`` of the history) is
  left out of the denominator rather than counted as "no repeat".
  ``direction="after"`` measures instead the share of contacts *followed* by
  another within N days (the view that blames the team that did not resolve),
  leaving out contacts whose window ends after ``observed_until``.
- **First-contact resolution (FCR)**: among contacts with ``resolved_reported``
  known and a fully observed 7-day follow-up window (``fcr_days``): the share
  with ``resolved_reported`` True, not reopened (missing ``reopened`` counts as
  not reopened) and no further contact by the same customer within 7 days. In
  a month-end run the last ``fcr_days`` days of the month are therefore not in
  ``fcr_n``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .additive import Additive
from . import stats as C
from . import schema as S
from .stats import (
    ALL,
    DEFAULT_RESAMPLES,
    GROUP,
    N,
    REPORTABLE,
    benjamini_hochberg,
    hi,
    lo,
)
from .stats.counted import Counted, mann_whitney_counted, rank_biserial_counted

__all__ = [
    "contact_flags",
    "contact_window",
    "ContactWindow",
    "ServiceOptions",
    "ServicePartial",
    "service_partial",
    "combine_service",
    "service_kpis_from_partial",
    "compare_service_from_partial",
    "service_kpis",
    "group_kpis",
    "compare_service",
    "SERVICE_METRICS",
    "DEFAULT_SLA_FIRST_RESPONSE_HOURS",
]

DEFAULT_SLA_FIRST_RESPONSE_HOURS = 24.0
DEFAULT_REPEAT_DAYS = (7, 30)
DEFAULT_FCR_DAYS = 7
CONTACT_SOURCES = ("ticket", "complaint")
DAY = pd.Timedelta(days=1)

# contact_flags columns
IS_CONTACT = "is_contact"
DAYS_SINCE_PREVIOUS = "days_since_previous"
DAYS_TO_NEXT = "days_to_next"
FCR = "fcr"

# service_kpis columns
FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"
SLA_MET = "sla_met_share"
RESOLUTION_SLA_MET = "resolution_sla_met_share"
REOPEN = "reopen_share"
FCR_SHARE = "fcr_share"
CONTACT_N = "contact_n"


def repeat_column(days: int) -> str:
    """Name of the repeat-contact flag / share for a window of ``days`` (``repeat_7d``)."""
    return f"repeat_{int(days)}d"


def _p90(values, axis=None):
    return np.quantile(values, 0.9, axis=axis)


def _median(values, axis=None):
    return np.median(values, axis=axis)


SERVICE_METRICS = (
    f"{FIRST_RESPONSE}_median", f"{FIRST_RESPONSE}_p90", f"{RESOLUTION}_median", f"{RESOLUTION}_p90",
    SLA_MET, RESOLUTION_SLA_MET, REOPEN, "repeat_7d_share", "repeat_30d_share", FCR_SHARE,
)


# =========================================================================== #
# Contact history
# =========================================================================== #
def _contact_mask(frame: pd.DataFrame, contact_sources: Sequence[str] | None) -> np.ndarray:
    ok = np.ones(len(frame), dtype=bool)
    if contact_sources is not None and S.SOURCE in frame.columns:
        source = frame[S.SOURCE]
        if isinstance(source.dtype, pd.CategoricalDtype):
            # the same test on each category, spread by the codes (a missing value is no contact): at 1M
            # rows, turning the categorical into strings cost ~0.15 s each of the three times it is asked
            hit = np.array(source.cat.categories.astype("string").isin(list(contact_sources)), dtype=bool)
            codes = source.cat.codes.to_numpy()
            ok &= np.where(codes >= 0, hit[np.maximum(codes, 0)] if len(hit) else False, False)
        else:
            ok &= np.array(source.astype("string").isin(list(contact_sources)).fillna(False), dtype=bool)
    for col in (S.CUSTOMER_KEY, S.RECEIVED_AT):
        ok &= C.known_mask(frame, col)
    return ok


def contact_flags(
    frame: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    repeat_days: Iterable[int] = DEFAULT_REPEAT_DAYS,
    direction: str = "before",
    fcr_days: int = DEFAULT_FCR_DAYS,
    contact_sources: Sequence[str] | None = CONTACT_SOURCES,
    observed_from: pd.Timestamp | None = None,
    observed_until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Per-row repeat-contact and first-contact-resolution flags, aligned with ``frame``.

    ``history`` holds every contact that can count as the "other" contact
    (typically all months up to the report month, ``frame`` included); rows of
    ``frame`` missing from it are added (matched on ``customer_key`` and
    ``response_id``). Without ``history`` only ``frame`` is searched. The
    observation window defaults to :func:`contact_window` of ``frame`` and
    ``history`` (every contact of both).

    Returns
    -------
    pandas.DataFrame
        Same index as ``frame``; columns ``is_contact`` (bool),
        ``days_since_previous`` and ``days_to_next`` (float days to the same
        customer's nearest other contact, NaN if none or not a contact), one
        nullable boolean ``repeat_<N>d`` per window (NA when the row is not a
        contact or its window is not fully observed), and ``fcr`` (nullable
        boolean, NA when not computable; see the module docstring).
    """
    if direction not in ("before", "after"):
        raise ValueError(f"direction must be 'before' or 'after', got {direction!r}")
    repeat_days = [int(d) for d in repeat_days]
    cols = [c for c in (S.RESPONSE_ID, S.SOURCE, S.CUSTOMER_KEY, S.RECEIVED_AT) if c in frame.columns]
    out = pd.DataFrame(index=frame.index)
    is_contact = _contact_mask(frame, contact_sources)
    out[IS_CONTACT] = is_contact

    if S.CUSTOMER_KEY not in cols or S.RECEIVED_AT not in cols:
        # no way to link contacts: every flag is unknown
        out[DAYS_SINCE_PREVIOUS] = np.nan
        out[DAYS_TO_NEXT] = np.nan
        for d in repeat_days:
            out[repeat_column(d)] = pd.array([pd.NA] * len(frame), dtype="boolean")
        out[FCR] = pd.array([pd.NA] * len(frame), dtype="boolean")
        return out
    pool = frame[cols].assign(_row=np.arange(len(frame)))
    if observed_from is None or observed_until is None:
        window = contact_window(frame, history, contact_sources=contact_sources)
        observed_from = window.start if observed_from is None else observed_from
        observed_until = window.end if observed_until is None else observed_until
    if history is not None and len(history):
        hcols = [c for c in cols if c in history.columns]
        extra = history[hcols]
        if S.RESPONSE_ID in hcols and S.RESPONSE_ID in cols:
            # the same contact (customer and response id) already in frame: counted once
            pair = [S.CUSTOMER_KEY, S.RESPONSE_ID]
            seen = pd.MultiIndex.from_frame(frame[pair].astype(object))
            extra = extra[~pd.MultiIndex.from_frame(extra[pair].astype(object)).isin(seen)]
        pool = pd.concat([pool, extra.assign(_row=-1)], ignore_index=True)
    pool = pool.loc[_contact_mask(pool, contact_sources)]
    times = pd.to_datetime(pool[S.RECEIVED_AT], utc=True) if len(pool) else pd.Series(dtype="datetime64[ns, UTC]")
    pool = pool.assign(_t=times).sort_values([S.CUSTOMER_KEY, "_t"], kind="mergesort")
    keys = pool[S.CUSTOMER_KEY].astype(object).to_numpy()
    same_prev = np.zeros(len(keys), dtype=bool)
    same_prev[1:] = keys[1:] == keys[:-1]
    same_next = np.zeros(len(keys), dtype=bool)
    same_next[:-1] = same_prev[1:]
    t = pool["_t"]
    prev_gap = np.where(same_prev, ((t - t.shift(1)) / DAY).to_numpy(dtype=float, na_value=np.nan), np.nan)
    next_gap = np.where(same_next, ((t.shift(-1) - t) / DAY).to_numpy(dtype=float, na_value=np.nan), np.nan)

    start, end = _utc(observed_from), _utc(observed_until)

    mine = pool["_row"].to_numpy() >= 0
    rows = pool["_row"].to_numpy()[mine]
    since = np.full(len(frame), np.nan)
    to_next = np.full(len(frame), np.nan)
    since[rows] = prev_gap[mine]
    to_next[rows] = next_gap[mine]
    out[DAYS_SINCE_PREVIOUS] = since
    out[DAYS_TO_NEXT] = to_next

    received = pd.to_datetime(frame[S.RECEIVED_AT], utc=True) if S.RECEIVED_AT in frame.columns else None

    def observed(days: float, way: str) -> np.ndarray:
        if received is None or pd.isna(start) or pd.isna(end):
            return np.zeros(len(frame), dtype=bool)
        if way == "before":
            ok = received - days * DAY >= start
        else:
            ok = received + days * DAY <= end
        return np.array(ok.fillna(False), dtype=bool) & is_contact

    for d in repeat_days:
        gap = since if direction == "before" else to_next
        seen = observed(d, direction)
        flag = pd.array(np.nan_to_num(gap, nan=np.inf) <= d, dtype="boolean")
        flag[~seen] = pd.NA
        out[repeat_column(d)] = flag

    seen = observed(fcr_days, "after") & C.known_mask(frame, S.RESOLVED_REPORTED)
    fcr = (C.bool_flags(frame, S.RESOLVED_REPORTED) & ~C.bool_flags(frame, S.REOPENED)
           & ~(np.nan_to_num(to_next, nan=np.inf) <= fcr_days))
    fcr = pd.array(fcr, dtype="boolean")
    fcr[~seen] = pd.NA
    out[FCR] = fcr
    return out


# =========================================================================== #
# Mergeable partial (issue 19): what the service tables need of a set of rows
# =========================================================================== #
def _utc(stamp) -> pd.Timestamp:
    if stamp is None or pd.isna(stamp):
        return pd.NaT
    stamp = pd.Timestamp(stamp)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


@dataclass(frozen=True)
class ContactWindow(Additive):
    """The first and last contact time observed (``start``/``end``, UTC; NaT when none): the
    bounds of the repeat-contact and FCR windows. Add two to pool their rows (min and max)."""

    start: pd.Timestamp = pd.NaT
    end: pd.Timestamp = pd.NaT

    def __add__(self, other: ContactWindow) -> ContactWindow:
        def pick(a, b, fn):
            return b if pd.isna(a) else a if pd.isna(b) else fn(a, b)
        return ContactWindow(pick(self.start, other.start, min), pick(self.end, other.end, max))



def contact_window(frame: pd.DataFrame, history: pd.DataFrame | None = None, *,
                   contact_sources: Sequence[str] | None = CONTACT_SOURCES) -> ContactWindow:
    """The :class:`ContactWindow` of the contacts of ``frame`` and ``history``.

    :func:`contact_flags` uses it when no ``observed_from``/``observed_until`` is given. A month
    split into parts needs the window of the whole month: add up the parts' windows (and the
    history's) and pass the total to :func:`service_partial`.
    """
    out = ContactWindow()
    for rows in (frame, history):
        if rows is None or not len(rows) or S.RECEIVED_AT not in rows.columns:
            continue
        t = pd.to_datetime(rows[S.RECEIVED_AT], utc=True)[_contact_mask(rows, contact_sources)]
        if len(t) and t.notna().any():
            out = out + ContactWindow(_utc(t.min()), _utc(t.max()))
    return out


#: Above this many distinct times in a group, the bootstrap of a median or 90th percentile draws row
#: indices into the sorted values instead of multinomial counts of the distinct values.
MAX_TIME_LEVELS = 4_096
TIME_METRICS = ((FIRST_RESPONSE, S.FIRST_RESPONSE_HOURS), (RESOLUTION, S.RESOLUTION_HOURS))
KEY = "key"
METRIC = "metric"
VALUE = "value"
COUNT = "n"
#: ``(x, n)`` count columns of :attr:`ServicePartial.counts` per share (``x`` hits among ``n`` known).
_HIT, _SEEN = "_x", "_n"


def _share_names(repeat_days: Sequence[int]) -> list[str]:
    return [SLA_MET, RESOLUTION_SLA_MET, REOPEN, *(f"{repeat_column(d)}_share" for d in repeat_days), FCR_SHARE]


@dataclass(frozen=True)
class ServiceOptions:
    """The settings a :class:`ServicePartial` was built with (parts must agree to be added)."""

    by: str = S.SERVICE_MODEL
    sla_first_response_hours: float | None = DEFAULT_SLA_FIRST_RESPONSE_HOURS
    sla_resolution_hours: float | None = None
    repeat_days: tuple[int, ...] = DEFAULT_REPEAT_DAYS
    direction: str = "before"
    fcr_days: int = DEFAULT_FCR_DAYS
    contact_sources: tuple[str, ...] | None = CONTACT_SOURCES
    window: ContactWindow | None = None


@dataclass(frozen=True, eq=False)
class ServicePartial(Additive):
    """Everything :func:`service_kpis` and :func:`compare_service` read of a set of rows; add two to pool them.

    Attributes
    ----------
    options : ServiceOptions
        Group column, SLAs, windows and the contact window the flags were computed with.
    categories : tuple of str or None
        The categories of a categorical ``by`` column (its groups even when empty), else None.
    counts : pandas.DataFrame
        One row per value of ``by`` (``key``, as text; missing is its own key, NA): ``n`` (rows),
        ``contact_n`` and per share (``sla_met_share``...) ``<share>_x`` hits among ``<share>_n``
        known rows.
    times : pandas.DataFrame
        ``key, metric, value, n``: how many rows of each group have each distinct first-response
        (``metric`` ``first_response``) or resolution time (exact: the medians, 90th percentiles,
        their bootstraps and the Mann-Whitney test follow from it).

    Repeat contacts and FCR need every contact of a customer: build each part on rows that hold
    all of their customers' rows (a bucket of ``customer_key``, as the Dask engine shuffles them)
    with the history contacts of those customers, and one :class:`ContactWindow` for all parts.
    """

    options: ServiceOptions
    categories: tuple[str, ...] | None
    counts: pd.DataFrame
    times: pd.DataFrame

    def __add__(self, other: ServicePartial) -> ServicePartial:
        return combine_service(self, other)


    @property
    def nbytes(self) -> int:
        """Memory of the two tables (deep), for the size figures."""
        return int(self.counts.memory_usage(deep=True).sum() + self.times.memory_usage(deep=True).sum())


def _keys_of(frame: pd.DataFrame, by: str) -> tuple[np.ndarray, list]:
    """Group code per row (-1: missing) and the key (text) of each code."""
    codes, uniques = pd.factorize(frame[by].astype(object), use_na_sentinel=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


def _sum_by(codes: np.ndarray, size: int, values: np.ndarray) -> np.ndarray:
    """Sum per code, the missing code (-1) last."""
    return np.bincount(np.where(codes < 0, size, codes), weights=values.astype(float),
                       minlength=size + 1).astype(np.int64)


def _sort_keys(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return table.sort_values(columns, kind="mergesort", na_position="last").reset_index(drop=True)


def service_partial(
    frame: pd.DataFrame,
    history: pd.DataFrame | None = None,
    by: str = S.SERVICE_MODEL,
    *,
    sla_first_response_hours: float | None = DEFAULT_SLA_FIRST_RESPONSE_HOURS,
    sla_resolution_hours: float | None = None,
    repeat_days: Iterable[int] = DEFAULT_REPEAT_DAYS,
    direction: str = "before",
    fcr_days: int = DEFAULT_FCR_DAYS,
    contact_sources: Sequence[str] | None = CONTACT_SOURCES,
    window: ContactWindow | None = None,
) -> ServicePartial:
    """The :class:`ServicePartial` of ``frame`` (a month, or one customer bucket of it).

    ``history`` holds the earlier contacts (:func:`contact_flags`); ``window`` the month's
    :class:`ContactWindow` (default: that of ``frame`` and ``history``, right for a whole month).
    """
    C.require_column(frame, by, "by")
    days = tuple(int(d) for d in repeat_days)
    sources = tuple(contact_sources) if contact_sources is not None else None
    if window is None:
        window = contact_window(frame, history, contact_sources=sources)
    options = ServiceOptions(by, sla_first_response_hours, sla_resolution_hours, days, direction, int(fcr_days),
                             sources, window)
    flags = contact_flags(frame, history, repeat_days=days, direction=direction, fcr_days=fcr_days,
                          contact_sources=sources, observed_from=window.start, observed_until=window.end)
    codes, keys = _keys_of(frame, by)
    size = len(keys)
    counts = pd.DataFrame({KEY: pd.Series([*keys, pd.NA], dtype="string")})
    counts[N] = _sum_by(codes, size, np.ones(len(frame)))
    counts[CONTACT_N] = _sum_by(codes, size, flags[IS_CONTACT].to_numpy(dtype=bool))

    def put(name: str, hit: np.ndarray, seen: np.ndarray) -> None:
        counts[name + _HIT] = _sum_by(codes, size, hit & seen)
        counts[name + _SEEN] = _sum_by(codes, size, seen)

    for name, threshold, column in ((SLA_MET, sla_first_response_hours, S.FIRST_RESPONSE_HOURS),
                                    (RESOLUTION_SLA_MET, sla_resolution_hours, S.RESOLUTION_HOURS)):
        hours = C.numeric(frame, column)
        none = np.zeros(len(frame), dtype=bool)
        put(name, none, none) if threshold is None else put(name, hours <= threshold, ~np.isnan(hours))
    put(REOPEN, C.bool_flags(frame, S.REOPENED), C.known_mask(frame, S.REOPENED))
    for d in days:
        put(f"{repeat_column(d)}_share", *_bool_parts(flags[repeat_column(d)]))
    put(FCR_SHARE, *_bool_parts(flags[FCR]))
    counts = _sort_keys(counts[counts[N] > 0], [KEY])

    parts = []
    for name, column in TIME_METRICS:
        hours = C.numeric(frame, column)
        ok = np.isfinite(hours)
        part = pd.DataFrame({KEY: pd.Series(np.array([*keys, None], dtype=object)[codes[ok]], dtype="string"),
                             METRIC: name, VALUE: hours[ok]})
        parts.append(part.groupby([KEY, METRIC, VALUE], dropna=False, sort=False).size().rename(COUNT).reset_index())
    times = _sort_keys(pd.concat(parts, ignore_index=True), [METRIC, KEY, VALUE])
    times[COUNT] = times[COUNT].astype(np.int64)
    categories = tuple(str(c) for c in frame[by].cat.categories) \
        if isinstance(frame[by].dtype, pd.CategoricalDtype) else None
    return ServicePartial(options, categories, counts.reset_index(drop=True), times)


def combine_service(*parts: ServicePartial) -> ServicePartial:
    """The :class:`ServicePartial` of the union of the parts' rows (each customer's rows in one part)."""
    if not parts:
        raise ValueError("combine_service() needs at least one ServicePartial (got none): pass the partials "
                         "service_partial() returned for each part of the month.")
    first = parts[0]
    for other in parts[1:]:
        if other.options != first.options:
            raise ValueError(f"Cannot add service partials built differently: {first.options} against "
                             f"{other.options}. Build every part with service_partial() and the same options "
                             "(same group column, SLAs, windows and ContactWindow).")
    if len(parts) == 1:
        return first
    cats = [p.categories for p in parts if p.categories is not None]
    categories = cats[0] if cats else None
    if any(c != categories for c in cats):
        categories = tuple(dict.fromkeys(v for c in cats for v in c))
    counts = pd.concat([p.counts for p in parts], ignore_index=True)
    counts = _sort_keys(counts.groupby(KEY, dropna=False, sort=False).sum().reset_index(), [KEY])
    times = pd.concat([p.times for p in parts], ignore_index=True)
    times = _sort_keys(times.groupby([KEY, METRIC, VALUE], dropna=False, sort=False)[COUNT].sum().reset_index(),
                       [METRIC, KEY, VALUE])
    return ServicePartial(first.options, categories, counts, times)


# =========================================================================== #
# Quantiles and their bootstrap from value counts
# =========================================================================== #
def _levels(partial: ServicePartial, metric: str, keys: Sequence[object] | None) -> tuple[np.ndarray, np.ndarray]:
    """Distinct times (sorted) and their counts for the rows of ``keys`` (None: every row)."""
    t = partial.times
    mine = (t[METRIC] == metric).to_numpy(dtype=bool)
    if keys is not None:
        mine = mine & t[KEY].isin([k for k in keys if k is not None]).fillna(False).to_numpy(dtype=bool)
    g = t.loc[mine].groupby(VALUE, sort=True)[COUNT].sum()
    return g.index.to_numpy(dtype=float), g.to_numpy(dtype=np.int64)


def _order_stat(cum: np.ndarray, levels: np.ndarray, j: int) -> np.ndarray:
    """The ``j``-th (0-based) smallest value of each resample whose cumulative level counts are ``cum``."""
    return levels[(cum <= j).sum(axis=-1)]


def _quantile_of_counts(cum: np.ndarray, levels: np.ndarray, n: int, q: float) -> np.ndarray:
    """``np.median`` (q = 0.5) or ``np.quantile(..., q)`` ('linear') of each resample, from cumulative counts."""
    if q == 0.5:
        if n % 2:
            return _order_stat(cum, levels, n // 2)
        return (_order_stat(cum, levels, n // 2 - 1) + _order_stat(cum, levels, n // 2)) / 2.0
    virtual = (n - 1) * q
    below = int(math.floor(virtual))
    gamma = virtual - below
    a = _order_stat(cum, levels, below)
    b = _order_stat(cum, levels, min(below + 1, n - 1))
    diff = b - a
    return np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)


_QUANTILE = {"median": 0.5, "p90": 0.9}
_STATISTIC = {"median": _median, "p90": _p90}


def _replicates(levels: np.ndarray, counts: np.ndarray, stat: str, n_resamples: int,
                rng: np.random.Generator) -> np.ndarray:
    """Bootstrap replicates of the ``stat`` of the rows ``levels`` x ``counts``.

    Few distinct values: a resample is how often each value is drawn (multinomial counts), the
    same distribution as drawing rows at O(values) per resample. Many: row indices into the
    sorted values. Either way the draws depend only on the value counts, so the answer is the
    same however the rows were split into parts.
    """
    n = int(counts.sum())
    if levels.size <= MAX_TIME_LEVELS:
        out = []
        for draws in _multinomial_blocks(rng, n, counts / n, n_resamples):
            out.append(_quantile_of_counts(np.cumsum(draws, axis=1), levels, n, _QUANTILE[stat]))
        return np.concatenate(out)
    values = np.repeat(levels, counts)
    return np.concatenate([_STATISTIC[stat](values[i], axis=1) for i in C.index_blocks(rng, n, n_resamples)])


def _multinomial_blocks(rng: np.random.Generator, n: int, p: np.ndarray, n_resamples: int):
    rows = max(1, min(n_resamples, 2_000_000 // max(p.size, 1)))
    done = 0
    while done < n_resamples:
        r = min(rows, n_resamples - done)
        yield rng.multinomial(n, p, size=r)
        done += r


def _boot_counts(levels: np.ndarray, counts: np.ndarray, stat: str, n_resamples: int,
                 random_state) -> tuple[float, float, float]:
    """``(statistic, lo, hi)`` of the rows ``levels`` x ``counts`` (NaN when there are none)."""
    if counts.sum() == 0:
        return (math.nan, math.nan, math.nan)
    n = int(counts.sum())
    value = float(_quantile_of_counts(np.cumsum(counts)[None, :], levels, n, _QUANTILE[stat])[0])
    reps = _replicates(levels, counts, stat, n_resamples, np.random.default_rng(random_state))
    low, high = C.percentile_interval(reps, C.CONFIDENCE)
    return (value, low, high)


def _boot_diff(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], stat: str,
               n_resamples: int, random_state) -> tuple[float, float]:
    if a[1].sum() == 0 or b[1].sum() == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(random_state)
    ra = _replicates(*a, stat, n_resamples, rng)
    rb = _replicates(*b, stat, n_resamples, rng)
    return C.percentile_interval(ra - rb, C.CONFIDENCE)


# =========================================================================== #
# Service KPI table
# =========================================================================== #
def _share_of(hit: np.ndarray, seen: np.ndarray) -> tuple[int, int]:
    return int(np.count_nonzero(hit & seen)), int(np.count_nonzero(seen))


def _bool_parts(flags: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    arr = flags.astype("boolean")
    return np.array(arr.fillna(False), dtype=bool), np.array(arr.notna(), dtype=bool)


def _counts_of(partial: ServicePartial, keys: Sequence[object] | None) -> dict[str, int]:
    c = partial.counts
    rows = c if keys is None else c[c[KEY].isin([k for k in keys if k is not None]).fillna(False)]
    return {col: int(rows[col].sum()) for col in c.columns if col != KEY}


def _service_row(partial: ServicePartial, keys: Sequence[object] | None, n_resamples: int, random_state) -> dict:
    counts = _counts_of(partial, keys)
    row: dict[str, object] = {N: counts.get(N, 0)}
    for name, _ in TIME_METRICS:
        levels, n = _levels(partial, name, keys)
        row[f"{name}_n"] = int(n.sum())
        for stat in ("median", "p90"):
            col = f"{name}_{stat}"
            row[col], row[lo(col)], row[hi(col)] = _boot_counts(levels, n, stat, n_resamples, random_state)

    def put(col: str) -> None:
        x, n = counts.get(col + _HIT, 0), counts.get(col + _SEEN, 0)
        row[f"{col.removesuffix('_share')}_n"] = n
        row[col], row[lo(col)], row[hi(col)] = C.share_interval(x, n)

    put(SLA_MET)
    put(RESOLUTION_SLA_MET)
    put(REOPEN)
    row[CONTACT_N] = counts.get(CONTACT_N, 0)
    for d in partial.options.repeat_days:
        put(f"{repeat_column(d)}_share")
    put(FCR_SHARE)
    return row


def _groups(partial: ServicePartial) -> list[str]:
    """The groups of the ``by`` column as :func:`~feedbacklib.stats.kpi_table` lists them."""
    if partial.categories is not None:
        return list(partial.categories)
    return sorted(str(k) for k in partial.counts[KEY].dropna())


def service_kpis_from_partial(partial: ServicePartial, *, min_n: int = C.MIN_N,
                              n_resamples: int = DEFAULT_RESAMPLES, random_state: int | None = 0) -> pd.DataFrame:
    """:func:`service_kpis` from a :class:`ServicePartial` (of the month, or added up from its parts)."""
    rows = []
    for label, keys in [*((g, [g]) for g in _groups(partial)), (ALL, None)]:
        row = {GROUP: label, **_service_row(partial, keys, n_resamples, random_state)}
        row[REPORTABLE] = row[N] >= min_n
        rows.append(row)
    return pd.DataFrame(rows)


def service_kpis(
    frame: pd.DataFrame,
    history: pd.DataFrame | None = None,
    by: str = S.SERVICE_MODEL,
    *,
    sla_first_response_hours: float | None = DEFAULT_SLA_FIRST_RESPONSE_HOURS,
    sla_resolution_hours: float | None = None,
    repeat_days: Iterable[int] = DEFAULT_REPEAT_DAYS,
    direction: str = "before",
    fcr_days: int = DEFAULT_FCR_DAYS,
    contact_sources: Sequence[str] | None = CONTACT_SOURCES,
    min_n: int = C.MIN_N,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Service KPIs with 95% intervals, one row per group of ``by`` plus ``"all"``.

    Groups follow :func:`~feedbacklib.stats.kpi_table` exactly (categories of
    a categorical column, else observed values; missing ``by`` counts only in
    ``"all"``), so the two tables merge on ``group``; see :func:`group_kpis`.
    Definitions are in the module docstring. Computed from the rows'
    :class:`ServicePartial` (:func:`service_kpis_from_partial`), so a month split
    into parts gives the same table.

    Returns
    -------
    pandas.DataFrame
        Columns, in order: ``group``, ``n``;
        ``first_response_n``, ``first_response_median`` (+``_lo``/``_hi``),
        ``first_response_p90`` (+``_lo``/``_hi``) in hours (bootstrap, seeded:
        multinomial counts of the distinct times, or row indices into the sorted
        times above :data:`MAX_TIME_LEVELS` of them);
        the same four-plus for ``resolution_``;
        ``sla_met_n``, ``sla_met_share`` (+``_lo``/``_hi``; NaN when
        ``sla_first_response_hours`` is None);
        ``resolution_sla_met_n``, ``resolution_sla_met_share`` (+``_lo``/``_hi``);
        ``reopen_n``, ``reopen_share`` (+``_lo``/``_hi``);
        ``contact_n`` (contacts in the group);
        per window N: ``repeat_<N>d_n``, ``repeat_<N>d_share`` (+``_lo``/``_hi``);
        ``fcr_n``, ``fcr_share`` (+``_lo``/``_hi``); ``reportable`` (``n >= min_n``).
        Shares are 0..1 with Wilson intervals.
    """
    partial = service_partial(frame, history, by, sla_first_response_hours=sla_first_response_hours,
                              sla_resolution_hours=sla_resolution_hours, repeat_days=repeat_days,
                              direction=direction, fcr_days=fcr_days, contact_sources=contact_sources)
    return service_kpis_from_partial(partial, min_n=min_n, n_resamples=n_resamples, random_state=random_state)


def group_kpis(
    frame: pd.DataFrame,
    history: pd.DataFrame | None = None,
    by: str = S.SERVICE_MODEL,
    *,
    themes: Iterable[str] | None = None,
    min_n: int = C.MIN_N,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
    **service_options,
) -> pd.DataFrame:
    """:func:`~feedbacklib.stats.kpi_table` and :func:`service_kpis` side by side, one row per group.

    Columns: every column of ``kpi_table`` (in its order), then every column of
    ``service_kpis`` except ``group``, ``n`` and ``reportable``. ``by`` may be
    ``service_model``, ``vendor`` or ``team``. ``service_options`` are passed
    to :func:`service_kpis` (``sla_first_response_hours=24`` and so on).
    """
    base = C.kpi_table(frame, by, themes=themes, min_n=min_n, n_resamples=n_resamples,
                       random_state=random_state)
    svc = service_kpis(frame, history, by, min_n=min_n, n_resamples=n_resamples,
                       random_state=random_state, **service_options)
    return base.merge(svc.drop(columns=[N, REPORTABLE]), on=GROUP, how="left", validate="one_to_one")


# =========================================================================== #
# Two-group comparison of service KPIs (long format of compare_groups)
# =========================================================================== #
_LABELS = {
    SLA_MET: "first responses within the SLA",
    RESOLUTION_SLA_MET: "resolutions within the SLA",
    REOPEN: "cases reopened",
    FCR_SHARE: "contacts resolved first time",
}


def _service_finding(row: dict) -> str:
    subject, plural = C.subject(str(row[C.A]))
    against = C.against(str(row[C.B]))
    metric = row[C.METRIC]
    if row[C.KIND] == "quantile":
        what = "median" if metric.endswith("median") else "90th-percentile"
        thing = "first response" if metric.startswith(FIRST_RESPONSE) else "resolution"
        return (f"{subject} {C.verb('have', plural)} a {what} {thing} time of {row[C.VALUE_A]:.1f} hours "
                f"against {row[C.VALUE_B]:.1f} {against} (difference {row[C.DIFF]:+.1f} hours, "
                f"95% CI {row[C.DIFF_LO]:.1f} to {row[C.DIFF_HI]:.1f}).")
    label = _LABELS.get(metric) or (
        f"contacts from a customer who contacted them within the previous {metric.split('_')[1][:-1]} days")
    return (f"{subject}: {100 * row[C.VALUE_A]:.1f}% of {label} against {100 * row[C.VALUE_B]:.1f}% "
            f"{against} (difference {100 * row[C.DIFF]:+.1f} points, 95% CI {100 * row[C.DIFF_LO]:.1f} "
            f"to {100 * row[C.DIFF_HI]:.1f}).")


def compare_service_from_partial(
    partial: ServicePartial,
    *,
    a: str = S.OUTSOURCED,
    b: str = S.IN_HOUSE,
    min_n: int = C.MIN_N,
    alpha: float = C.ALPHA,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """:func:`compare_service` of groups ``a`` and ``b`` of the partial's ``by`` column."""
    opts = partial.options
    ka, kb = [str(a)], [str(b)]
    rows = []
    for name, _ in TIME_METRICS:
        la, lb = _levels(partial, name, ka), _levels(partial, name, kb)
        xa, xb = Counted.of(*la), Counted.of(*lb)  # never one value per row (stats.counted)
        for stat in ("median", "p90"):
            va, lo_a, hi_a = _boot_counts(*la, stat, n_resamples, random_state)
            vb, lo_b, hi_b = _boot_counts(*lb, stat, n_resamples, random_state)
            dl, dh = _boot_diff(la, lb, stat, n_resamples, random_state)
            tested = stat == "median"
            rows.append({
                C.METRIC: f"{name}_{stat}", C.THEME: "", C.KIND: "quantile", C.UNIT: "hours",
                C.N_A: int(xa.size), C.N_B: int(xb.size),
                C.VALUE_A: va, C.LO_A: lo_a, C.HI_A: hi_a, C.VALUE_B: vb, C.LO_B: lo_b, C.HI_B: hi_b,
                C.DIFF: va - vb, C.DIFF_LO: dl, C.DIFF_HI: dh,
                C.P_VALUE: mann_whitney_counted(xa, xb) if tested else math.nan,
                C.EFFECT_SIZE: rank_biserial_counted(xa, xb) if tested else math.nan,
                C.EFFECT_KIND: C.EFFECT_RANK_BISERIAL if tested else "",
            })
    ca, cb = _counts_of(partial, ka), _counts_of(partial, kb)

    def proportion(metric: str, unit: str) -> None:
        x_a, n_a = ca.get(metric + _HIT, 0), ca.get(metric + _SEEN, 0)
        x_b, n_b = cb.get(metric + _HIT, 0), cb.get(metric + _SEEN, 0)
        rows.append({C.METRIC: metric, C.THEME: "", C.UNIT: unit, **C.proportion_row(x_a, n_a, x_b, n_b, 1.0)})

    for threshold, metric in ((opts.sla_first_response_hours, SLA_MET),
                              (opts.sla_resolution_hours, RESOLUTION_SLA_MET)):
        if threshold is not None:
            proportion(metric, f"share within {threshold:g} h (0-1)")
    proportion(REOPEN, "share of known (0-1)")
    for d in opts.repeat_days:
        proportion(f"{repeat_column(d)}_share", "share of contacts (0-1)")
    proportion(FCR_SHARE, "share of contacts (0-1)")

    out = pd.DataFrame([{C.A: str(a), C.B: str(b), **r} for r in rows])
    big = (out[C.N_A] >= min_n) & (out[C.N_B] >= min_n)
    out[C.Q_VALUE] = benjamini_hochberg(np.where(big, out[C.P_VALUE].to_numpy(dtype=float), np.nan))
    out[C.SIGNIFICANT] = (big & (out[C.Q_VALUE] < alpha)).fillna(False).astype(bool)
    out[C.FINDING] = [_service_finding(r) if r[C.SIGNIFICANT] else "" for r in out.to_dict("records")]
    return out[list(C.COMPARE_COLUMNS)]


def compare_service(
    frame: pd.DataFrame,
    history: pd.DataFrame | None = None,
    *,
    group_col: str = S.SERVICE_MODEL,
    a: str = S.OUTSOURCED,
    b: str = S.IN_HOUSE,
    sla_first_response_hours: float | None = DEFAULT_SLA_FIRST_RESPONSE_HOURS,
    sla_resolution_hours: float | None = None,
    repeat_days: Iterable[int] = DEFAULT_REPEAT_DAYS,
    fcr_days: int = DEFAULT_FCR_DAYS,
    contact_sources: Sequence[str] | None = CONTACT_SOURCES,
    min_n: int = C.MIN_N,
    alpha: float = C.ALPHA,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Service KPIs of group ``a`` against ``b``, in the long format of :func:`~feedbacklib.stats.compare_groups`.

    Metrics: ``first_response_median``, ``resolution_median`` (kind
    ``quantile``: bootstrap intervals of each median and of the difference,
    Mann-Whitney p-value, rank-biserial effect size), ``first_response_p90``,
    ``resolution_p90`` (kind ``quantile``, intervals only: ``p_value`` NaN,
    never significant), then the shares ``sla_met_share``,
    ``resolution_sla_met_share`` (only when an SLA is given), ``reopen_share``,
    ``repeat_<N>d_share``, ``fcr_share`` (kind ``proportion``: Wilson,
    Newcombe, two-proportion test, Cohen's h). BH across the tested rows whose
    two denominators reach ``min_n``. Computed from the rows' :class:`ServicePartial`
    (:func:`compare_service_from_partial`).

    Returns
    -------
    pandas.DataFrame
        The columns of ``compare_groups`` (``theme`` is ``""``); ``finding``
        is a sentence on significant rows, ``""`` otherwise.
    """
    partial = service_partial(frame, history, group_col, sla_first_response_hours=sla_first_response_hours,
                              sla_resolution_hours=sla_resolution_hours, repeat_days=repeat_days,
                              fcr_days=fcr_days, contact_sources=contact_sources)
    return compare_service_from_partial(partial, a=a, b=b, min_n=min_n, alpha=alpha, n_resamples=n_resamples,
                                        random_state=random_state)
