"""Case mix: compare outsourced and in-house service on like-for-like contacts.

Outsourced and in-house teams rarely get the same contacts: a vendor may take
most of the (easy) chat traffic while in-house handles the (hard) phone
complaints. A raw comparison then measures the mix as much as the service.
This module compares the two groups *within* strata of channel x contact
reason and pools the within-stratum differences:

- rates (satisfied share, negative share, each theme rate): **Mantel-Haenszel**
  pooled risk difference, with Sato's variance (valid for many small strata and
  for few large ones; no library offers it, so it is written here) and the
  **Cochran-Mantel-Haenszel** test (no continuity correction; statsmodels'
  ``StratifiedTable.test_null_odds``);
- scores (mean CSAT, NPS): **OLS** of the score on the group indicator plus one
  dummy per stratum, with **HC1** (heteroskedasticity-robust) standard errors;
  NPS is the mean of +100/0/-100 points, so its coefficient is an NPS difference.

Everything is computed from a :class:`~feedbacklib.stats.summaries.Summary` (counts,
sums and sums of squares per side x stratum cell), so a month summarised on
several workers gives the same figures as its rows: the regressors are cell
indicators, so :func:`ols_hc1_cells` is the row-level OLS with HC1 errors
(statsmodels' ``OLS(...).fit(cov_type="HC1")``, which :func:`ols_hc1` calls on rows).

Only strata that contain both groups inform an adjusted difference (common
support); ``n_used_a`` / ``n_used_b`` say how many rows that is. Contact reasons
are normalised before stratifying (``"Technical fault"`` and
``"technical_fault"`` are one reason); a missing channel or reason is its own
stratum ``"unknown"``.

:func:`adjusted_compare` returns the raw comparison (exactly the figures of
:func:`feedbacklib.stats.tables.compare_groups`) next to the adjusted one, and says
so plainly when the two disagree.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.tools.sm_exceptions import SingularMatrixWarning

from . import _frame as F
from . import columns as K
from . import findings as FD
from . import intervals as I
from . import settings as ST
from . import significance as SG
from . import tables as T
from .. import schema as S
from . import summaries as SU
from .summaries import Summary, summarise

__all__ = [
    "mantel_haenszel_rd",
    "cmh_test",
    "ols_hc1",
    "ols_hc1_cells",
    "OLSResult",
    "strata_labels",
    "adjusted_compare",
    "adjusted_compare_vendors",
    "adjusted_from_summary",
    "adjusted_vendors_from_summary",
    "ADJUSTED_COLUMNS",
]

DEFAULT_STRATA = SU.DEFAULT_STRATA
UNKNOWN_STRATUM = "unknown"

# adjusted_compare columns
RAW_DIFF, RAW_LO, RAW_HI = "raw_diff", "raw_diff_lo", "raw_diff_hi"
RAW_P, RAW_Q, RAW_SIG = "raw_p_value", "raw_q_value", "raw_significant"
ADJ_DIFF, ADJ_LO, ADJ_HI = "adj_diff", "adj_diff_lo", "adj_diff_hi"
ADJ_P, ADJ_Q, ADJ_SIG = "adj_p_value", "adj_q_value", "adj_significant"
ADJ_METHOD = "adj_method"
N_STRATA = "n_strata"
N_USED_A, N_USED_B = "n_used_a", "n_used_b"
DISAGREE = "disagree"
DISAGREEMENT = "disagreement"
SIGN_FLIP = "sign_flip"
RAW_ONLY = "raw_only"
ADJUSTED_ONLY = "adjusted_only"
METHOD_MH = "mantel_haenszel"
METHOD_OLS = "ols_hc1"

ADJUSTED_COLUMNS = (
    K.METRIC, K.THEME, K.KIND, K.UNIT, K.A, K.B, K.N_A, K.N_B, K.VALUE_A, K.VALUE_B,
    RAW_DIFF, RAW_LO, RAW_HI, RAW_P, RAW_Q, RAW_SIG,
    ADJ_METHOD, N_STRATA, N_USED_A, N_USED_B, ADJ_DIFF, ADJ_LO, ADJ_HI, ADJ_P, ADJ_Q, ADJ_SIG,
    DISAGREE, DISAGREEMENT, K.FINDING,
)


# =========================================================================== #
# Primitives
# =========================================================================== #
def _strata_arrays(x1, n1, x0, n0):
    arrays = [np.asarray(v, dtype=float).ravel() for v in (x1, n1, x0, n0)]
    x1, n1, x0, n0 = arrays
    keep = (n1 > 0) & (n0 > 0)
    return x1[keep], n1[keep], x0[keep], n0[keep]


def mantel_haenszel_rd(x1, n1, x0, n0, confidence: float = ST.CONFIDENCE) -> tuple[float, float, float]:
    """Mantel-Haenszel pooled risk difference ``p1 - p0`` over strata, with a Sato interval.

    Parameters
    ----------
    x1, n1, x0, n0 : array-like
        Per stratum: successes and size of group 1, successes and size of group 0.
        Strata missing either group are ignored.

    Returns
    -------
    tuple
        ``(rd, lo, hi)``; NaN when no stratum has both groups.

    Examples
    --------
    >>> [round(v, 4) for v in mantel_haenszel_rd([30], [100], [20], [100])]
    [0.1, -0.0192, 0.2192]
    """
    a, n1, c, n0 = _strata_arrays(x1, n1, x0, n0)
    if a.size == 0:
        return (math.nan, math.nan, math.nan)
    big_n = n1 + n0
    w = n1 * n0 / big_n
    rd = float(np.sum((a * n0 - c * n1) / big_n) / w.sum())
    p = np.sum((n1**2 * c - n0**2 * a + n1 * n0 * (n0 - n1) / 2.0) / big_n**2)
    q = np.sum((a * (n0 - c) + c * (n1 - a)) / (2.0 * big_n))
    var = (rd * p + q) / w.sum() ** 2
    if not np.isfinite(var) or var < 0:
        return (rd, math.nan, math.nan)
    half = I.z_value(confidence) * math.sqrt(var)
    return (rd, rd - half, rd + half)


def cmh_test(x1, n1, x0, n0) -> float:
    """Two-sided Cochran-Mantel-Haenszel test of no association in any stratum (2x2xK).

    The statistic is statsmodels' ``StratifiedTable(...).test_null_odds(correction=False)``;
    the p-value is ``chi2.sf`` of it (statsmodels' ``1 - cdf`` rounds p-values under
    about 1e-16 to 0). Returns 1.0 when no stratum carries information (every
    margin fixed) and NaN when no stratum has both groups.

    Examples
    --------
    >>> round(cmh_test([30], [100], [15], [100]), 4)
    0.0119
    """
    a, n1, c, n0 = _strata_arrays(x1, n1, x0, n0)
    if a.size == 0:
        return math.nan
    tables = np.array([[a, n1 - a], [c, n0 - c]])          # 2 x 2 x strata
    with np.errstate(invalid="ignore", divide="ignore"):
        chi2 = float(StratifiedTable(tables).test_null_odds(correction=False).statistic)
    if not np.isfinite(chi2):   # 0 / 0: every stratum has a fixed margin
        return 1.0
    return float(stats.chi2.sf(chi2, 1))


@dataclass(frozen=True)
class OLSResult:
    """Coefficients of an OLS fit with HC1 standard errors."""

    names: tuple[str, ...]
    coef: np.ndarray
    se: np.ndarray
    df_resid: int
    n: int

    def ci(self, confidence: float = ST.CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
        t = stats.t.ppf(0.5 + confidence / 2, max(self.df_resid, 1))
        return self.coef - t * self.se, self.coef + t * self.se

    @property
    def p_values(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            tstat = self.coef / self.se
        return 2 * stats.t.sf(np.abs(tstat), max(self.df_resid, 1))

    def frame(self, confidence: float = ST.CONFIDENCE) -> pd.DataFrame:
        """``term, coef, se, lo, hi, p_value`` for every column of the design."""
        low, high = self.ci(confidence)
        return pd.DataFrame({"term": list(self.names), "coef": self.coef, "se": self.se,
                             "lo": low, "hi": high, "p_value": self.p_values})


def _empty_fit(names: tuple[str, ...], k: int) -> OLSResult:
    nan = np.full(k, np.nan)
    return OLSResult(names, nan, nan, 0, 0)


def ols_hc1(X, y, names: Sequence[str] | None = None) -> OLSResult:
    """Ordinary least squares with HC1 (White, small-sample scaled) standard errors, on rows.

    statsmodels' ``OLS(y, X).fit(cov_type="HC1")``; intervals and p-values use the
    t distribution with ``n - rank`` degrees of freedom (:class:`OLSResult`).
    ``X`` must include the intercept column if one is wanted. Collinear designs
    are solved with the pseudo-inverse; a coefficient that is not identified gets
    NaN standard error. Rows with a NaN in ``X`` or ``y`` are dropped. The report
    itself fits from cell summaries (:func:`ols_hc1_cells`), which gives the same
    figures.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    if X.ndim == 1:
        X = X[:, None]
    ok = np.isfinite(y) & np.isfinite(X).all(axis=1)
    X, y = X[ok], y[ok]
    n, k = X.shape
    names = tuple(names) if names is not None else tuple(f"x{i}" for i in range(k))
    if n == 0:
        return _empty_fit(names, k)
    model = OLS(y, X)
    df = int(round(model.df_resid))
    if df <= 0:   # HC1 scales by n / (n - rank): undefined
        fit = model.fit()
        return OLSResult(names, np.asarray(fit.params, dtype=float), np.full(k, np.nan), df, n)
    with warnings.catch_warnings():   # a collinear design is expected: its coefficients get NaN se below
        warnings.simplefilter("ignore", category=SingularMatrixWarning)
        fit = model.fit(cov_type="HC1")
    xtx_inv = np.asarray(fit.normalized_cov_params, dtype=float)
    # a coefficient not identified by the data (collinear column) has no standard error
    identified = np.abs(np.diag(xtx_inv @ (X.T @ X)) - 1.0) < 1e-6
    se = np.where(identified, np.asarray(fit.bse, dtype=float), np.nan)
    return OLSResult(names, np.asarray(fit.params, dtype=float), se, df, n)


