"""Month-over-month movement of theme rates and KPIs.

Rates are per 100 comments with text, as everywhere in the report. A change is
tested with a two-proportion test and the theme tests are adjusted together
(Benjamini-Hochberg), so a "jump" is only claimed when the data supports it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema as S
from . import stats as C
from .service import compare_service, group_kpis
from .stats import benjamini_hochberg, proportion_interval, two_proportion_test
from .stats.summaries import Summary
from .stats.tables import kpi_table_from_summary

__all__ = ["month_kpi_table_from_summary", "theme_trends", "trend_table", "monthly_theme_rates", "kpi_trends", "kpi_trends_from_tables",
           "month_kpi_table", "kpi_changes", "KPI_SERIES"]


def monthly_theme_rates(history: pd.DataFrame, themes: list[str], *, by: str | None = None) -> pd.DataFrame:
    """Theme rate per 100 comments by month (and optionally by ``by``), with Wilson intervals.

    Returns long format: month, [by], theme, n, hits, rate, lo, hi.
    """
    texts = history[C.has_text(history)]
    keys = [S.MONTH] + ([by] if by else [])
    rows = []
    for key, sub in texts.groupby(keys, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        n = len(sub)
        for theme in themes:
            hits = int(sub[S.theme_column(theme)].sum())
            lo, hi = proportion_interval(hits, n)
            rows.append({**dict(zip(keys, key)), "theme": theme, "n": n, "hits": hits,
                         "rate": 100 * hits / n if n else np.nan, "lo": 100 * lo, "hi": 100 * hi})
    return pd.DataFrame(rows)


def theme_trends(
    history: pd.DataFrame,
    month: str,
    themes: list[str],
    *,
    baseline_months: int = 3,
    alpha: float = C.ALPHA,
    min_n: int = C.MIN_N,
) -> pd.DataFrame:
    """Each theme's rate this month against last month and against the recent average.

    The baseline is the pooled rate over up to ``baseline_months`` months before
    ``month``; a *spike* is a significant rise against that baseline (q < alpha
    after Benjamini-Hochberg across the themes).

    Returns one row per theme: theme, n, rate, prev_month, prev_rate, change,
    p_prev, baseline_n, baseline_rate, change_vs_baseline, p_baseline,
    q_baseline, spike (bool), drop (bool).
    """
    texts = history[C.has_text(history)]
    months = sorted(m for m in texts[S.MONTH].unique() if m < month)
    n_month = texts[S.MONTH].value_counts()
    hits = texts.groupby(S.MONTH)[[S.theme_column(t) for t in themes]].sum()

    def count(ms: list[str], theme: str) -> tuple[int, int]:
        ms = [m for m in ms if m in n_month.index]
        return int(hits.loc[ms, S.theme_column(theme)].sum()), int(n_month.loc[ms].sum())

    return trend_table(count, month, months, themes, baseline_months=baseline_months, alpha=alpha, min_n=min_n)


def trend_table(
    count,
    month: str,
    earlier_months: list[str],
    themes: list[str],
    *,
    baseline_months: int = 3,
    alpha: float = C.ALPHA,
    min_n: int = C.MIN_N,
) -> pd.DataFrame:
    """The :func:`theme_trends` table from any source of counts.

    ``count(months, theme) -> (hits, n)`` pools the given months; ``earlier_months``
    are the months before ``month``, sorted. Shared by the row-based
    :func:`theme_trends` and the store-based ``history.theme_trends_from_counts``.
    """
    prev = earlier_months[-1] if earlier_months else None
    base_months = earlier_months[-baseline_months:]
    rows = []
    for theme in themes:
        x, n = count([month], theme)
        xp, np_ = count([prev] if prev else [], theme)
        xb, nb = count(base_months, theme)
        rows.append({
            "theme": theme, "n": n, "rate": 100 * x / n if n else np.nan,
            "prev_month": prev, "prev_n": np_, "prev_rate": 100 * xp / np_ if np_ else np.nan,
            "p_prev": two_proportion_test(x, n, xp, np_) if n and np_ else np.nan,
            "baseline_n": nb, "baseline_rate": 100 * xb / nb if nb else np.nan,
            "p_baseline": two_proportion_test(x, n, xb, nb) if n and nb else np.nan,
        })
    out = pd.DataFrame(rows)
    out["change"] = out["rate"] - out["prev_rate"]
    out["change_vs_baseline"] = out["rate"] - out["baseline_rate"]
    out["q_prev"] = benjamini_hochberg(out["p_prev"].to_numpy(dtype=float))
    out["q_baseline"] = benjamini_hochberg(out["p_baseline"].to_numpy(dtype=float))
    big_enough = (out["n"] >= min_n) & (out["baseline_n"] >= min_n)
    out["spike"] = big_enough & (out["q_baseline"] < alpha) & (out["change_vs_baseline"] > 0)
    out["drop"] = big_enough & (out["q_baseline"] < alpha) & (out["change_vs_baseline"] < 0)
    return out


# --------------------------------------------------------------------------- #
# KPI history (long format) and month-over-month KPI changes
# --------------------------------------------------------------------------- #
# (series, kind) of the headline KPIs followed month by month; ``kind`` says how
# the value reads: share 0..1, mean 1..5, nps -100..100, hours.
KPI_SERIES = (
    ("csat_mean", "mean"), ("satisfied_share", "share"), ("nps", "nps"), ("negative_share", "share"),
    ("first_response_median", "hours"), ("first_response_p90", "hours"),
    ("resolution_median", "hours"), ("resolution_p90", "hours"),
    ("sla_met_share", "share"), ("reopen_share", "share"),
    ("repeat_7d_share", "share"), ("repeat_30d_share", "share"), ("fcr_share", "share"),
)
# the denominator column of each series in group_kpis
_SERIES_N = {
    "csat_mean": "csat_n", "satisfied_share": "csat_n", "nps": "nps_n", "negative_share": "n_text",
    "first_response_median": "first_response_n", "first_response_p90": "first_response_n",
    "resolution_median": "resolution_n", "resolution_p90": "resolution_n",
    "sla_met_share": "sla_met_n", "reopen_share": "reopen_n", "repeat_7d_share": "repeat_7d_n",
    "repeat_30d_share": "repeat_30d_n", "fcr_share": "fcr_n",
}
_KPI_NAMES = {
    "satisfied_share": "the share of satisfied customers (4-5)", "csat_mean": "mean CSAT",
    "nps": "NPS", "negative_share": "the share of negative comments",
    "first_response_median": "the median first-response time (hours)",
    "first_response_p90": "the 90th-percentile first-response time (hours)",
    "resolution_median": "the median resolution time (hours)",
    "resolution_p90": "the 90th-percentile resolution time (hours)",
    "sla_met_share": "the share of first responses within the SLA",
    "resolution_sla_met_share": "the share of resolutions within the SLA",
    "reopen_share": "the reopen rate", "repeat_7d_share": "the 7-day repeat-contact rate",
    "repeat_30d_share": "the 30-day repeat-contact rate", "fcr_share": "first-contact resolution",
}
TREND_COLUMNS = ("month", "group", "series", "kind", "value", "lo", "hi", "n", "reportable")


def _months_up_to(history: pd.DataFrame, month: str, months: int) -> list[str]:
    present = sorted(m for m in history[S.MONTH].dropna().unique() if m <= month)
    return present[-months:]


def kpi_trends(
    history: pd.DataFrame,
    month: str,
    *,
    months: int = 12,
    by: str | None = S.SERVICE_MODEL,
    themes: list[str] | None = None,
    min_n: int = C.MIN_N,
    n_resamples: int = C.DEFAULT_RESAMPLES,
    random_state: int | None = 0,
    **service_options,
) -> pd.DataFrame:
    """Up to ``months`` months (ending with ``month``) of every headline KPI and theme rate, long format.

    Each month is computed exactly as the month's own report would compute it
    (:func:`feedbacklib.service.group_kpis` on that month's rows, with the
    whole ``history`` for repeat contacts), so a figure never changes between
    the month it is reported and the trend chart. ``service_options`` go to
    :func:`~feedbacklib.service.service_kpis` (``sla_first_response_hours``...).
    ``themes`` (default: every theme column) become series ``rate_<theme>``;
    pass the top few to keep the frame small.

    Returns
    -------
    pandas.DataFrame
        Columns ``month, group, series, kind, value, lo, hi, n, reportable``:
        one row per month x group (groups of ``by`` plus ``"all"``; only
        ``"all"`` when ``by`` is None) x series. ``series`` is one of
        :data:`KPI_SERIES` or ``rate_<theme>``; ``kind`` is ``share`` (0..1),
        ``mean`` (CSAT 1..5), ``nps`` (-100..100), ``hours`` or ``rate`` (per
        100 comments); ``lo``/``hi`` the 95% interval; ``n`` the series'
        denominator; ``reportable`` is ``n >= min_n``. Sorted by month.
    """
    theme_ids = C.themes_of(history, themes)
    tables = [month_kpi_table(history[history[S.MONTH] == m], history, m, by=by, themes=theme_ids, min_n=min_n,
                              n_resamples=n_resamples, random_state=random_state, **service_options)
              for m in _months_up_to(history, month, months)]
    return kpi_trends_from_tables(pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(), month,
                                  months=months, themes=theme_ids, min_n=min_n)


def month_kpi_table(rows: pd.DataFrame, contacts: pd.DataFrame | None, month: str, *,
                    by: str | None = S.SERVICE_MODEL, themes: list[str] | None = None, min_n: int = C.MIN_N,
                    n_resamples: int = C.DEFAULT_RESAMPLES, random_state: int | None = 0, **service_options) -> pd.DataFrame:
    """One month's :func:`~feedbacklib.service.group_kpis` table (groups of ``by`` plus ``"all"``) with a
    ``month`` column: what the history store keeps per month so trends never need old rows.

    ``contacts`` holds the contacts that can count as a repeat (the month's and the 30 days before).
    """
    table = group_kpis(rows, contacts, by or S.MONTH, themes=themes, min_n=min_n, n_resamples=n_resamples,
                       random_state=random_state, **service_options)
    return _month_table(table, month, by)


def _month_table(table: pd.DataFrame, month: str, by: str | None) -> pd.DataFrame:
    if by is None:
        table = table[table["group"] == C.ALL]
    table = table.assign(**{"group": table["group"].astype("string")})
    table.insert(0, S.MONTH, month)
    return table.reset_index(drop=True)


def month_kpi_table_from_summary(summary: Summary, service: pd.DataFrame, month: str, *,
                                 by: str | None = S.SERVICE_MODEL, themes: list[str] | None = None,
                                 min_n: int = C.MIN_N, n_resamples: int = C.DEFAULT_RESAMPLES,
                                 random_state: int | None = 0) -> pd.DataFrame:
    """:func:`month_kpi_table` from the month's :class:`~feedbacklib.stats.summaries.Summary` (keyed by
    ``by``, or by ``month`` when ``by`` is None) and its service KPIs.

    The service KPIs need the customers' contacts (repeat contacts within 30 days, across months), which
    no summary of the month holds: ``service`` is :func:`~feedbacklib.service.service_kpis` of the
    month's rows grouped the same way (``by``, or ``month``), with the same ``min_n``.
    """
    base = kpi_table_from_summary(summary, by or S.MONTH, themes=themes, min_n=min_n, n_resamples=n_resamples,
                                    random_state=random_state)
    table = base.merge(service.drop(columns=[C.N, C.REPORTABLE]), on=C.GROUP, how="left", validate="one_to_one")
    return _month_table(table, month, by)


def kpi_trends_from_tables(tables: pd.DataFrame, month: str, *, months: int = 12,
                           themes: list[str] | None = None, min_n: int = C.MIN_N) -> pd.DataFrame:
    """:func:`kpi_trends` from per-month tables of :func:`month_kpi_table` (stacked, any order)."""
    if tables is None or tables.empty:
        return pd.DataFrame(columns=list(TREND_COLUMNS))
    if themes is None:
        themes = [c[len("rate_"):] for c in tables.columns
                  if c.startswith("rate_") and not c.endswith(("_lo", "_hi"))]
    series = list(KPI_SERIES) + [(C.rate_column(t), "rate") for t in themes]
    present = sorted(m for m in tables[S.MONTH].dropna().unique() if m <= month)[-months:]
    rows = []
    for m in present:
        for rec in tables[tables[S.MONTH] == m].to_dict("records"):
            for name, kind in series:
                n_col = _SERIES_N.get(name, "n_text")
                n = rec.get(n_col, np.nan)
                rows.append({"month": m, "group": rec["group"], "series": name, "kind": kind,
                             "value": rec.get(name, np.nan), "lo": rec.get(f"{name}_lo", np.nan),
                             "hi": rec.get(f"{name}_hi", np.nan), "n": n,
                             "reportable": bool(pd.notna(n) and n >= min_n)})
    return pd.DataFrame(rows, columns=list(TREND_COLUMNS))


def kpi_changes(
    history: pd.DataFrame,
    month: str,
    *,
    group_col: str | None = None,
    group: str | None = None,
    themes: list[str] | None = None,
    min_n: int = C.MIN_N,
    alpha: float = C.ALPHA,
    n_resamples: int = C.DEFAULT_RESAMPLES,
    random_state: int | None = 0,
    **service_options,
) -> pd.DataFrame:
    """Every headline KPI this month against last month, with intervals and tests.

    ``month`` (a) is compared with the latest earlier month present (b), on the
    rows where ``group_col == group`` (all rows by default): the metrics and
    tests of :func:`feedbacklib.stats.compare_groups` (satisfaction, CSAT,
    NPS, negative share, theme rates) followed by those of
    :func:`feedbacklib.service.compare_service` (times, SLA, reopens, repeat
    contacts, FCR). Benjamini-Hochberg runs over the whole table.

    Returns
    -------
    pandas.DataFrame
        ``month``, ``prev_month`` then the columns of ``compare_groups``
        (``a`` = month, ``b`` = previous month, ``diff`` = this month minus
        last). ``finding`` is a neutral sentence ("<metric> rose from x to y")
        on significant rows. Empty (same columns) when there is no earlier month.
    """
    months = sorted(m for m in history[S.MONTH].dropna().unique() if m < month)
    columns = ["month", "prev_month", *C.COMPARE_COLUMNS]
    if not months:
        return pd.DataFrame(columns=columns)
    prev = months[-1]
    rows = history[history[S.MONTH].isin([month, prev])]
    if group_col is not None:
        rows = rows[rows[group_col].astype("string") == group]
    theme_ids = C.themes_of(history, themes)
    exp = C.compare_groups(rows, group_col=S.MONTH, a=month, b=prev, themes=theme_ids, min_n=min_n,
                           alpha=alpha, n_resamples=n_resamples, random_state=random_state)
    svc = compare_service(rows, history, group_col=S.MONTH, a=month, b=prev, min_n=min_n, alpha=alpha,
                          n_resamples=n_resamples, random_state=random_state, **service_options)
    out = pd.concat([exp, svc], ignore_index=True)
    big = (out[C.N_A] >= min_n) & (out[C.N_B] >= min_n)
    out[C.Q_VALUE] = benjamini_hochberg(np.where(big, out[C.P_VALUE].to_numpy(dtype=float), np.nan))
    out[C.SIGNIFICANT] = (big & (out[C.Q_VALUE] < alpha)).fillna(False).astype(bool)

    def sentence(r: dict) -> str:
        if not r[C.SIGNIFICANT]:
            return ""
        scale, digits, unit = (100, 1, "%") if r[C.KIND] == C.KIND_PROPORTION and not r[C.THEME] else (1, 2 if r[C.METRIC] == C.CSAT_MEAN else 1, "")
        verb = "rose" if r[C.DIFF] > 0 else "fell"
        name = (f"{r[C.THEME].replace('_', ' ')} mentions per 100 comments" if r[C.THEME]
                else _KPI_NAMES.get(r[C.METRIC], r[C.METRIC].replace("_", " ")))
        return (f"{name[0].upper()}{name[1:]} {verb} from {scale * r[C.VALUE_B]:.{digits}f}{unit} in {prev} to "
                f"{scale * r[C.VALUE_A]:.{digits}f}{unit} in {month} (95% CI of the change "
                f"{scale * r[C.DIFF_LO]:+.{digits}f} to {scale * r[C.DIFF_HI]:+.{digits}f}).")

    out[C.FINDING] = [sentence(r) for r in out.to_dict("records")]
    return out.assign(month=month, prev_month=prev)[columns]
