"""Statistics for the report: rates, intervals, tests, drivers and the perception gap.

Everything here is a pure function: frames in, new frames out, inputs never
mutated. Randomness (bootstrap, permutation tests) always comes from
``numpy.random.default_rng(random_state)`` with a fixed default seed, so the
same input gives the same report, figure for figure.

Scales used in every returned frame
-----------------------------------
- ``*_share`` columns are proportions in 0..1 (satisfied share, negative share,
  perception-gap shares).
- ``rate_<theme>`` columns are per 100 responses **with text** (blank comments
  cannot mention a theme), so 0..100.
- ``nps`` is on -100..100; ``csat_mean`` on 1..5.
- ``*_lo`` / ``*_hi`` are the bounds of a 95% interval (``confidence``).

Column names of the returned frames are the module-level constants below (the
docstring of each function lists them). Theme columns are found with
:func:`feedbacklib.schema.theme_column`.

Missing data never raises: an empty group or an all-missing column yields NaN
values (and ``reportable`` / ``significant`` False), never an exception. Only a
missing grouping column is an error (:class:`~feedbacklib.errors.SchemaError`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from feedbacklib.errors import SchemaError
from feedbacklib.schema import (
    CSAT,
    FIRST_RESPONSE_HOURS,
    IN_HOUSE,
    NPS,
    OUTSOURCED,
    REOPENED,
    RESOLVED_REPORTED,
    SENTIMENT,
    SENTIMENT_LABEL,
    SERVICE_MODEL,
    TEXT,
    THEME_EVIDENCE,
    UNKNOWN,
    VENDOR,
    theme_column,
)

__all__ = [
    "wilson_interval",
    "newcombe_diff_interval",
    "two_proportion_test",
    "nps_score",
    "bootstrap_interval",
    "benjamini_hochberg",
    "mann_whitney",
    "rank_biserial",
    "cohen_h",
    "mean_interval",
    "welch_diff_interval",
    "kpi_table",
    "compare_groups",
    "compare_vendors",
    "perception_gap",
    "rate_column",
    "lo",
    "hi",
]

NEGATIVE_LABEL = "negative"

# --------------------------------------------------------------------------- #
# Metric names (rows of the long comparison frames, columns of kpi_table).
# --------------------------------------------------------------------------- #
SATISFIED_SHARE = "satisfied_share"   # csat >= 4 among rated rows, 0..1
CSAT_MEAN = "csat_mean"               # mean csat, 1..5
NPS_SCORE = "nps"                     # %promoters - %detractors, -100..100
NEGATIVE_SHARE = "negative_share"     # sentiment_label == "negative" among texts, 0..1
RATE_PREFIX = "rate_"                 # rate_<theme>: per 100 texts
SATISFIED_MIN_CSAT = 4
LOW_RATING_MAX_CSAT = 2
PROMOTER_MIN = 9
DETRACTOR_MAX = 6

# kpi_table columns
GROUP = "group"
ALL = "all"
N = "n"
N_TEXT = "n_text"
CSAT_N = "csat_n"
NPS_N = "nps_n"
REPORTABLE = "reportable"

# compare_groups / compare_vendors columns
METRIC = "metric"
THEME = "theme"
KIND = "kind"
UNIT = "unit"
A = "a"
B = "b"
N_A = "n_a"
N_B = "n_b"
VALUE_A = "value_a"
LO_A = "lo_a"
HI_A = "hi_a"
VALUE_B = "value_b"
LO_B = "lo_b"
HI_B = "hi_b"
DIFF = "diff"
DIFF_LO = "diff_lo"
DIFF_HI = "diff_hi"
P_VALUE = "p_value"
Q_VALUE = "q_value"
EFFECT_SIZE = "effect_size"
EFFECT_KIND = "effect_kind"
SIGNIFICANT = "significant"
FINDING = "finding"
VENDOR_COL = "vendor"

KIND_PROPORTION = "proportion"
KIND_MEAN = "mean"
KIND_NPS = "nps"
EFFECT_COHEN_H = "cohen_h"
EFFECT_RANK_BISERIAL = "rank_biserial"

COMPARE_COLUMNS = (
    METRIC, THEME, KIND, UNIT, A, B, N_A, N_B,
    VALUE_A, LO_A, HI_A, VALUE_B, LO_B, HI_B, DIFF, DIFF_LO, DIFF_HI,
    P_VALUE, Q_VALUE, EFFECT_SIZE, EFFECT_KIND, SIGNIFICANT, FINDING,
)

# perception_gap columns
PROVIDER = "provider"
IN_HOUSE_LABEL = "In-house"
N_REPORTED_SOLVED = "n_reported_solved"
GAP_NOT_FIXED = "not_fixed"     # theme_not_fixed among texts
GAP_LOW_RATING = "low_rating"   # csat <= 2 among rated rows
GAP_REOPENED = "reopened"       # reopened among rows where it is known
GAP_SLOW = "slow"               # theme_responsiveness among texts
GAP_ANY = "any"                 # any of the above, among all reported-solved rows
GAP_MEASURES = (GAP_NOT_FIXED, GAP_LOW_RATING, GAP_REOPENED, GAP_SLOW, GAP_ANY)
NOT_FIXED_THEME = "not_fixed"
SLOW_THEME = "responsiveness"

# theme_impact columns
N_SCORED = "n_scored"
N_WITH = "n_with"
SCORE_WITH = "score_with"
SCORE_WITHOUT = "score_without"
SCORE_OVERALL = "score_overall"
IMPACT = "impact"
IMPACT_LO = "impact_lo"
IMPACT_HI = "impact_hi"

DEFAULT_RESAMPLES = 2000
_MAX_BLOCK = 2_000_000  # resampled values held in memory at once

# How a theme reads in a sentence ("get <noun> at 23.8 per 100 comments").
THEME_NOUNS: dict[str, str] = {
    "praise": "praise",
    "churn_risk": "signs of leaving",
}


def lo(name: str) -> str:
    """Column of the lower interval bound of ``name``."""
    return f"{name}_lo"


def hi(name: str) -> str:
    """Column of the upper interval bound of ``name``."""
    return f"{name}_hi"


def rate_column(theme_id: str) -> str:
    """Column (kpi_table) / metric name (compare_*) of a theme's rate per 100 texts."""
    return f"{RATE_PREFIX}{theme_id}"


