"""The tables of the report: KPIs by group, two-group comparisons, the perception gap.

Everything here is a pure function: frames in, new frames out, inputs never
mutated. Scales used in every returned frame:

- ``*_share`` columns are proportions in 0..1 (satisfied share, negative share,
  perception-gap shares).
- ``rate_<theme>`` columns are per 100 responses **with text** (blank comments
  cannot mention a theme, see :func:`~feedbacklib.stats.has_text`), so 0..100.
- ``nps`` is on -100..100; ``csat_mean`` on 1..5.
- ``*_lo`` / ``*_hi`` are the bounds of a 95% interval (``settings.CONFIDENCE``).

Column names are the constants of :mod:`feedbacklib.stats.columns`. Missing data
never raises: an empty group or an all-missing column yields NaN values (and
``reportable`` / ``significant`` False). Only a missing grouping column is an
error (:class:`~feedbacklib.errors.SchemaError`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from feedbacklib.schema import (
    CSAT, IN_HOUSE, NPS, OUTSOURCED, SERVICE_MODEL, VENDOR, theme_column,
)

from ._frame import (
    equals_mask, group_values, known_mask, require_column,
    themes_of, vendor_names,
)
from .columns import (
    A, ALL, B, N, COMPARE_COLUMNS, CSAT_MEAN, CSAT_N, DIFF, DIFF_HI, DIFF_LO, EFFECT_COHEN_H,
    EFFECT_KIND, EFFECT_RANK_BISERIAL, EFFECT_SIZE, FINDING, GAP_ANY, GAP_LOW_RATING, GAP_MEASURES, GAP_NOT_FIXED,
    GAP_REOPENED, GAP_SLOW, GROUP, HI_A, HI_B, IN_HOUSE_LABEL, KIND, KIND_MEAN,
    KIND_NPS, KIND_PROPORTION, LO_A, LO_B, METRIC, NEGATIVE_SHARE,
    NOT_FIXED_THEME, NPS_N, NPS_SCORE, N_A, N_B, N_REPORTED_SOLVED, N_TEXT, PROVIDER,
    P_VALUE, Q_VALUE, REPORTABLE, SATISFIED_MIN_CSAT, SATISFIED_SHARE, SIGNIFICANT, SLOW_THEME, THEME,
    UNIT, VALUE_A, VALUE_B, VENDOR_COL,
    hi, lo, rate_column,
)
from .counted import (
    Counted, bootstrap_mean_diff_counted, mann_whitney_counted, mean_interval_counted, nps_interval_counted,
    permutation_pvalue_counted, rank_biserial_counted, welch_diff_interval_counted,
)
from .findings import compared_row_sentence, gap_sentence
from .intervals import (
    newcombe_diff_interval, share_interval,
)
from .settings import ALPHA, CONFIDENCE, DEFAULT_RESAMPLES, MIN_N
from . import summaries as SU
from .summaries import Summary, hit_column, summarise, value_counts
from .significance import (
    benjamini_hochberg, cohen_h, two_proportion_test,
)

__all__ = ["kpi_table", "compare_groups", "compare_vendors", "perception_gap", "proportion_row",
           "kpi_table_from_summary", "compare_groups_from_summary", "compare_vendors_from_summary",
           "perception_gap_from_summary"]


@dataclass
class _Summary:
    """Everything the comparisons need from one group of rows."""

    n: int
    n_text: int
    csat: Counted                                  # CSAT ratings by value
    nps: Counted                                   # 0-10 NPS ratings by value
    negative: tuple[int, int]                      # (successes, n)
    themes: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def satisfied(self) -> tuple[int, int]:
        return self.csat.at_least(SATISFIED_MIN_CSAT), self.csat.size


#: Which rows of a summary's tables (cells, values) form a group: a function of the table.
_Select = Callable[[pd.DataFrame], np.ndarray] | None


def _values(summary: Summary, score: str, select: _Select) -> Counted:
    """The group's ``score`` values by value (never one per row: :mod:`~feedbacklib.stats.counted`)."""
    table = summary.values.get(score)
    return Counted(*value_counts(summary, score, None if select is None or table is None else select(table)))