def ols_hc1_cells(X, n, total, sumsq, names: Sequence[str] | None = None) -> OLSResult:
    """:func:`ols_hc1` from cells: ``X`` has one row per cell, ``n``, ``total`` and ``sumsq``
    are the count, sum and sum of squares of ``y`` over the cell's rows.

    When every row of a cell has that cell's regressors (cell indicators, theme
    patterns), this is the row-level fit: ``X'X = sum n_c x_c x_c'``,
    ``X'y = sum S_c x_c``, and the HC1 meat ``sum_c x_c x_c' sum_{i in c} e_i^2`` with
    ``sum_{i in c} e_i^2 = (SS_c - S_c^2 / n_c) + n_c (S_c / n_c - yhat_c)^2``
    (``= SS_c - 2 yhat_c S_c + n_c yhat_c^2``); the rank is that of the rows
    (singular values of ``sqrt(n_c) x_c``, numpy's default tolerance for ``N`` rows).
    Cells with ``n == 0`` are ignored.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    n = np.asarray(n, dtype=float).ravel()
    total = np.asarray(total, dtype=float).ravel()
    sumsq = np.asarray(sumsq, dtype=float).ravel()
    keep = n > 0
    X, n, total, sumsq = X[keep], n[keep], total[keep], sumsq[keep]
    k = X.shape[1]
    names = tuple(names) if names is not None else tuple(f"x{i}" for i in range(k))
    rows = int(round(n.sum()))
    if rows == 0:
        return _empty_fit(names, k)
    xtx = (X * n[:, None]).T @ X
    xtx_inv = np.linalg.pinv(xtx)
    coef = xtx_inv @ (X.T @ total)
    mean = total / n
    within = np.maximum(sumsq - total * mean, 0.0)
    rss = within + n * (mean - X @ coef) ** 2
    sv = np.linalg.svd(X * np.sqrt(n)[:, None], compute_uv=False)
    rank = int(np.count_nonzero(sv > sv.max() * max(rows, k) * np.finfo(float).eps)) if sv.size else 0
    df = rows - rank
    meat = (X * rss[:, None]).T @ X
    cov = xtx_inv @ meat @ xtx_inv * (rows / df if df > 0 else np.nan)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    identified = np.abs(np.diag(xtx_inv @ xtx) - 1.0) < 1e-6
    se = np.where(identified, se, np.nan)
    return OLSResult(names, coef, se, df, rows)


# =========================================================================== #
# Strata
# =========================================================================== #
def _normalise(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.casefold().str.replace(r"[^0-9a-z]+", "_", regex=True).str.strip("_")
    return text.mask(text.isna() | (text == ""), UNKNOWN_STRATUM)


def _normalise_values(series: pd.Series) -> pd.Series:
    """:func:`_normalise` computed once per distinct value (a million rows hold a few dozen)."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    labels = _normalise(pd.Series(np.asarray(uniques, dtype=object), dtype=object)).to_numpy(dtype=object)
    labels = np.append(labels, UNKNOWN_STRATUM)        # code -1: missing
    return pd.Series(labels[codes], index=series.index, dtype="string")


