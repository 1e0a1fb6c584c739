"""service_kpis and compare_service as computed from rows before issue 19 (kept verbatim, imports aside,
as the reference of tests/test_partials.py).

Service KPIs: response and resolution times, SLA, reopens, repeat contacts, first-contact resolution.

These complement :func:`feedbacklib.stats.kpi_table` (what customers *say*)
with what the service *did*, as the provider's own systems record it. Every
figure carries its own denominator (``*_n``) and a 95% interval: Wilson for
shares, a seeded percentile bootstrap for medians and 90th percentiles.

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

import numpy as np
import pandas as pd

from feedbacklib import stats as C
from feedbacklib import schema as S
from feedbacklib.stats import (
    ALL,
    DEFAULT_RESAMPLES,
    GROUP,
    N,
    REPORTABLE,
    benjamini_hochberg,
    bootstrap_interval,
    hi,
    lo,
    mann_whitney,
)

__all__ = [
    "contact_flags",
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
        ok &= np.array(frame[S.SOURCE].astype("string").isin(list(contact_sources)).fillna(False), dtype=bool)
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
    ``frame`` missing from it are added (matched on ``response_id``). Without
    ``history`` only ``frame`` is searched.

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
    if history is not None and len(history):
        hcols = [c for c in cols if c in history.columns]
        extra = history[hcols]
        if S.RESPONSE_ID in hcols and S.RESPONSE_ID in cols:
            extra = extra[~extra[S.RESPONSE_ID].isin(frame[S.RESPONSE_ID].dropna())]
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

    start = pd.Timestamp(observed_from) if observed_from is not None else (t.min() if len(t) else pd.NaT)
    end = pd.Timestamp(observed_until) if observed_until is not None else (t.max() if len(t) else pd.NaT)
    if start is not pd.NaT and start.tzinfo is None:
        start = start.tz_localize("UTC")
    if end is not pd.NaT and end.tzinfo is None:
        end = end.tz_localize("UTC")

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
# Service KPI table
# =========================================================================== #
def _boot(values: np.ndarray, statistic, n_resamples: int, random_state) -> tuple[float, float, float]:
    if values.size == 0:
        return (math.nan, math.nan, math.nan)
    low, high = bootstrap_interval(values, statistic, n_resamples=n_resamples, random_state=random_state)
    return (float(statistic(values)), low, high)


def _share_of(hit: np.ndarray, seen: np.ndarray) -> tuple[int, int]:
    return int(np.count_nonzero(hit & seen)), int(np.count_nonzero(seen))


def _bool_parts(flags: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    arr = flags.astype("boolean")
    return np.array(arr.fillna(False), dtype=bool), np.array(arr.notna(), dtype=bool)


def _service_row(part: pd.DataFrame, flags: pd.DataFrame, repeat_days: Sequence[int],
                 sla_first: float | None, sla_resolution: float | None,
                 n_resamples: int, random_state) -> dict:
    row: dict[str, object] = {N: len(part)}
    for name, column in ((FIRST_RESPONSE, S.FIRST_RESPONSE_HOURS), (RESOLUTION, S.RESOLUTION_HOURS)):
        values = C.finite(C.numeric(part, column))
        row[f"{name}_n"] = int(values.size)
        for stat, fn in (("median", _median), ("p90", _p90)):
            col = f"{name}_{stat}"
            row[col], row[lo(col)], row[hi(col)] = _boot(values, fn, n_resamples, random_state)

    def put(col: str, x: int, n: int) -> None:
        row[f"{col.removesuffix('_share')}_n"] = n
        row[col], row[lo(col)], row[hi(col)] = C.share_interval(x, n)

    first = C.numeric(part, S.FIRST_RESPONSE_HOURS)
    if sla_first is None:
        put(SLA_MET, 0, 0)
    else:
        put(SLA_MET, *_share_of(first <= sla_first, ~np.isnan(first)))
    res = C.numeric(part, S.RESOLUTION_HOURS)
    if sla_resolution is None:
        put(RESOLUTION_SLA_MET, 0, 0)
    else:
        put(RESOLUTION_SLA_MET, *_share_of(res <= sla_resolution, ~np.isnan(res)))
    put(REOPEN, *_share_of(C.bool_flags(part, S.REOPENED), C.known_mask(part, S.REOPENED)))
    row[CONTACT_N] = int(flags[IS_CONTACT].sum())
    for d in repeat_days:
        put(f"{repeat_column(d)}_share", *_share_of(*_bool_parts(flags[repeat_column(d)])))
    put(FCR_SHARE, *_share_of(*_bool_parts(flags[FCR])))
    return row


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
    Definitions are in the module docstring.

    Returns
    -------
    pandas.DataFrame
        Columns, in order: ``group``, ``n``;
        ``first_response_n``, ``first_response_median`` (+``_lo``/``_hi``),
        ``first_response_p90`` (+``_lo``/``_hi``) in hours (bootstrap, seeded);
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
    C.require_column(frame, by, "by")
    repeat_days = [int(d) for d in repeat_days]
    flags = contact_flags(frame, history, repeat_days=repeat_days, direction=direction,
                          fcr_days=fcr_days, contact_sources=contact_sources)
    parts = [(str(v), C.equals_mask(frame, by, v)) for v in C.group_values(frame[by])]
    parts.append((ALL, np.ones(len(frame), dtype=bool)))
    rows = []
    for label, mask in parts:
        row = {GROUP: label, **_service_row(frame.loc[mask], flags.loc[mask], repeat_days,
                                           sla_first_response_hours, sla_resolution_hours,
                                           n_resamples, random_state)}
        row[REPORTABLE] = row[N] >= min_n
        rows.append(row)
    return pd.DataFrame(rows)


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


def _bootstrap_stat_diff(a: np.ndarray, b: np.ndarray, fn, n_resamples: int, random_state):
    if a.size == 0 or b.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(random_state)
    ra = np.concatenate([fn(a[i], axis=1) for i in C.index_blocks(rng, a.size, n_resamples)])
    rb = np.concatenate([fn(b[i], axis=1) for i in C.index_blocks(rng, b.size, n_resamples)])
    return C.percentile_interval(ra - rb, C.CONFIDENCE)


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
    two denominators reach ``min_n``.

    Returns
    -------
    pandas.DataFrame
        The columns of ``compare_groups`` (``theme`` is ``""``); ``finding``
        is a sentence on significant rows, ``""`` otherwise.
    """
    C.require_column(frame, group_col, "group_col")
    repeat_days = [int(d) for d in repeat_days]
    flags = contact_flags(frame, history, repeat_days=repeat_days, fcr_days=fcr_days,
                          contact_sources=contact_sources)
    ma, mb = C.equals_mask(frame, group_col, a), C.equals_mask(frame, group_col, b)
    fa, fb = frame.loc[ma], frame.loc[mb]
    rows = []
    for name, column in ((FIRST_RESPONSE, S.FIRST_RESPONSE_HOURS), (RESOLUTION, S.RESOLUTION_HOURS)):
        xa, xb = C.finite(C.numeric(fa, column)), C.finite(C.numeric(fb, column))
        for stat, fn in (("median", _median), ("p90", _p90)):
            va, la, ha = _boot(xa, fn, n_resamples, random_state)
            vb, lb, hb = _boot(xb, fn, n_resamples, random_state)
            dl, dh = _bootstrap_stat_diff(xa, xb, fn, n_resamples, random_state)
            tested = stat == "median"
            rows.append({
                C.METRIC: f"{name}_{stat}", C.THEME: "", C.KIND: "quantile", C.UNIT: "hours",
                C.N_A: int(xa.size), C.N_B: int(xb.size),
                C.VALUE_A: va, C.LO_A: la, C.HI_A: ha, C.VALUE_B: vb, C.LO_B: lb, C.HI_B: hb,
                C.DIFF: va - vb, C.DIFF_LO: dl, C.DIFF_HI: dh,
                C.P_VALUE: mann_whitney(xa, xb) if tested else math.nan,
                C.EFFECT_SIZE: C.rank_biserial(xa, xb) if tested else math.nan,
                C.EFFECT_KIND: C.EFFECT_RANK_BISERIAL if tested else "",
            })

    def proportion(metric: str, counts_a: tuple[int, int], counts_b: tuple[int, int], unit: str) -> None:
        (x_a, n_a), (x_b, n_b) = counts_a, counts_b
        rows.append({C.METRIC: metric, C.THEME: "", C.UNIT: unit, **C.proportion_row(x_a, n_a, x_b, n_b, 1.0)})

    for threshold, column, metric in ((sla_first_response_hours, S.FIRST_RESPONSE_HOURS, SLA_MET),
                                      (sla_resolution_hours, S.RESOLUTION_HOURS, RESOLUTION_SLA_MET)):
        if threshold is None:
            continue
        ta, tb = C.numeric(fa, column), C.numeric(fb, column)
        proportion(metric, _share_of(ta <= threshold, ~np.isnan(ta)),
                   _share_of(tb <= threshold, ~np.isnan(tb)), f"share within {threshold:g} h (0-1)")
    proportion(REOPEN, _share_of(C.bool_flags(fa, S.REOPENED), C.known_mask(fa, S.REOPENED)),
               _share_of(C.bool_flags(fb, S.REOPENED), C.known_mask(fb, S.REOPENED)), "share of known (0-1)")
    for d in repeat_days:
        col = repeat_column(d)
        proportion(f"{col}_share", _share_of(*_bool_parts(flags.loc[ma, col])),
                   _share_of(*_bool_parts(flags.loc[mb, col])), "share of contacts (0-1)")
    proportion(FCR_SHARE, _share_of(*_bool_parts(flags.loc[ma, FCR])),
               _share_of(*_bool_parts(flags.loc[mb, FCR])), "share of contacts (0-1)")

    out = pd.DataFrame([{C.A: str(a), C.B: str(b), **r} for r in rows])
    big = (out[C.N_A] >= min_n) & (out[C.N_B] >= min_n)
    out[C.Q_VALUE] = benjamini_hochberg(np.where(big, out[C.P_VALUE].to_numpy(dtype=float), np.nan))
    out[C.SIGNIFICANT] = (big & (out[C.Q_VALUE] < alpha)).fillna(False).astype(bool)
    out[C.FINDING] = [_service_finding(r) if r[C.SIGNIFICANT] else "" for r in out.to_dict("records")]
    return out[list(C.COMPARE_COLUMNS)]