# =========================================================================== #
# Primitive statistics
# =========================================================================== #
def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(successes, n, confidence: float = 0.95):
    """Wilson score interval for a binomial proportion.

    Parameters
    ----------
    successes, n : int or array-like
        Counts; arrays are broadcast together.
    confidence : float
        Two-sided confidence level.

    Returns
    -------
    tuple
        ``(lo, hi)`` as floats (or arrays for array input). ``n == 0`` gives
        ``(nan, nan)``.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    x = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / m
        denom = 1.0 + z * z / m
        centre = (p + z * z / (2.0 * m)) / denom
        half = z / denom * np.sqrt(p * (1.0 - p) / m + z * z / (4.0 * m * m))
        low = np.where(m > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(m > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    # exact bounds at the edges (avoid 1e-17 noise)
    low = np.where((m > 0) & (x == 0), 0.0, low)
    high = np.where((m > 0) & (x == m), 1.0, high)
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def newcombe_diff_interval(x1, n1, x2, n2, confidence: float = 0.95) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10, 1998) for ``p1 - p2``.

    Examples
    --------
    >>> [round(v, 4) for v in newcombe_diff_interval(56, 70, 48, 80)]
    [0.0524, 0.3339]
    """
    if n1 <= 0 or n2 <= 0:
        return (math.nan, math.nan)
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_interval(x1, n1, confidence)
    l2, u2 = wilson_interval(x2, n2, confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (float(low), float(high))


def two_proportion_test(x1, n1, x2, n2) -> float:
    """Two-sided p-value for ``p1 == p2``.

    Pooled z test; Fisher's exact test when any expected cell count is below 5.
    NaN when a group is empty.
    """
    if n1 <= 0 or n2 <= 0:
        return math.nan
    x1, n1, x2, n2 = int(x1), int(n1), int(x2), int(n2)
    pooled = (x1 + x2) / (n1 + n2)
    expected = (n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    if min(expected) < 5:
        table = [[x1, n1 - x1], [x2, n2 - x2]]
        return float(stats.fisher_exact(table, alternative="two-sided").pvalue)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (x1 / n1 - x2 / n2) / se
    return float(2 * stats.norm.sf(abs(z)))


def cohen_h(p1: float, p2: float) -> float:
    """Cohen's h effect size for two proportions (0.2 small, 0.5 medium, 0.8 large)."""
    if not (np.isfinite(p1) and np.isfinite(p2)):
        return math.nan
    return float(2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p2)))