def _group(summary: Summary, select: _Select, themes: Sequence[str]) -> _Summary:
    cells = summary.cells if select is None else summary.cells.loc[select(summary.cells)]
    total = cells[[SU.ROWS, SU.N_TEXT, SU.LABELLED, SU.NEGATIVE, *(hit_column(t) for t in themes)]].sum()
    n_text = int(total[SU.N_TEXT])
    return _Summary(
        n=int(total[SU.ROWS]), n_text=n_text,
        csat=_values(summary, CSAT, select), nps=_values(summary, NPS, select),
        negative=(int(total[SU.NEGATIVE]), int(total[SU.LABELLED])),
        themes={t: (int(total[hit_column(t)]), n_text if t in summary.present else 0) for t in themes},
    )


def _equal(col: str, value) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda table: equals_mask(table, col, value)


def _vendor(value) -> Callable[[pd.DataFrame], np.ndarray]:
    def select(table: pd.DataFrame) -> np.ndarray:
        rows = known_mask(table, VENDOR)
        if SERVICE_MODEL in table.columns:
            rows &= ~equals_mask(table, SERVICE_MODEL, IN_HOUSE)
        return rows & equals_mask(table, VENDOR, value)
    return select


def _theme_ids(summary: Summary, themes: Iterable[str] | None) -> list[str]:
    theme_ids = list(summary.themes) if themes is None else list(themes)
    missing = [t for t in theme_ids if t not in summary.themes]
    if missing:
        raise ValueError(f"The summary counts no hits of the themes {missing} (it has {list(summary.themes)}). "
                         "Build it with summarise(frame, themes=...) including them.")
    return theme_ids


def _summary_of(frame: pd.DataFrame, keys: Sequence[str], themes: Iterable[str] | None,
                sla_first_response_hours: float | None = None) -> Summary:
    """The summary the row-level tables are computed from (only what they read)."""
    return summarise(frame, themes=themes_of(frame, themes), keys=tuple(keys), strata=(), scores=(),
                     values=(CSAT, NPS), sla_first_response_hours=sla_first_response_hours, measures=("text", "sentiment"))