def strata_labels(frame: pd.DataFrame, strata: Sequence[str] = DEFAULT_STRATA) -> pd.Series:
    """One label per row, ``"<channel>|<category>"`` after normalisation (missing -> ``unknown``).

    Columns of ``strata`` absent from the frame are skipped; no column at all
    gives one stratum ``"all"``.
    """
    present = [c for c in strata if c in frame.columns]
    if not present:
        return pd.Series("all", index=frame.index, dtype="string")
    label = _normalise_values(frame[present[0]])
    for col in present[1:]:
        label = label + "|" + _normalise_values(frame[col])
    return label.astype("string")


# =========================================================================== #
# Adjusted comparison, from a summary
# =========================================================================== #
_STRATUM, _SIDE = "_stratum", "_side"


def _empty_mh() -> dict:
    return {N_STRATA: 0, N_USED_A: 0, N_USED_B: 0, ADJ_DIFF: math.nan, ADJ_LO: math.nan,
            ADJ_HI: math.nan, ADJ_P: math.nan}


def _mh_row(sides: pd.DataFrame, hits: str, seen: str | None, scale: float) -> dict:
    """MH difference and CMH test of ``hits / seen`` between the sides, per stratum."""
    if seen is None:
        return _empty_mh()
    used = sides[sides[seen] > 0]
    g = used.groupby([_STRATUM, _SIDE], sort=True)[[hits, seen]].sum().unstack(_SIDE, fill_value=0)
    if g.empty or True not in g[seen].columns or False not in g[seen].columns:
        return _empty_mh()
    x1, n1 = g[hits][True].to_numpy(float), g[seen][True].to_numpy(float)
    x0, n0 = g[hits][False].to_numpy(float), g[seen][False].to_numpy(float)
    both = (n1 > 0) & (n0 > 0)
    rd, low, high = mantel_haenszel_rd(x1, n1, x0, n0)
    return {N_STRATA: int(both.sum()), N_USED_A: int(n1[both].sum()), N_USED_B: int(n0[both].sum()),
            ADJ_DIFF: scale * rd, ADJ_LO: scale * low, ADJ_HI: scale * high,
            ADJ_P: cmh_test(x1, n1, x0, n0)}