def _as_float(values) -> np.ndarray:
    """1-D float array; pd.NA, None and non-numbers become NaN."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        return values.astype(float).ravel()
    if np.ndim(values) == 0:
        values = [values]
    series = values if isinstance(values, pd.Series) else pd.Series(list(np.ravel(np.asarray(values, dtype=object))))
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _finite(values) -> np.ndarray:
    """1-D float array without missing values."""
    arr = _as_float(values)
    return arr[~np.isnan(arr)]


def _nps_points(values) -> np.ndarray:
    """Map 0-10 ratings to +100 (promoter), 0 (passive), -100 (detractor).

    The NPS of a sample is the mean of these points, which makes bootstrap and
    permutation of the NPS plain operations on means.
    """
    v = _finite(values)
    return np.where(v >= PROMOTER_MIN, 100.0, np.where(v <= DETRACTOR_MAX, -100.0, 0.0))


def nps_score(values) -> float:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), on -100..100.

    Missing values are ignored; no ratings gives NaN.

    Examples
    --------
    >>> nps_score([10, 9, 8, 7, 0])
    20.0
    """
    points = _nps_points(values)
    return float(points.mean()) if points.size else math.nan


def _index_blocks(rng: np.random.Generator, n: int, n_resamples: int) -> Iterator[np.ndarray]:
    """Bootstrap index matrices (rows = resamples), in blocks that fit in memory."""
    rows = max(1, min(n_resamples, _MAX_BLOCK // max(n, 1)))
    done = 0
    while done < n_resamples:
        r = min(rows, n_resamples - done)
        yield rng.integers(0, n, size=(r, n))
        done += r


#: Above this many distinct values, resampling falls back to drawing raw rows.
_MAX_LEVELS = 64


def _levels(v: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(distinct values, counts) when ``v`` takes few values (ratings, NPS points, flags), else None."""
    levels, counts = np.unique(v, return_counts=True)
    return (levels, counts) if levels.size <= _MAX_LEVELS else None


def _bootstrap_means(v: np.ndarray, rng: np.random.Generator, n_resamples: int) -> np.ndarray:
    """Bootstrap replicates of the mean of ``v``.

    For data with few distinct values a resample is fully described by how many
    times each value is drawn, which is multinomial: drawing those counts costs
    O(values) instead of O(rows), so the cost no longer grows with the data.
    """
    lv = _levels(v)
    if lv is not None:
        levels, counts = lv
        draws = rng.multinomial(v.size, counts / v.size, size=n_resamples)
        return draws @ levels / v.size
    return np.concatenate([v[idx].mean(axis=1) for idx in _index_blocks(rng, v.size, n_resamples)])


def _takes_axis(statistic: Callable) -> bool:
    try:
        return "axis" in inspect.signature(statistic).parameters
    except (TypeError, ValueError):
        return False


def _percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    replicates = replicates[np.isfinite(replicates)]
    if replicates.size == 0:
        return (math.nan, math.nan)
    alpha = 1 - confidence
    low, high = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    return (float(low), float(high))


def bootstrap_interval(
    values,
    statistic: Callable,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    confidence: float = 0.95,
    random_state: int | None = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(values)``; deterministic for a fixed seed.

    Missing values are dropped first. A statistic that accepts an ``axis``
    keyword (``np.mean``, ``np.median``) is evaluated on all resamples at once;
    any other callable is called once per resample with a 1-D array.

    Examples
    --------
    >>> lo_, hi_ = bootstrap_interval([1, 2, 3, 4, 5] * 20, np.mean)
    >>> lo_ < 3 < hi_
    True
    """
    v = _finite(values)
    if v.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(random_state)
    if statistic is np.mean:
        return _percentile_interval(_bootstrap_means(v, rng, n_resamples), confidence)
    vectorised = _takes_axis(statistic)
    reps = []
    for idx in _index_blocks(rng, v.size, n_resamples):
        sample = v[idx]
        if vectorised:
            reps.append(np.asarray(statistic(sample, axis=1), dtype=float))
        else:
            reps.append(np.array([statistic(row) for row in sample], dtype=float))
    return _percentile_interval(np.concatenate(reps), confidence)


def _bootstrap_mean_diff(a: np.ndarray, b: np.ndarray, n_resamples: int,
                         confidence: float, random_state: int | None) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(a) - mean(b), resampling each group."""
    if a.size == 0 or b.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(random_state)
    reps = _bootstrap_means(a, rng, n_resamples) - _bootstrap_means(b, rng, n_resamples)
    return _percentile_interval(reps, confidence)


def _permutation_pvalue(a: np.ndarray, b: np.ndarray, n_resamples: int,
                        random_state: int | None) -> float:
    """Two-sided permutation p-value for mean(a) == mean(b) (seeded, add-one corrected)."""
    if a.size == 0 or b.size == 0:
        return math.nan
    pooled = np.concatenate([a, b])
    observed = abs(a.mean() - b.mean())
    rng = np.random.default_rng(random_state)
    tol = 1e-9 * max(1.0, observed)
    lv = _levels(pooled)
    if lv is not None:
        # Under the null a permutation puts a multivariate-hypergeometric number of
        # each value into group a: draw those counts instead of shuffling rows.
        levels, counts = lv
        in_a = rng.multivariate_hypergeometric(counts, a.size, size=n_resamples)
        total = counts @ levels
        sum_a = in_a @ levels
        d = np.abs(sum_a / a.size - (total - sum_a) / b.size)
        return (int(np.count_nonzero(d >= observed - tol)) + 1) / (n_resamples + 1)
    rows = max(1, min(n_resamples, _MAX_BLOCK // pooled.size))
    hits = 0
    done = 0
    while done < n_resamples:
        r = min(rows, n_resamples - done)
        perm = rng.permuted(np.broadcast_to(pooled, (r, pooled.size)), axis=1)
        d = np.abs(perm[:, : a.size].mean(axis=1) - perm[:, a.size:].mean(axis=1))
        hits += int(np.count_nonzero(d >= observed - tol))
        done += r
    return (hits + 1) / (n_resamples + 1)


def benjamini_hochberg(pvalues) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN entries stay NaN and are not counted.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, np.nan]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = _as_float(pvalues)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    sub = p[ok]
    order = np.argsort(sub, kind="mergesort")
    ranked = sub[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(ranked, 1.0)
    q[ok] = adjusted
    return q


def mann_whitney(a, b) -> float:
    """Two-sided Mann-Whitney U p-value (scipy); NaN when a sample is empty."""
    x, y = _finite(a), _finite(b)
    if x.size == 0 or y.size == 0:
        return math.nan
    if np.unique(np.concatenate([x, y])).size == 1:
        return 1.0
    return float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def rank_biserial(a, b) -> float:
    """Rank-biserial correlation ``2*U_a/(n_a*n_b) - 1`` in -1..1; positive when ``a`` tends higher."""
    x, y = _finite(a), _finite(b)
    if x.size == 0 or y.size == 0:
        return math.nan
    u = stats.mannwhitneyu(x, y, alternative="two-sided").statistic
    return float(2 * u / (x.size * y.size) - 1)


def mean_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(mean, lo, hi)`` with a Student t interval; bounds NaN under 2 values."""
    v = _finite(values)
    if v.size == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(v.mean())
    if v.size < 2:
        return (mean, math.nan, math.nan)
    half = stats.t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return (mean, float(mean - half), float(mean + half))


def welch_diff_interval(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(mean(a) - mean(b), lo, hi)`` with Welch's t interval."""
    x, y = _finite(a), _finite(b)
    if x.size == 0 or y.size == 0:
        return (math.nan, math.nan, math.nan)
    d = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return (d, math.nan, math.nan)
    va, vb = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    se = math.sqrt(va + vb)
    if se == 0:
        return (d, d, d)
    df = (va + vb) ** 2 / (va**2 / (x.size - 1) + vb**2 / (y.size - 1))
    half = stats.t.ppf(0.5 + confidence / 2, df) * se
    return (d, d - half, d + half)


# =========================================================================== #
# Reading the canonical frame
# =========================================================================== #
def _themes_of(frame: pd.DataFrame, themes: Iterable[str] | None) -> list[str]:
    if themes is not None:
        return list(themes)
    prefix = theme_column("")
    return [c[len(prefix):] for c in frame.columns
            if isinstance(c, str) and c.startswith(prefix) and c != THEME_EVIDENCE
            and (pd.api.types.is_bool_dtype(frame[c]) or frame[c].dtype == object)]


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _flags(frame: pd.DataFrame, column: str) -> np.ndarray:
    """Boolean column as a bool array, missing -> False."""
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return np.array(frame[column].astype("boolean").fillna(False), dtype=bool)


def _known(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return np.array(frame[column].notna(), dtype=bool)


def _has_text(frame: pd.DataFrame) -> np.ndarray:
    """Rows with a non-empty comment (else: rows with a sentiment; else: all rows)."""
    if TEXT in frame.columns:
        text = frame[TEXT].astype("string")
        return np.array((text.notna() & (text.str.strip().str.len() > 0)).fillna(False), dtype=bool)
    if SENTIMENT in frame.columns:
        return _known(frame, SENTIMENT)
    return np.ones(len(frame), dtype=bool)


def _equals(frame: pd.DataFrame, column: str, value) -> np.ndarray:
    return np.array(frame[column].eq(value).fillna(False), dtype=bool)


def _require(frame: pd.DataFrame, column: str, argument: str) -> None:
    if column not in frame.columns:
        raise SchemaError(
            f"Cannot group by {column!r} (argument {argument}): the frame has no such column. "
            f"Columns found: {sorted(map(str, frame.columns))}. Pass one of them, or run the "
            f"schema step so that the canonical column {column!r} exists."
        )


@dataclass
class _Summary:
    """Everything the comparisons need from one group of rows."""

    n: int
    n_text: int
    csat: np.ndarray
    nps: np.ndarray
    negative: tuple[int, int]                      # (successes, n)
    themes: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def satisfied(self) -> tuple[int, int]:
        return int(np.count_nonzero(self.csat >= SATISFIED_MIN_CSAT)), int(self.csat.size)


def _summarise(frame: pd.DataFrame, themes: Sequence[str]) -> _Summary:
    text = _has_text(frame)
    n_text = int(text.sum())
    if SENTIMENT_LABEL in frame.columns:
        labels = frame[SENTIMENT_LABEL].astype("string").eq(NEGATIVE_LABEL).fillna(False)
        labelled = text & _known(frame, SENTIMENT_LABEL)
        negative = (int(np.count_nonzero(labels.to_numpy(dtype=bool) & labelled)), int(labelled.sum()))
    else:
        negative = (0, 0)
    theme_counts = {
        t: (int(np.count_nonzero(_flags(frame, theme_column(t)) & text)),
            n_text if theme_column(t) in frame.columns else 0)
        for t in themes
    }
    return _Summary(
        n=len(frame), n_text=n_text,
        csat=_finite(_numbers(frame, CSAT)), nps=_finite(_numbers(frame, NPS)),
        negative=negative, themes=theme_counts,
    )


def _share(x: int, n: int, confidence: float = 0.95) -> tuple[float, float, float]:
    if n <= 0:
        return (math.nan, math.nan, math.nan)
    low, high = wilson_interval(x, n, confidence)
    return (x / n, low, high)


def _nps_with_interval(values: np.ndarray, n_resamples: int, random_state: int | None):
    points = _nps_points(values)
    if points.size == 0:
        return (math.nan, math.nan, math.nan)
    low, high = bootstrap_interval(points, np.mean, n_resamples=n_resamples, random_state=random_state)
    return (float(points.mean()), low, high)


# =========================================================================== #
# KPI table
# =========================================================================== #
def _group_values(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return sorted(series.dropna().unique(), key=str)


def kpi_table(
    frame: pd.DataFrame,
    by: str = SERVICE_MODEL,
    *,
    themes: Iterable[str] | None = None,
    min_n: int = 30,
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Headline KPIs with 95% intervals, one row per group of ``by`` plus an ``"all"`` row.

    Groups are the categories of a categorical column (so an empty category
    shows up with ``n == 0`` and NaN values), else the observed values. Rows
    whose ``by`` value is missing count only in ``"all"``.

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
    _require(frame, by, "by")
    theme_ids = _themes_of(frame, themes)
    parts = [(str(v), frame.loc[_equals(frame, by, v)]) for v in _group_values(frame[by])]
    parts.append((ALL, frame))
    rows = []
    for label, part in parts:
        s = _summarise(part, theme_ids)
        row: dict[str, object] = {GROUP: label, N: s.n, N_TEXT: s.n_text, CSAT_N: int(s.csat.size)}
        row[CSAT_MEAN], row[lo(CSAT_MEAN)], row[hi(CSAT_MEAN)] = mean_interval(s.csat)
        row[SATISFIED_SHARE], row[lo(SATISFIED_SHARE)], row[hi(SATISFIED_SHARE)] = _share(*s.satisfied)
        row[NPS_N] = int(s.nps.size)
        row[NPS_SCORE], row[lo(NPS_SCORE)], row[hi(NPS_SCORE)] = _nps_with_interval(
            s.nps, n_resamples, random_state)
        row[NEGATIVE_SHARE], row[lo(NEGATIVE_SHARE)], row[hi(NEGATIVE_SHARE)] = _share(*s.negative)
        for t in theme_ids:
            value, low, high = _share(*s.themes[t])
            col = rate_column(t)
            row[col], row[lo(col)], row[hi(col)] = 100 * value, 100 * low, 100 * high
        row[REPORTABLE] = s.n >= min_n
        rows.append(row)
    return pd.DataFrame(rows)


# =========================================================================== #
# Two-group comparison (long format)
# =========================================================================== #
def _proportion_row(x_a, n_a, x_b, n_b, scale: float) -> dict:
    va, la, ha = _share(x_a, n_a)
    vb, lb, hb = _share(x_b, n_b)
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
                 **_proportion_row(*sa.satisfied, *sb.satisfied, 1.0)})

    va, la, ha = mean_interval(sa.csat)
    vb, lb, hb = mean_interval(sb.csat)
    d, dl, dh = welch_diff_interval(sa.csat, sb.csat)
    rows.append({
        METRIC: CSAT_MEAN, THEME: "", KIND: KIND_MEAN, UNIT: "mean CSAT (1-5)",
        N_A: int(sa.csat.size), N_B: int(sb.csat.size),
        VALUE_A: va, LO_A: la, HI_A: ha, VALUE_B: vb, LO_B: lb, HI_B: hb,
        DIFF: d, DIFF_LO: dl, DIFF_HI: dh,
        P_VALUE: mann_whitney(sa.csat, sb.csat),
        EFFECT_SIZE: rank_biserial(sa.csat, sb.csat), EFFECT_KIND: EFFECT_RANK_BISERIAL,
    })

    pa, pb = _nps_points(sa.nps), _nps_points(sb.nps)
    va, la, ha = _nps_with_interval(sa.nps, n_resamples, random_state)
    vb, lb, hb = _nps_with_interval(sb.nps, n_resamples, random_state)
    dl, dh = _bootstrap_mean_diff(pa, pb, n_resamples, 0.95, random_state)
    rows.append({
        METRIC: NPS_SCORE, THEME: "", KIND: KIND_NPS, UNIT: "NPS (-100 to 100)",
        N_A: int(pa.size), N_B: int(pb.size),
        VALUE_A: va, LO_A: la, HI_A: ha, VALUE_B: vb, LO_B: lb, HI_B: hb,
        DIFF: va - vb, DIFF_LO: dl, DIFF_HI: dh,
        P_VALUE: _permutation_pvalue(pa, pb, n_resamples, random_state),
        EFFECT_SIZE: math.nan, EFFECT_KIND: "",
    })

    rows.append({METRIC: NEGATIVE_SHARE, THEME: "", UNIT: "share of comments (0-1)",
                 **_proportion_row(*sa.negative, *sb.negative, 1.0)})
    for t in themes:
        rows.append({METRIC: rate_column(t), THEME: t, UNIT: "per 100 comments",
                     **_proportion_row(*sa.themes[t], *sb.themes[t], 100.0)})
    return rows


def _subject(label: str) -> tuple[str, bool]:
    """How a group starts a sentence, and whether the verb is plural."""
    return {
        OUTSOURCED: ("Outsourced teams", True),
        IN_HOUSE: ("In-house teams", True),
        UNKNOWN: ("Teams of unknown service model", True),
        ALL: ("All teams", True),
    }.get(label, (label, False))


def _against(label: str) -> str:
    """How the comparison group ends a sentence ("against 11.9 in-house")."""
    return {
        IN_HOUSE: "in-house",
        OUTSOURCED: "at outsourced teams",
        UNKNOWN: "at teams of unknown service model",
        ALL: "across all teams",
    }.get(label, f"at {label}")


def _verb(base: str, plural: bool) -> str:
    if plural:
        return base
    return {"have": "has"}.get(base, base + "s")


def _finding(row: dict) -> str:
    subject, plural = _subject(str(row[A]))
    against = _against(str(row[B]))
    metric = row[METRIC]
    ci = (row[DIFF], row[DIFF_LO], row[DIFF_HI])
    if metric == SATISFIED_SHARE:
        d, l, h = (100 * v for v in ci)
        return (f"{subject} {_verb('satisfy', plural)} {100 * row[VALUE_A]:.1f}% of customers who "
                f"give a rating (4 or 5 out of 5) against {100 * row[VALUE_B]:.1f}% {against} "
                f"(difference {d:.1f} points, 95% CI {l:.1f} to {h:.1f}).")
    if metric == CSAT_MEAN:
        d, l, h = ci
        return (f"{subject} {_verb('average', plural)} a satisfaction rating of {row[VALUE_A]:.2f} "
                f"out of 5 against {row[VALUE_B]:.2f} {against} "
                f"(difference {d:.2f}, 95% CI {l:.2f} to {h:.2f}).")
    if metric == NPS_SCORE:
        d, l, h = ci
        return (f"{subject} {_verb('have', plural)} a Net Promoter Score of {row[VALUE_A]:.0f} "
                f"against {row[VALUE_B]:.0f} {against} "
                f"(difference {d:.0f} points, 95% CI {l:.0f} to {h:.0f}).")
    if metric == NEGATIVE_SHARE:
        d, l, h = (100 * v for v in ci)
        return (f"{subject} {_verb('receive', plural)} negative comments in "
                f"{100 * row[VALUE_A]:.1f}% of comments against {100 * row[VALUE_B]:.1f}% "
                f"{against} (difference {d:.1f} points, 95% CI {l:.1f} to {h:.1f}).")
    theme = str(row[THEME])
    noun = THEME_NOUNS.get(theme, f"{theme.replace('_', ' ')} complaints")
    d, l, h = ci
    return (f"{subject} {_verb('get', plural)} {noun} at {row[VALUE_A]:.1f} per 100 comments "
            f"against {row[VALUE_B]:.1f} {against} "
            f"(difference {d:.1f} points, 95% CI {l:.1f} to {h:.1f}).")


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
        _finding(r) if r[SIGNIFICANT] else "" for r in out.to_dict("records")
    ]
    return out


def compare_groups(
    frame: pd.DataFrame,
    *,
    group_col: str = SERVICE_MODEL,
    a: str = OUTSOURCED,
    b: str = IN_HOUSE,
    themes: Iterable[str] | None = None,
    min_n: int = 30,
    alpha: float = 0.05,
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
    _require(frame, group_col, "group_col")
    theme_ids = _themes_of(frame, themes)
    sa = _summarise(frame.loc[_equals(frame, group_col, a)], theme_ids)
    sb = _summarise(frame.loc[_equals(frame, group_col, b)], theme_ids)
    rows = [{A: str(a), B: str(b), **r}
            for r in _metric_rows(sa, sb, theme_ids, n_resamples, random_state)]
    return _finalise(rows, min_n, alpha)[list(COMPARE_COLUMNS)]


def _vendor_rows(frame: pd.DataFrame) -> pd.DataFrame:
    known = _known(frame, VENDOR)
    if SERVICE_MODEL in frame.columns:
        known &= ~_equals(frame, SERVICE_MODEL, IN_HOUSE)
    return frame.loc[known]


def _vendors(frame: pd.DataFrame) -> list[str]:
    if VENDOR not in frame.columns:
        return []
    return sorted(map(str, _vendor_rows(frame)[VENDOR].dropna().unique()))


def compare_vendors(
    frame: pd.DataFrame,
    *,
    themes: Iterable[str] | None = None,
    min_n: int = 30,
    alpha: float = 0.05,
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
    _require(frame, SERVICE_MODEL, "frame")
    theme_ids = _themes_of(frame, themes)
    sb = _summarise(frame.loc[_equals(frame, SERVICE_MODEL, IN_HOUSE)], theme_ids)
    vendor_frame = _vendor_rows(frame)
    rows = []
    for vendor in _vendors(frame):
        sa = _summarise(vendor_frame.loc[_equals(vendor_frame, VENDOR, vendor)], theme_ids)
        rows += [{VENDOR_COL: vendor, A: vendor, B: IN_HOUSE, **r}
                 for r in _metric_rows(sa, sb, theme_ids, n_resamples, random_state)]
    columns = [VENDOR_COL, *COMPARE_COLUMNS]
    out = _finalise(rows, min_n, alpha)
    if out.empty:
        return pd.DataFrame(columns=columns)
    return out[columns].reset_index(drop=True)


# =========================================================================== #
# Perception gap: reported solved vs what customers say
# =========================================================================== #
def perception_gap(frame: pd.DataFrame, *, min_n: int = 30, alpha: float = 0.05,
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
    reported_good = _flags(frame, RESOLVED_REPORTED)
    if sla_first_response_hours is not None:
        reported_good = reported_good | (_numbers(frame, FIRST_RESPONSE_HOURS) <= sla_first_response_hours)
    solved = frame.loc[reported_good] if len(frame) else frame
    groups: list[tuple[str, pd.DataFrame]] = []
    if SERVICE_MODEL in frame.columns:
        groups.append((IN_HOUSE_LABEL, solved.loc[_equals(solved, SERVICE_MODEL, IN_HOUSE)]))
    else:
        groups.append((IN_HOUSE_LABEL, solved.iloc[0:0]))
    vendor_solved = _vendor_rows(solved) if VENDOR in solved.columns else solved.iloc[0:0]
    for vendor in _vendors(frame):
        groups.append((vendor, vendor_solved.loc[_equals(vendor_solved, VENDOR, vendor)]))

    rows = []
    counts: dict[str, tuple[int, int]] = {}
    for label, part in groups:
        text = _has_text(part)
        csat = _numbers(part, CSAT)
        signals = {
            GAP_NOT_FIXED: (_flags(part, theme_column(NOT_FIXED_THEME)) & text,
                            text if theme_column(NOT_FIXED_THEME) in part.columns else text & False),
            GAP_LOW_RATING: (csat <= LOW_RATING_MAX_CSAT, ~np.isnan(csat)),
            GAP_REOPENED: (_flags(part, REOPENED), _known(part, REOPENED)),
            GAP_SLOW: (_flags(part, theme_column(SLOW_THEME)) & text,
                       text if theme_column(SLOW_THEME) in part.columns else text & False),
        }
        any_hit = np.zeros(len(part), dtype=bool)
        for hit, seen in signals.values():
            any_hit |= hit & seen
        signals[GAP_ANY] = (any_hit, np.ones(len(part), dtype=bool))
        row: dict[str, object] = {PROVIDER: label, N_REPORTED_SOLVED: len(part)}
        for m, (hit, seen) in signals.items():
            x, n = int(np.count_nonzero(hit & seen)), int(seen.sum())
            share = f"{m}_share"
            row[f"{m}_n"] = n
            row[share], row[lo(share)], row[hi(share)] = _share(x, n)
        counts[label] = (int(any_hit.sum()), len(part))
        rows.append(row)

    x_b, n_b = counts[IN_HOUSE_LABEL]
    for row in rows[1:]:
        x_a, n_a = counts[row[PROVIDER]]
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
    out[FINDING] = [
        (f"Of the {r[N_REPORTED_SOLVED]} cases {r[PROVIDER]} reported solved, {100 * r[share]:.1f}% "
         f"show the customer disagrees (not fixed, rated 1-2, reopened or still complaining of "
         f"slowness) against {100 * out.loc[0, share]:.1f}% in-house (difference "
         f"{100 * r[f'{GAP_ANY}_diff']:.1f} points, 95% CI {100 * r[f'{GAP_ANY}_diff_lo']:.1f} to "
         f"{100 * r[f'{GAP_ANY}_diff_hi']:.1f}).") if r[SIGNIFICANT] else ""
        for r in out.to_dict("records")
    ]
    measures = [f"{m}_{suffix}" for m in GAP_MEASURES
                for suffix in ("n", "share", "share_lo", "share_hi")]
    return out[[PROVIDER, N_REPORTED_SOLVED, *measures, f"{GAP_ANY}_diff", f"{GAP_ANY}_diff_lo",
                f"{GAP_ANY}_diff_hi", P_VALUE, Q_VALUE, REPORTABLE, SIGNIFICANT, FINDING]]