def kpi_table(
    frame: pd.DataFrame,
    by: str = SERVICE_MODEL,
    *,
    themes: Iterable[str] | None = None,
    min_n: int = MIN_N,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Headline KPIs with 95% intervals, one row per group of ``by`` plus an ``"all"`` row.

    Groups are the categories of a categorical column (so an empty category
    shows up with ``n == 0`` and NaN values), else the observed values. Rows
    whose ``by`` value is missing count only in ``"all"``.

    Computed from the rows' :class:`~feedbacklib.stats.summaries.Summary`
    (:func:`kpi_table_from_summary`), so the table of partial summaries added up is
    the same.

    Returns
    -------
    pandas.DataFrame
        Columns, in order:

        ``group`` (str), ``n`` (rows), ``n_text`` (rows with a comment),
        ``csat_n``, ``csat_mean``, ``csat_mean_lo``, ``csat_mean_hi`` (t interval),
        ``satisfied_share``, ``satisfied_share_lo``, ``satisfied_share_hi``
        (csat >= 4 among rated rows, 0..1, Wilson),
        ``nps_n``, ``nps``, ``nps_lo``, ``nps_hi`` (-100..100, percentile bootstrap, seeded),
        ``negative_share``, ``negative_share_lo``, ``negative_share_hi``
        (sentiment_label == "negative" among comments, 0..1, Wilson),
        then per theme ``rate_<theme>``, ``rate_<theme>_lo``, ``rate_<theme>_hi``
        (per 100 comments, Wilson), and ``reportable`` (``n >= min_n``).

    Examples
    --------
    >>> table = kpi_table(tagged)                                    # doctest: +SKIP
    >>> table.set_index("group").loc["outsourced", "rate_responsiveness"]  # doctest: +SKIP
    23.8
    """
    require_column(frame, by, "by")
    return kpi_table_from_summary(_summary_of(frame, (by,), themes), by, min_n=min_n, n_resamples=n_resamples,
                                  random_state=random_state)


def kpi_table_from_summary(
    summary: Summary,
    by: str = SERVICE_MODEL,
    *,
    themes: Iterable[str] | None = None,
    min_n: int = MIN_N,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """:func:`kpi_table` from a :class:`~feedbacklib.stats.summaries.Summary` keyed by ``by`` (among
    others) that keeps the ``csat`` and ``nps`` distributions (``summarise(..., values=("csat", "nps"))``).
    ``themes`` defaults to the summary's themes."""
    require_column(summary.cells, by, "by")
    theme_ids = _theme_ids(summary, themes)
    parts: list[tuple[str, _Select]] = [(str(v), _equal(by, v)) for v in group_values(summary.cells[by])]
    parts.append((ALL, None))
    rows = []
    for label, select in parts:
        s = _group(summary, select, theme_ids)
        row: dict[str, object] = {GROUP: label, N: s.n, N_TEXT: s.n_text, CSAT_N: int(s.csat.size)}
        row[CSAT_MEAN], row[lo(CSAT_MEAN)], row[hi(CSAT_MEAN)] = mean_interval_counted(s.csat)
        row[SATISFIED_SHARE], row[lo(SATISFIED_SHARE)], row[hi(SATISFIED_SHARE)] = share_interval(*s.satisfied)
        row[NPS_N] = int(s.nps.size)
        row[NPS_SCORE], row[lo(NPS_SCORE)], row[hi(NPS_SCORE)] = nps_interval_counted(
            s.nps, n_resamples, random_state)
        row[NEGATIVE_SHARE], row[lo(NEGATIVE_SHARE)], row[hi(NEGATIVE_SHARE)] = share_interval(*s.negative)
        for t in theme_ids:
            value, low, high = share_interval(*s.themes[t])
            col = rate_column(t)
            row[col], row[lo(col)], row[hi(col)] = 100 * value, 100 * low, 100 * high
        row[REPORTABLE] = s.n >= min_n
        rows.append(row)
    return pd.DataFrame(rows)


def proportion_row(x_a, n_a, x_b, n_b, scale: float) -> dict:
    va, la, ha = share_interval(x_a, n_a)
    vb, lb, hb = share_interval(x_b, n_b)
    dl, dh = newcombe_diff_interval(x_a, n_a, x_b, n_b)
    return {
        KIND: KIND_PROPORTION, N_A: n_a, N_B: n_b,
        VALUE_A: scale * va, LO_A: scale * la, HI_A: scale * ha,
        VALUE_B: scale * vb, LO_B: scale * lb, HI_B: scale * hb,
        DIFF: scale * (va - vb), DIFF_LO: scale * dl, DIFF_HI: scale * dh,
        P_VALUE: two_proportion_test(x_a, n_a, x_b, n_b),
        EFFECT_SIZE: cohen_h(va, vb), EFFECT_KIND: EFFECT_COHEN_H,
    }


def _metric_rows(sa: _Summary, sb: _Summary, themes: Sequence[str],
                 n_resamples: int, random_state: int | None) -> list[dict]:
    rows = []
    rows.append({METRIC: SATISFIED_SHARE, THEME: "", UNIT: "share of ratings 4-5 (0-1)",
                 **proportion_row(*sa.satisfied, *sb.satisfied, 1.0)})

    va, la, ha = mean_interval_counted(sa.csat)
    vb, lb, hb = mean_interval_counted(sb.csat)
    d, dl, dh = welch_diff_interval_counted(sa.csat, sb.csat)
    rows.append({
        METRIC: CSAT_MEAN, THEME: "", KIND: KIND_MEAN, UNIT: "mean CSAT (1-5)",
        N_A: int(sa.csat.size), N_B: int(sb.csat.size),
        VALUE_A: va, LO_A: la, HI_A: ha, VALUE_B: vb, LO_B: lb, HI_B: hb,
        DIFF: d, DIFF_LO: dl, DIFF_HI: dh,
        P_VALUE: mann_whitney_counted(sa.csat, sb.csat),
        EFFECT_SIZE: rank_biserial_counted(sa.csat, sb.csat), EFFECT_KIND: EFFECT_RANK_BISERIAL,
    })

    pa, pb = sa.nps.points(), sb.nps.points()
    va, la, ha = nps_interval_counted(sa.nps, n_resamples, random_state)
    vb, lb, hb = nps_interval_counted(sb.nps, n_resamples, random_state)
    dl, dh = bootstrap_mean_diff_counted(pa, pb, n_resamples, CONFIDENCE, random_state)
    rows.append({
        METRIC: NPS_SCORE, THEME: "", KIND: KIND_NPS, UNIT: "NPS (-100 to 100)",
        N_A: int(pa.size), N_B: int(pb.size),
        VALUE_A: va, LO_A: la, HI_A: ha, VALUE_B: vb, LO_B: lb, HI_B: hb,
        DIFF: va - vb, DIFF_LO: dl, DIFF_HI: dh,
        P_VALUE: permutation_pvalue_counted(pa, pb, n_resamples, random_state),
        EFFECT_SIZE: math.nan, EFFECT_KIND: "",
    })

    rows.append({METRIC: NEGATIVE_SHARE, THEME: "", UNIT: "share of comments (0-1)",
                 **proportion_row(*sa.negative, *sb.negative, 1.0)})
    for t in themes:
        rows.append({METRIC: rate_column(t), THEME: t, UNIT: "per 100 comments",
                     **proportion_row(*sa.themes[t], *sb.themes[t], 100.0)})
    return rows


def _finalise(rows: list[dict], min_n: int, alpha: float) -> pd.DataFrame:
    """BH across every reportable row, then significance and finding sentences."""
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=list(COMPARE_COLUMNS))
    big_enough = (out[N_A] >= min_n) & (out[N_B] >= min_n)
    p = out[P_VALUE].to_numpy(dtype=float)
    out[Q_VALUE] = benjamini_hochberg(np.where(big_enough, p, np.nan))
    out[SIGNIFICANT] = (big_enough & (out[Q_VALUE] < alpha)).fillna(False).astype(bool)
    out[FINDING] = [
        compared_row_sentence(r) if r[SIGNIFICANT] else "" for r in out.to_dict("records")
    ]
    return out