def _ols_row(sides: pd.DataFrame, count: str, total: str, sumsq: str) -> dict:
    """``y ~ 1 + side + stratum dummies`` with HC1 errors, from per side x stratum moments."""
    g = sides[sides[count] > 0].groupby([_STRATUM, _SIDE], sort=True)[[count, total, sumsq]].sum().reset_index()
    # common support: strata with both groups
    mixed = g.groupby(_STRATUM, sort=True)[_SIDE].agg(lambda v: v.any() and not v.all())
    g = g[g[_STRATUM].map(mixed).to_numpy(dtype=bool)] if len(g) else g
    in_a = g[_SIDE].to_numpy(dtype=bool)
    n = g[count].to_numpy(dtype=float)
    n_a, n_b = int(n[in_a].sum()), int(n[~in_a].sum())
    empty = {N_STRATA: 0, N_USED_A: n_a, N_USED_B: n_b, ADJ_DIFF: math.nan, ADJ_LO: math.nan,
             ADJ_HI: math.nan, ADJ_P: math.nan}
    if n_a == 0 or n_b == 0:
        return empty
    levels, codes = np.unique(g[_STRATUM].to_numpy(dtype=object).astype(str), return_inverse=True)
    dummies = np.zeros((len(g), max(levels.size - 1, 0)))
    if levels.size > 1:
        dummies[np.arange(len(g))[codes > 0], codes[codes > 0] - 1] = 1.0
    X = np.column_stack([np.ones(len(g)), in_a.astype(float), dummies])
    fit = ols_hc1_cells(X, n, g[total].to_numpy(dtype=float), g[sumsq].to_numpy(dtype=float))
    low, high = fit.ci()
    return {N_STRATA: int(levels.size), N_USED_A: n_a, N_USED_B: n_b, ADJ_DIFF: float(fit.coef[1]),
            ADJ_LO: float(low[1]), ADJ_HI: float(high[1]), ADJ_P: float(fit.p_values[1])}


