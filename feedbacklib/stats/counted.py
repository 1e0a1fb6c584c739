"""Statistics of a score read from its distribution: distinct values and their counts.

A summary keeps each score as value counts (:func:`~feedbacklib.stats.summaries.value_counts`):
five CSAT levels, eleven NPS levels, whatever the number of rows. Expanding them back to one
value per row (``np.repeat``) made every comparison cost memory and time in proportion to the
month: at 10M rows the client built arrays of 80 MB, several at a time, to rank them. The
functions here compute the same statistics from the counts, so their cost depends on the number
of distinct values only.

Each one is the array function of :mod:`~feedbacklib.stats.intervals` or
:mod:`~feedbacklib.stats.significance` it is named after, with the same formula and, for the
resampling ones, the same draws from the same seed (those functions already resample values by
their counts when there are few of them, :func:`~feedbacklib.stats.intervals.few_levels`), so
the results agree to floating-point rounding (tests/test_counted.py checks them against the
array functions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from ._frame import nps_points
from .intervals import percentile_interval
from .settings import CONFIDENCE

__all__ = ["Counted", "mean_interval_counted", "welch_diff_interval_counted", "mann_whitney_counted",
           "rank_biserial_counted", "nps_interval_counted", "bootstrap_mean_diff_counted",
           "permutation_pvalue_counted"]

#: Below this many values in a group scipy's Mann-Whitney may use its exact distribution
#: (``method="auto"``): such a small group is expanded and handed to scipy as it is.
_EXACT_MAX = 8


@dataclass(frozen=True)
class Counted:
    """A sample given as its distinct finite values (ascending) and how often each occurs (all > 0)."""

    levels: np.ndarray
    counts: np.ndarray

    @classmethod
    def of(cls, levels, counts) -> Counted:
        """From any (values, counts): non-finite values and zero counts dropped, equal values merged."""
        levels = np.asarray(levels, dtype=float)
        counts = np.asarray(counts, dtype=np.int64)
        keep = np.isfinite(levels) & (counts > 0)
        distinct, inverse = np.unique(levels[keep], return_inverse=True)
        return cls(distinct, np.bincount(inverse, weights=counts[keep], minlength=distinct.size).astype(np.int64))

    @classmethod
    def of_values(cls, values) -> Counted:
        """From one value per row (NaN ignored)."""
        v = np.asarray(values, dtype=float)
        levels, counts = np.unique(v[np.isfinite(v)], return_counts=True)
        return cls(levels, counts.astype(np.int64))

    @property
    def size(self) -> int:
        """How many values (rows) the sample holds."""
        return int(self.counts.sum())

    def mean(self) -> float:
        return float(self.counts @ self.levels / self.size) if self.size else math.nan

    def var(self, ddof: int = 0) -> float:
        n = self.size
        if n - ddof <= 0:
            return math.nan
        return float(self.counts @ (self.levels - self.mean()) ** 2 / (n - ddof))

    def at_least(self, value: float) -> int:
        """How many values are >= ``value``."""
        return int(self.counts[self.levels >= value].sum())

    def points(self) -> Counted:
        """The NPS points of 0-10 ratings (:func:`~feedbacklib.stats.nps_points`), as counts."""
        return Counted.of(nps_points(self.levels), self.counts)

    def expand(self) -> np.ndarray:
        """One value per row, ascending (only for small samples)."""
        return np.repeat(self.levels, self.counts)

    def __add__(self, other: Counted) -> Counted:
        return Counted.of(np.concatenate([self.levels, other.levels]), np.concatenate([self.counts, other.counts]))


def mean_interval_counted(c: Counted, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """:func:`~feedbacklib.stats.intervals.mean_interval` of the sample ``c``."""
    n = c.size
    if n == 0:
        return (math.nan, math.nan, math.nan)
    mean = c.mean()
    if n < 2:
        return (mean, math.nan, math.nan)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * math.sqrt(c.var(ddof=1)) / math.sqrt(n)
    return (mean, float(mean - half), float(mean + half))


def welch_diff_interval_counted(a: Counted, b: Counted, confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """:func:`~feedbacklib.stats.intervals.welch_diff_interval`: ``(mean(a) - mean(b), lo, hi)``, Welch's t."""
    na, nb = a.size, b.size
    if na == 0 or nb == 0:
        return (math.nan, math.nan, math.nan)
    d = a.mean() - b.mean()
    if na < 2 or nb < 2:
        return (d, math.nan, math.nan)
    if a.var() == 0 and b.var() == 0:  # no spread: the difference is known exactly
        return (d, d, d)
    va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    return (d, d - half, d + half)