def compare_groups(
    frame: pd.DataFrame,
    *,
    group_col: str = SERVICE_MODEL,
    a: str = OUTSOURCED,
    b: str = IN_HOUSE,
    themes: Iterable[str] | None = None,
    min_n: int = MIN_N,
    alpha: float = ALPHA,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Compare group ``a`` with group ``b`` on every metric; one row per metric.

    Metrics (the ``metric`` column): ``satisfied_share``, ``csat_mean``, ``nps``,
    ``negative_share``, then ``rate_<theme>`` per theme. Differences are a - b.

    - Proportions (shares and theme rates): Wilson intervals, Newcombe hybrid
      score interval of the difference, pooled z test (Fisher exact when an
      expected count is under 5), Cohen's h.
    - ``csat_mean``: t intervals, Welch interval of the difference,
      Mann-Whitney p-value, rank-biserial effect size (positive: a rates higher).
    - ``nps``: percentile bootstrap intervals (seeded), permutation p-value;
      no effect size (NaN).

    ``q_value`` is Benjamini-Hochberg over every metric of the table whose two
    denominators reach ``min_n`` (one family: a finding from any metric reaches
    the reader), NaN for the others. ``significant`` is ``q_value < alpha``
    and both denominators ``>= min_n``; ``finding`` is a plain-language
    sentence for significant rows and ``""`` otherwise.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, theme, kind, unit, a, b, n_a, n_b, value_a, lo_a, hi_a,
        value_b, lo_b, hi_b, diff, diff_lo, diff_hi, p_value, q_value,
        effect_size, effect_kind, significant, finding``. ``theme`` is the theme
        id for theme rates and ``""`` otherwise; ``kind`` is ``proportion``,
        ``mean`` or ``nps``; ``n_a``/``n_b`` are the metric's denominators
        (rated rows, NPS answers, or comments).

    Examples
    --------
    >>> table = compare_groups(tagged)                               # doctest: +SKIP
    >>> table.loc[table.significant, "finding"].tolist()             # doctest: +SKIP
    ['Outsourced teams get responsiveness complaints at 23.8 per 100 comments against
      11.9 in-house (difference 11.9 points, 95% CI 8.1 to 15.6).']
    """
    require_column(frame, group_col, "group_col")
    return compare_groups_from_summary(_summary_of(frame, (group_col,), themes), group_col=group_col, a=a, b=b,
                                       min_n=min_n, alpha=alpha, n_resamples=n_resamples,
                                       random_state=random_state)


def compare_groups_from_summary(
    summary: Summary,
    *,
    group_col: str = SERVICE_MODEL,
    a: str = OUTSOURCED,
    b: str = IN_HOUSE,
    themes: Iterable[str] | None = None,
    min_n: int = MIN_N,
    alpha: float = ALPHA,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """:func:`compare_groups` from a :class:`~feedbacklib.stats.summaries.Summary` keyed by ``group_col``
    that keeps the ``csat`` and ``nps`` distributions."""
    require_column(summary.cells, group_col, "group_col")
    theme_ids = _theme_ids(summary, themes)
    sa = _group(summary, _equal(group_col, a), theme_ids)
    sb = _group(summary, _equal(group_col, b), theme_ids)
    rows = [{A: str(a), B: str(b), **r}
            for r in _metric_rows(sa, sb, theme_ids, n_resamples, random_state)]
    return _finalise(rows, min_n, alpha)[list(COMPARE_COLUMNS)]


def compare_vendors(
    frame: pd.DataFrame,
    *,
    themes: Iterable[str] | None = None,
    min_n: int = MIN_N,
    alpha: float = ALPHA,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Compare each vendor with in-house service, in the long format of :func:`compare_groups`.

    Vendors are the non-missing ``vendor`` values of rows not marked in-house;
    the comparison group is every row with ``service_model == "in_house"``.
    ``q_value`` is Benjamini-Hochberg across all vendor x metric tests.

    Returns
    -------
    pandas.DataFrame
        ``vendor`` followed by the columns of :func:`compare_groups`
        (``a`` is the vendor name, ``b`` is ``"in_house"``).
    """
    require_column(frame, SERVICE_MODEL, "frame")
    return compare_vendors_from_summary(_summary_of(frame, (SERVICE_MODEL, VENDOR), themes), min_n=min_n,
                                        alpha=alpha, n_resamples=n_resamples, random_state=random_state)


def compare_vendors_from_summary(
    summary: Summary,
    *,
    themes: Iterable[str] | None = None,
    min_n: int = MIN_N,
    alpha: float = ALPHA,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """:func:`compare_vendors` from a :class:`~feedbacklib.stats.summaries.Summary` keyed by service model
    and vendor that keeps the ``csat`` and ``nps`` distributions."""
    require_column(summary.cells, SERVICE_MODEL, "summary")
    theme_ids = _theme_ids(summary, themes)
    sb = _group(summary, _equal(SERVICE_MODEL, IN_HOUSE), theme_ids)
    rows = []
    for vendor in vendor_names(summary.cells):
        sa = _group(summary, _vendor(vendor), theme_ids)
        rows += [{VENDOR_COL: vendor, A: vendor, B: IN_HOUSE, **r}
                 for r in _metric_rows(sa, sb, theme_ids, n_resamples, random_state)]
    columns = [VENDOR_COL, *COMPARE_COLUMNS]
    out = _finalise(rows, min_n, alpha)
    if out.empty:
        return pd.DataFrame(columns=columns)
    return out[columns].reset_index(drop=True)


def perception_gap(frame: pd.DataFrame, *, min_n: int = MIN_N, alpha: float = ALPHA,
                   sla_first_response_hours: float | None = None) -> pd.DataFrame:
    """Among cases the provider reported resolved (or within SLA), how often the customer disagrees.

    Rows: ``"In-house"`` first, then one per vendor. Only rows with
    ``resolved_reported`` True count, or, when ``sla_first_response_hours`` is
    given, also rows whose ``first_response_hours`` is within that SLA (what
    the provider's own dashboard counts as good service); ``n_reported_solved``
    is then the number of such "reported good" rows. Each measure has its own denominator,
    the rows where it can be observed:

    - ``not_fixed``: the comment mentions the ``not_fixed`` theme (among comments);
    - ``low_rating``: csat 1-2 (among rated rows);
    - ``reopened``: the case came back (among rows where ``reopened`` is known);
    - ``slow``: the comment mentions the ``responsiveness`` theme (among comments);
    - ``any``: at least one of the above (among all reported-solved rows, so an
      unobserved signal counts as no disagreement: a lower bound).

    Returns
    -------
    pandas.DataFrame
        ``provider``, ``n_reported_solved``; per measure m in (not_fixed,
        low_rating, reopened, slow, any): ``m_n``, ``m_share``, ``m_share_lo``,
        ``m_share_hi`` (0..1, Wilson); then the test of the vendor's ``any``
        share against in-house: ``any_diff``, ``any_diff_lo``, ``any_diff_hi``
        (Newcombe), ``p_value`` (two-proportion test), ``q_value`` (BH across
        vendors that reach ``min_n``), ``significant``, ``reportable``
        (``n_reported_solved >= min_n``) and ``finding`` (sentence or ``""``).
        Test columns are NaN / False / ``""`` on the in-house row.
    """
    keys = (SERVICE_MODEL, VENDOR)
    return perception_gap_from_summary(
        summarise(frame, themes=[], keys=keys, strata=(), scores=(), sla_first_response_hours=sla_first_response_hours,
                  measures=("gap",)),
        min_n=min_n, alpha=alpha, sla_first_response_hours=sla_first_response_hours)


#: Per perception-gap measure, the summary's (disagreements, observed) measures.
_GAP_SIGNALS = {
    GAP_NOT_FIXED: (SU.SOLVED_NOT_FIXED, SU.SOLVED_TEXT),
    GAP_LOW_RATING: (SU.SOLVED_LOW, SU.SOLVED_RATED),
    GAP_REOPENED: (SU.SOLVED_REOPENED, SU.SOLVED_REOPEN_KNOWN),
    GAP_SLOW: (SU.SOLVED_SLOW, SU.SOLVED_TEXT),
    GAP_ANY: (SU.SOLVED_ANY, SU.SOLVED),
}
#: The measures observed only where the theme's column exists.
_GAP_THEMES = {GAP_NOT_FIXED: theme_column(NOT_FIXED_THEME), GAP_SLOW: theme_column(SLOW_THEME)}


def perception_gap_from_summary(summary: Summary, *, min_n: int = MIN_N, alpha: float = ALPHA,
                                sla_first_response_hours: float | None = None) -> pd.DataFrame:
    """:func:`perception_gap` from a :class:`~feedbacklib.stats.summaries.Summary` keyed by service model
    and vendor, built with the same ``sla_first_response_hours`` (a different SLA counts other rows:
    ``ValueError``)."""
    if summary.sla != sla_first_response_hours:
        raise ValueError(f"The summary counted rows within a first-response SLA of {summary.sla} h as reported "
                         f"good, not {sla_first_response_hours}: build it with "
                         f"summarise(frame, sla_first_response_hours={sla_first_response_hours!r}).")
    cells = summary.cells
    groups: list[tuple[str, pd.DataFrame]] = []
    if SERVICE_MODEL in cells.columns:
        groups.append((IN_HOUSE_LABEL, cells.loc[equals_mask(cells, SERVICE_MODEL, IN_HOUSE)]))
    else:
        groups.append((IN_HOUSE_LABEL, cells.iloc[0:0]))
    for vendor in vendor_names(cells):
        groups.append((vendor, cells.loc[_vendor(vendor)(cells)]))

    rows = []
    counts: dict[str, tuple[int, int]] = {}
    for label, part in groups:
        total = part[list(dict.fromkeys(m for pair in _GAP_SIGNALS.values() for m in pair))].sum()
        row: dict[str, object] = {PROVIDER: label, N_REPORTED_SOLVED: int(total[SU.SOLVED])}
        for m, (hit, seen) in _GAP_SIGNALS.items():
            x, n = int(total[hit]), int(total[seen])
            if m in _GAP_THEMES and _GAP_THEMES[m] not in summary.columns:
                x = n = 0
            share = f"{m}_share"
            row[f"{m}_n"] = n
            row[share], row[lo(share)], row[hi(share)] = share_interval(x, n)
        counts[label] = (int(total[SU.SOLVED_ANY]), int(total[SU.SOLVED]))
        rows.append(row)

    x_b, n_b = counts[IN_HOUSE_LABEL]
    for row in rows[1:]:
        x_a, n_a = counts[str(row[PROVIDER])]
        dl, dh = newcombe_diff_interval(x_a, n_a, x_b, n_b)
        va = x_a / n_a if n_a else math.nan
        vb = x_b / n_b if n_b else math.nan
        row.update({f"{GAP_ANY}_diff": va - vb, f"{GAP_ANY}_diff_lo": dl, f"{GAP_ANY}_diff_hi": dh,
                    P_VALUE: two_proportion_test(x_a, n_a, x_b, n_b)})
    out = pd.DataFrame(rows)
    for col in (f"{GAP_ANY}_diff", f"{GAP_ANY}_diff_lo", f"{GAP_ANY}_diff_hi", P_VALUE):
        if col not in out.columns:
            out[col] = np.nan
    out[REPORTABLE] = out[N_REPORTED_SOLVED] >= min_n
    testable = out[REPORTABLE].to_numpy() & bool(n_b >= min_n) & (out[PROVIDER] != IN_HOUSE_LABEL).to_numpy()
    out[P_VALUE] = out[P_VALUE].astype(float)
    out[Q_VALUE] = benjamini_hochberg(np.where(testable, out[P_VALUE].to_numpy(dtype=float), np.nan))
    out[SIGNIFICANT] = (testable & (out[Q_VALUE] < alpha)).fillna(False).astype(bool)
    share = f"{GAP_ANY}_share"
    inhouse_share = out.loc[0, share]
    out[FINDING] = [gap_sentence(r, inhouse_share) if r[SIGNIFICANT] else "" for r in out.to_dict("records")]
    measures = [f"{m}_{suffix}" for m in GAP_MEASURES
                for suffix in ("n", "share", "share_lo", "share_hi")]
    return out[[PROVIDER, N_REPORTED_SOLVED, *measures, f"{GAP_ANY}_diff", f"{GAP_ANY}_diff_lo",
                f"{GAP_ANY}_diff_hi", P_VALUE, Q_VALUE, REPORTABLE, SIGNIFICANT, FINDING]]