_WHAT = {
    K.SATISFIED_SHARE: ("the share of satisfied customers (4-5)", 100, "points", 1),
    K.CSAT_MEAN: ("mean CSAT", 1, "on the 1-5 scale", 2),
    K.NPS_SCORE: ("NPS", 1, "points", 0),
    K.NEGATIVE_SHARE: ("the share of negative comments", 100, "points", 1),
}


def _describe(row: dict) -> tuple[str, float, str, int]:
    if row[K.METRIC] in _WHAT:
        return _WHAT[row[K.METRIC]]
    return (f"{str(row[K.THEME]).replace('_', ' ')} mentions per 100 comments", 1, "points", 1)


def _in_sentence(label: str) -> str:
    """A group's name inside a sentence: "outsourced teams", but vendor names keep their case."""
    subject, _ = FD.subject(label)
    return subject[0].lower() + subject[1:] if label in (S.OUTSOURCED, S.IN_HOUSE, S.UNKNOWN, K.ALL) else subject


def _sentence(row: dict) -> str:
    if not row[DISAGREE]:
        return ""
    subject = _in_sentence(str(row[K.A]))
    other = FD.against(str(row[K.B])).removeprefix("at ")
    what, scale, unit, digits = _describe(row)

    def fmt(d, low, high):
        return (f"{scale * d:+.{digits}f} {unit}, 95% CI {scale * low:+.{digits}f} to "
                f"{scale * high:+.{digits}f}")

    raw = fmt(row[RAW_DIFF], row[RAW_LO], row[RAW_HI])
    adj = fmt(row[ADJ_DIFF], row[ADJ_LO], row[ADJ_HI])
    like = "comparing contacts of the same channel and contact reason"
    if row[DISAGREEMENT] == SIGN_FLIP:
        return (f"Raw and like-for-like figures point in opposite directions for {what}: "
                f"{subject} against {other} differ by {raw} overall, but by {adj} when {like}. "
                "The raw figure reflects the mix of contacts each side handles; the like-for-like "
                "figure is the fair comparison.")
    if row[DISAGREEMENT] == RAW_ONLY:
        shrunk = abs(row[ADJ_DIFF]) <= 0.5 * abs(row[RAW_DIFF]) or np.sign(row[ADJ_DIFF]) != np.sign(row[RAW_DIFF])
        why = ("it mostly reflects the mix of contacts each side handles, not how well they handle them."
               if shrunk else
               "part of it may come from the mix of contacts, so treat the raw difference with caution.")
        return (f"The raw difference in {what} between {subject} and {other} ({raw}) is not clear "
                f"when {like} ({adj}): {why}")
    direction = "lower" if row[ADJ_DIFF] < 0 else "higher"
    size = f"{scale * abs(row[ADJ_DIFF]):.{digits}f} {unit}"
    return (f"The raw figures show no clear difference in {what} between {subject} and {other} "
            f"({raw}), but {like}, {subject} come out {direction} by {size} ({adj}): "
            "the mix of contacts each side handles hides a real difference.")


def _sides(summary: Summary, in_a: np.ndarray, in_b: np.ndarray) -> pd.DataFrame:
    """The summary's cells of either side, labelled with their stratum and side (True: ``a``)."""
    cells = summary.cells.loc[in_a | in_b]
    sides = cells[summary.measures].copy()
    sides[_STRATUM] = strata_labels(cells, summary.strata).to_numpy(dtype=object)
    sides[_SIDE] = in_a[in_a | in_b]
    return sides.reset_index(drop=True)