def _u_statistic(a: Counted, b: Counted) -> tuple[float, np.ndarray]:
    """Mann-Whitney's ``U1`` of ``a`` (from the midranks of the pooled sample) and the pooled ties."""
    pooled = a + b
    below = np.cumsum(pooled.counts) - pooled.counts
    midrank = below + (pooled.counts + 1) / 2
    in_a = np.zeros(pooled.levels.size, dtype=np.int64)
    in_a[np.searchsorted(pooled.levels, a.levels)] = a.counts
    n1 = a.size
    return float(in_a @ midrank) - n1 * (n1 + 1) / 2, pooled.counts


def mann_whitney_counted(a: Counted, b: Counted) -> float:
    """:func:`~feedbacklib.stats.significance.mann_whitney`: two-sided Mann-Whitney U p-value.

    scipy's ``method="auto"`` with ties (which counted ratings always have) is the normal
    approximation with the tie-corrected variance and the continuity correction: the same here.
    Groups of at most ``_EXACT_MAX`` values go to scipy itself (it may use the exact distribution).
    """
    n1, n2 = a.size, b.size
    if n1 == 0 or n2 == 0:
        return math.nan
    if (a + b).levels.size == 1:
        return 1.0
    if min(n1, n2) <= _EXACT_MAX:
        return float(stats.mannwhitneyu(a.expand(), b.expand(), alternative="two-sided").pvalue)
    u1, ties = _u_statistic(a, b)
    u = max(u1, n1 * n2 - u1)
    n = n1 + n2
    tie_term = float(np.sum(ties.astype(float) ** 3 - ties))
    s = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    z = (u - n1 * n2 / 2 - 0.5) / s
    return float(np.clip(2 * special.ndtr(-z), 0.0, 1.0))


def rank_biserial_counted(a: Counted, b: Counted) -> float:
    """:func:`~feedbacklib.stats.significance.rank_biserial`: ``2*U_a/(n_a*n_b) - 1``."""
    if a.size == 0 or b.size == 0:
        return math.nan
    u1, _ = _u_statistic(a, b)
    return float(2 * u1 / (a.size * b.size) - 1)


def _bootstrap_means(c: Counted, rng: np.random.Generator, n_resamples: int) -> np.ndarray:
    """:func:`~feedbacklib.stats.intervals.bootstrap_means` of a few-valued sample: multinomial draws."""
    draws = rng.multinomial(c.size, c.counts / c.size, size=n_resamples)
    return draws @ c.levels / c.size


def nps_interval_counted(ratings: Counted, n_resamples: int, random_state: int | None,
                         confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """:func:`~feedbacklib.stats.intervals.nps_interval` of 0-10 ratings given by their counts."""
    points = ratings.points()
    if points.size == 0:
        return (math.nan, math.nan, math.nan)
    rng = np.random.default_rng(random_state)
    low, high = percentile_interval(_bootstrap_means(points, rng, n_resamples), confidence)
    return (points.mean(), low, high)


def bootstrap_mean_diff_counted(a: Counted, b: Counted, n_resamples: int, confidence: float,
                                random_state: int | None) -> tuple[float, float]:
    """:func:`~feedbacklib.stats.intervals.bootstrap_mean_diff` of two few-valued samples."""
    if a.size == 0 or b.size == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(random_state)
    reps = _bootstrap_means(a, rng, n_resamples) - _bootstrap_means(b, rng, n_resamples)
    return percentile_interval(reps, confidence)


def permutation_pvalue_counted(a: Counted, b: Counted, n_resamples: int, random_state: int | None) -> float:
    """:func:`~feedbacklib.stats.significance.permutation_pvalue` of two few-valued samples: each
    permutation is fully described by how many of each value land in ``a`` (multivariate hypergeometric)."""
    if a.size == 0 or b.size == 0:
        return math.nan
    observed = abs(a.mean() - b.mean())
    rng = np.random.default_rng(random_state)
    tol = 1e-9 * max(1.0, observed)
    pooled = a + b
    in_a = rng.multivariate_hypergeometric(pooled.counts, a.size, size=n_resamples)
    total = pooled.counts @ pooled.levels
    sum_a = in_a @ pooled.levels
    d = np.abs(sum_a / a.size - (total - sum_a) / b.size)
    return (int(np.count_nonzero(d >= observed - tol)) + 1) / (n_resamples + 1)
