"""The statistics read from value counts (feedbacklib.stats.counted) equal the array statistics they stand for."""

from __future__ import annotations

import math

import numpy as np
import pytest

from feedbacklib.stats._frame import nps_points
from feedbacklib.stats.counted import (
    Counted, bootstrap_mean_diff_counted, mann_whitney_counted, mean_interval_counted, nps_interval_counted,
    permutation_pvalue_counted, rank_biserial_counted, welch_diff_interval_counted,
)
from feedbacklib.stats.intervals import bootstrap_mean_diff, mean_interval, nps_interval, welch_diff_interval
from feedbacklib.stats.significance import mann_whitney, permutation_pvalue, rank_biserial

RTOL = 1e-12


def _ratings(rng: np.random.Generator, n: int, top: int, skew: float) -> np.ndarray:
    """``n`` ratings 1-5 (``top=5``) or 0-10 (``top=10``), tilted towards the top by ``skew``."""
    scale = np.arange(1, 6) if top == 5 else np.arange(11)
    p = np.linspace(1.0, 1.0 + max(skew, -0.9), scale.size)
    return rng.choice(scale, size=n, p=p / p.sum()).astype(float)


def _close(a, b) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-12, equal_nan=True)


# sizes: large, unequal, and the small groups scipy may treat exactly (<= 8 values)
CASES = [(2_000, 1_500, 0.0), (5_000, 300, 1.5), (40, 25, -0.5), (7, 30, 0.8), (3, 5, 0.0), (1, 12, 0.0)]


@pytest.mark.parametrize("na,nb,skew", CASES)
def test_csat_statistics_equal_the_array_ones(na, nb, skew):
    rng = np.random.default_rng(na * 31 + nb)
    a, b = _ratings(rng, na, 5, skew), _ratings(rng, nb, 5, 0.0)
    ca, cb = Counted.of_values(a), Counted.of_values(b)
    assert (ca.size, cb.size) == (na, nb)
    _close(mean_interval_counted(ca), mean_interval(a))
    _close(welch_diff_interval_counted(ca, cb), welch_diff_interval(a, b))
    _close(mann_whitney_counted(ca, cb), mann_whitney(a, b))
    _close(rank_biserial_counted(ca, cb), rank_biserial(a, b))


@pytest.mark.parametrize("na,nb,skew", CASES)
def test_nps_statistics_draw_the_same_resamples(na, nb, skew):
    rng = np.random.default_rng(na * 17 + nb)
    a, b = _ratings(rng, na, 10, skew), _ratings(rng, nb, 10, 0.0)
    ca, cb = Counted.of_values(a), Counted.of_values(b)
    _close(nps_interval_counted(ca, 999, 0), nps_interval(a, 999, 0))
    pa, pb = nps_points(a), nps_points(b)
    _close(bootstrap_mean_diff_counted(ca.points(), cb.points(), 999, 0.95, 0),
           bootstrap_mean_diff(pa, pb, 999, 0.95, 0))
    _close(permutation_pvalue_counted(ca.points(), cb.points(), 999, 0), permutation_pvalue(pa, pb, 999, 0))


def test_edge_cases_match():
    empty, one = Counted.of_values([]), Counted.of_values([4.0])
    same = Counted.of_values([3.0] * 20)
    assert all(math.isnan(x) for x in mean_interval_counted(empty))
    _close(mean_interval_counted(one), mean_interval([4.0]))
    assert math.isnan(mann_whitney_counted(empty, same)) and math.isnan(rank_biserial_counted(same, empty))
    assert mann_whitney_counted(same, Counted.of_values([3.0] * 9)) == 1.0 == mann_whitney([3.0] * 20, [3.0] * 9)
    _close(welch_diff_interval_counted(same, Counted.of_values([5.0] * 4)),
           welch_diff_interval([3.0] * 20, [5.0] * 4))
    _close(welch_diff_interval_counted(one, same), welch_diff_interval([4.0], [3.0] * 20))
    assert all(math.isnan(x) for x in nps_interval_counted(empty, 99, 0))


def test_counts_are_merged_and_cleaned():
    c = Counted.of([3.0, 1.0, 3.0, np.nan, 5.0], [2, 1, 4, 7, 0])
    assert c.levels.tolist() == [1.0, 3.0] and c.counts.tolist() == [1, 6]
    assert c.size == 7 and c.at_least(3) == 6 and c.expand().tolist() == [1.0] + [3.0] * 6
    assert (c + Counted.of_values([1.0, 2.0])).counts.tolist() == [2, 1, 6]
    assert Counted.of_values(np.arange(11.0)).points().counts.tolist() == [7, 2, 2]


def test_ten_million_ratings_cost_no_array_of_that_size():
    """The point of counting: a 10M-row group is five numbers, and its statistics come from them."""
    big = Counted(np.arange(1.0, 6.0), np.array([900_000, 600_000, 1_500_000, 3_000_000, 4_000_000]))
    other = Counted(np.arange(1.0, 6.0), np.array([1_000_000, 700_000, 1_400_000, 2_900_000, 3_000_000]))
    assert big.size == 10_000_000
    p = mann_whitney_counted(big, other)
    r = rank_biserial_counted(big, other)
    assert 0 <= p < 1e-6 and 0 < r < 0.1
    low, high = nps_interval_counted(Counted(np.arange(11.0), np.full(11, 1_000_000)), 999, 0)[1:]
    assert low < 100 * (2 - 7) / 11 < high  # promoters 9-10, detractors 0-6