def _adjusted(summary: Summary, in_a: np.ndarray, in_b: np.ndarray, raw: pd.DataFrame,
              min_n: int, alpha: float) -> pd.DataFrame:
    sides = _sides(summary, in_a, in_b)
    rows = {}
    rows[K.SATISFIED_SHARE] = {ADJ_METHOD: METHOD_MH, **_mh_row(sides, SU.SATISFIED, SU.CSAT_N, 1.0)}
    rows[K.CSAT_MEAN] = {ADJ_METHOD: METHOD_OLS, **_ols_row(sides, SU.CSAT_N, SU.CSAT_SUM, SU.CSAT_SUMSQ)}
    rows[K.NPS_SCORE] = {ADJ_METHOD: METHOD_OLS, **_ols_row(sides, SU.NPS_N, SU.NPS_SUM, SU.NPS_SUMSQ)}
    rows[K.NEGATIVE_SHARE] = {ADJ_METHOD: METHOD_MH, **_mh_row(sides, SU.NEGATIVE, SU.LABELLED, 1.0)}
    for t in summary.themes:
        # a theme whose column the rows lack has no comments to count
        seen = SU.N_TEXT if t in summary.present else None
        rows[K.rate_column(t)] = {ADJ_METHOD: METHOD_MH, **_mh_row(sides, SU.hit_column(t), seen, 100.0)}

    out = raw.rename(columns={K.DIFF: RAW_DIFF, K.DIFF_LO: RAW_LO, K.DIFF_HI: RAW_HI, K.P_VALUE: RAW_P,
                              K.Q_VALUE: RAW_Q, K.SIGNIFICANT: RAW_SIG}).copy()
    adj = pd.DataFrame([rows.get(m, {}) for m in out[K.METRIC]], index=out.index)
    for col in (ADJ_METHOD, N_STRATA, N_USED_A, N_USED_B, ADJ_DIFF, ADJ_LO, ADJ_HI, ADJ_P):
        out[col] = adj[col] if col in adj.columns else np.nan
    big = (out[N_USED_A] >= min_n) & (out[N_USED_B] >= min_n)
    out[ADJ_Q] = SG.benjamini_hochberg(np.where(big, out[ADJ_P].to_numpy(dtype=float), np.nan))
    out[ADJ_SIG] = (big & (out[ADJ_Q] < alpha)).fillna(False).astype(bool)
    raw_sig = out[RAW_SIG].astype(bool)
    adj_sig = out[ADJ_SIG]
    flip = raw_sig & adj_sig & (np.sign(out[RAW_DIFF]) != np.sign(out[ADJ_DIFF]))
    out[DISAGREEMENT] = np.select([flip, raw_sig & ~adj_sig, adj_sig & ~raw_sig],
                                  [SIGN_FLIP, RAW_ONLY, ADJUSTED_ONLY], default="")
    out[DISAGREE] = out[DISAGREEMENT] != ""
    out[K.FINDING] = [_sentence(r) for r in out.to_dict("records")]
    return out


def adjusted_from_summary(
    summary: Summary,
    raw: pd.DataFrame,
    *,
    group_col: str = S.SERVICE_MODEL,
    a: str = S.OUTSOURCED,
    b: str = S.IN_HOUSE,
    min_n: int = ST.MIN_N,
    alpha: float = ST.ALPHA,
) -> pd.DataFrame:
    """:func:`adjusted_compare` from a :class:`~feedbacklib.stats.summaries.Summary` whose keys
    include ``group_col``, next to ``raw`` (the :func:`~feedbacklib.stats.tables.compare_groups` table
    of the same rows, ``a`` against ``b``)."""
    F.require_column(summary.cells, group_col, "group_col")
    cells = summary.cells
    in_a, in_b = F.equals_mask(cells, group_col, a), F.equals_mask(cells, group_col, b)
    out = _adjusted(summary, in_a, in_b, raw, min_n, alpha)
    return out[list(ADJUSTED_COLUMNS)].reset_index(drop=True)


