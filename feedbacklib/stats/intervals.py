"""Point estimates with their intervals, behind one method and confidence setting.

The confidence level of every interval defaults to :data:`~feedbacklib.stats.settings.CONFIDENCE`;
proportions use :func:`proportion_interval`, whose method is
:data:`~feedbacklib.stats.settings.PROPORTION_METHOD` (Wilson). Changing either
there changes every table, chart and sentence of the report.

Randomness (bootstrap) always comes from ``numpy.random.default_rng(random_state)``
with a fixed default seed, so the same input gives the same report. The bootstrap
of a mean over few distinct values (ratings, NPS points, flags) draws multinomial
counts instead of rows: same distribution, cost independent of the number of rows.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable, Iterator

import numpy as np
from scipy import stats

from ._frame import finite, nps_points
from .settings import CONFIDENCE, DEFAULT_RESAMPLES, PROPORTION_METHOD

__all__ = [
    "z_value", "wilson_interval", "proportion_interval", "newcombe_diff_interval", "nps_score", "index_blocks",
    "few_levels", "bootstrap_means", "percentile_interval", "bootstrap_interval", "bootstrap_mean_diff",
    "mean_interval", "welch_diff_interval", "share_interval", "nps_interval",
]

_MAX_BLOCK = 2_000_000  # resampled values held in memory at once


def z_value(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(successes, n, confidence: float = CONFIDENCE):
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
    z = z_value(confidence)
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


def proportion_interval(successes, n, confidence: float = CONFIDENCE, method: str = PROPORTION_METHOD):
    """Interval of a binomial proportion by the configured ``method`` (``"wilson"``); see :func:`wilson_interval`."""
    if method == "wilson":
        return wilson_interval(successes, n, confidence)
    raise ValueError(f"Unknown proportion interval method {method!r}: expected 'wilson'.")


def newcombe_diff_interval(x1, n1, x2, n2, confidence: float = CONFIDENCE) -> tuple[float, float]:
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


def nps_score(values) -> float:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), on -100..100.

    Missing values are ignored; no ratings gives NaN.

    Examples
    --------
    >>> nps_score([10, 9, 8, 7, 0])
    20.0
    """
    points = nps_points(values)
    return float(points.mean()) if points.size else math.nan


def index_blocks(rng: np.random.Generator, n: int, n_resamples: int) -> Iterator[np.ndarray]:
    """Bootstrap index matrices (rows = resamples), in blocks that fit in memory."""
    rows = max(1, min(n_resamples, _MAX_BLOCK // max(n, 1)))
    done = 0
    while done < n_resamples:
        r = min(rows, n_resamples - done)
        yield rng.integers(0, n, size=(r, n))
        done += r


#: Above this many distinct values, resampling falls back to drawing raw rows.
_MAX_LEVELS = 64


def few_levels(v: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(distinct values, counts) when ``v`` takes few values (ratings, NPS points, flags), else None."""
    levels, counts = np.unique(v, return_counts=True)
    return (levels, counts) if levels.size <= _MAX_LEVELS else None


def bootstrap_means(v: np.ndarray, rng: np.random.Generator, n_resamples: int) -> np.ndarray:
    """Bootstrap replicates of the mean of ``v``.

    For data with few distinct values a resample is fully described by how many
    times each value is drawn, which is multinomial: drawing those counts costs
    O(values) instead of O(rows), so the cost no longer grows with the data.
    """
    lv = few_levels(v)
    if lv is not None:
        levels, counts = lv
        draws = rng.multinomial(v.size, counts / v.size, size=n_resamples)
        return draws @ levels / v.size
    return np.concatenate([v[idx].mean(axis=1) for idx in index_blocks(rng, v.size, n_resamples)])


def _takes_axis(statistic: Callable) -> bool:
    try:
        return "axis" in inspect.signature(statistic).parameters
    except (TypeError, ValueError):
        return False


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
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
    confidence: float = CONFIDENCE,
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
    v = finite(values)
    if v.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(random_state)
    if statistic is np.mean:
        return percentile_interval(bootstrap_means(v, rng, n_resamples), confidence)
    vectorised = _takes_axis(statistic)
    reps = []
    for idx in index_blocks(rng, v.size, n_resamples):
        sample = v[idx]
        if vectorised:
            reps.append(np.asarray(statistic(sample, axis=1), dtype=float))
        else:
            reps.append(np.array([statistic(row) for row in sample], dtype=float))
    return percentile_interval(np.concatenate(reps), confidence)


def bootstrap_mean_diff(a: np.ndarray, b: np.ndarray, n_resamples: int,
                         confidence: float, random_state: int | None) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(a) - mean(b), resampling each group."""
    if a.size == 0 or b.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(random_state)
    reps = bootstrap_means(a, rng, n_resamples) - bootstrap_means(b, rng, n_resamples)
    return percentile_interval(reps, confidence)


def mean_interval(values, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """``(mean, lo, hi)`` with a Student t interval; bounds NaN under 2 values."""
    v = finite(values)
    if v.size == 0:
        return (math.nan, math.nan, math.nan)
    mean = float(v.mean())
    if v.size < 2:
        return (mean, math.nan, math.nan)
    half = stats.t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size)
    return (mean, float(mean - half), float(mean + half))


def welch_diff_interval(a, b, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """``(mean(a) - mean(b), lo, hi)`` with Welch's t interval (``scipy.stats.ttest_ind(equal_var=False)``)."""
    x, y = finite(a), finite(b)
    if x.size == 0 or y.size == 0:
        return (math.nan, math.nan, math.nan)
    d = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return (d, math.nan, math.nan)
    if x.var() == 0 and y.var() == 0:  # no spread: the difference is known exactly
        return (d, d, d)
    with warnings.catch_warnings():  # one group without spread: scipy warns of precision loss, the interval holds
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(confidence_level=confidence)
    return (d, float(ci.low), float(ci.high))


def share_interval(x: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    if n <= 0:
        return (math.nan, math.nan, math.nan)
    low, high = proportion_interval(x, n, confidence)
    return (x / n, low, high)


def nps_interval(values: np.ndarray, n_resamples: int, random_state: int | None):
    points = nps_points(values)
    if points.size == 0:
        return (math.nan, math.nan, math.nan)
    low, high = bootstrap_interval(points, np.mean, n_resamples=n_resamples, random_state=random_state)
    return (float(points.mean()), low, high)
