"""Tests, effect sizes and the multiple-testing correction.

p-values of two-group differences (proportions, ratings, NPS) and the
Benjamini-Hochberg adjustment that every table applies across the metrics it
reports as one family. Permutation tests are seeded, like the bootstrap.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ._frame import as_float, finite
from .intervals import _MAX_BLOCK, few_levels

__all__ = ["two_proportion_test", "cohen_h", "permutation_pvalue", "benjamini_hochberg", "mann_whitney",
           "rank_biserial"]


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


def permutation_pvalue(a: np.ndarray, b: np.ndarray, n_resamples: int,
                        random_state: int | None) -> float:
    """Two-sided permutation p-value for mean(a) == mean(b) (seeded, add-one corrected)."""
    if a.size == 0 or b.size == 0:
        return math.nan
    pooled = np.concatenate([a, b])
    observed = abs(a.mean() - b.mean())
    rng = np.random.default_rng(random_state)
    tol = 1e-9 * max(1.0, observed)
    lv = few_levels(pooled)
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

    ``scipy.stats.false_discovery_control(method="bh")`` on the finite entries.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, np.nan]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = as_float(pvalues)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = stats.false_discovery_control(p[ok], method="bh")
    return q


def mann_whitney(a, b) -> float:
    """Two-sided Mann-Whitney U p-value (scipy); NaN when a sample is empty."""
    x, y = finite(a), finite(b)
    if x.size == 0 or y.size == 0:
        return math.nan
    if np.unique(np.concatenate([x, y])).size == 1:
        return 1.0
    return float(stats.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def rank_biserial(a, b) -> float:
    """Rank-biserial correlation ``2*U_a/(n_a*n_b) - 1`` in -1..1; positive when ``a`` tends higher."""
    x, y = finite(a), finite(b)
    if x.size == 0 or y.size == 0:
        return math.nan
    u = stats.mannwhitneyu(x, y, alternative="two-sided").statistic
    return float(2 * u / (x.size * y.size) - 1)