def adjusted_compare(
    frame: pd.DataFrame,
    *,
    group_col: str = S.SERVICE_MODEL,
    a: str = S.OUTSOURCED,
    b: str = S.IN_HOUSE,
    strata: Sequence[str] = DEFAULT_STRATA,
    themes: Iterable[str] | None = None,
    min_n: int = ST.MIN_N,
    alpha: float = ST.ALPHA,
    n_resamples: int = ST.DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Raw and case-mix-adjusted differences ``a - b`` side by side, one row per metric.

    Metrics and their order are those of :func:`~feedbacklib.stats.tables.compare_groups`
    (``satisfied_share``, ``csat_mean``, ``nps``, ``negative_share``,
    ``rate_<theme>``); the raw columns are copied from it. Adjusted: MH risk
    difference + CMH test for the shares and theme rates, OLS with stratum
    dummies and HC1 errors for ``csat_mean`` and ``nps``, all from the rows'
    :func:`~feedbacklib.stats.summaries.summarise` (see :func:`adjusted_from_summary`).
    ``adj_q_value`` is BH across the metrics whose used rows reach ``min_n`` in both groups.

    Disagreement (``disagreement``): ``"sign_flip"`` when both are
    significant with opposite signs; ``"raw_only"`` when the raw difference is
    significant and the adjusted one is not; ``"adjusted_only"`` the reverse;
    ``""`` otherwise. ``finding`` is a plain sentence for disagreeing rows.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, theme, kind, unit, a, b, n_a, n_b, value_a, value_b,
        raw_diff, raw_diff_lo, raw_diff_hi, raw_p_value, raw_q_value,
        raw_significant, adj_method, n_strata, n_used_a, n_used_b, adj_diff,
        adj_diff_lo, adj_diff_hi, adj_p_value, adj_q_value, adj_significant,
        disagree, disagreement, finding``. Differences are on the scale of
        ``compare_groups`` (shares 0..1, theme rates per 100, CSAT 1..5, NPS
        points).
    """
    F.require_column(frame, group_col, "group_col")
    theme_ids = F.themes_of(frame, themes)
    raw = T.compare_groups(frame, group_col=group_col, a=a, b=b, themes=theme_ids, min_n=min_n,
                           alpha=alpha, n_resamples=n_resamples, random_state=random_state)
    summary = summarise(frame, themes=theme_ids, keys=(group_col,), strata=strata, scores=())
    return adjusted_from_summary(summary, raw, group_col=group_col, a=a, b=b, min_n=min_n, alpha=alpha)


def _vendor_cells(cells: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(cells of some vendor's outsourced rows, in-house cells), as compare_vendors splits rows."""
    in_b = F.equals_mask(cells, S.SERVICE_MODEL, S.IN_HOUSE)
    vendor_rows = np.zeros(len(cells), dtype=bool)
    if S.VENDOR in cells.columns:
        vendor_rows = F.known_mask(cells, S.VENDOR) & ~in_b
    return vendor_rows, in_b


def adjusted_vendors_from_summary(summary: Summary, raw_all: pd.DataFrame, *, min_n: int = ST.MIN_N,
                                  alpha: float = ST.ALPHA) -> pd.DataFrame:
    """:func:`adjusted_compare_vendors` from a summary keyed by service model and vendor, next to
    ``raw_all`` (the :func:`~feedbacklib.stats.tables.compare_vendors` table of the same rows)."""
    cells = summary.cells
    F.require_column(cells, S.SERVICE_MODEL, "frame")
    vendor_rows, in_b = _vendor_cells(cells)
    vendors = sorted(map(str, cells.loc[vendor_rows, S.VENDOR].dropna().unique())) if vendor_rows.any() else []
    parts = []
    for vendor in vendors:
        in_a = vendor_rows & F.equals_mask(cells, S.VENDOR, vendor)
        raw = raw_all[raw_all[K.VENDOR_COL] == vendor].drop(columns=[K.VENDOR_COL])
        out = _adjusted(summary, in_a, in_b, raw.reset_index(drop=True), min_n, alpha)
        parts.append(out[list(ADJUSTED_COLUMNS)].assign(**{K.VENDOR_COL: vendor}))
    columns = [K.VENDOR_COL, *ADJUSTED_COLUMNS]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)[columns]


def adjusted_compare_vendors(
    frame: pd.DataFrame,
    *,
    strata: Sequence[str] = DEFAULT_STRATA,
    themes: Iterable[str] | None = None,
    min_n: int = ST.MIN_N,
    alpha: float = ST.ALPHA,
    n_resamples: int = ST.DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """:func:`adjusted_compare` of each vendor against in-house, stacked.

    Returns ``vendor`` followed by :data:`ADJUSTED_COLUMNS`; raw figures are
    those of :func:`~feedbacklib.stats.tables.compare_vendors` (BH across all
    vendors), adjusted q-values are BH within each vendor.
    """
    F.require_column(frame, S.SERVICE_MODEL, "frame")
    theme_ids = F.themes_of(frame, themes)
    raw_all = T.compare_vendors(frame, themes=theme_ids, min_n=min_n, alpha=alpha,
                                n_resamples=n_resamples, random_state=random_state)
    summary = summarise(frame, themes=theme_ids, keys=(S.SERVICE_MODEL, S.VENDOR), strata=strata, scores=())
    return adjusted_vendors_from_summary(summary, raw_all, min_n=min_n, alpha=alpha)
