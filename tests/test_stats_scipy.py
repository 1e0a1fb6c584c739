"""The library replacements of issue 14 give the results of the hand-written code they replaced.

Benjamini-Hochberg is ``scipy.stats.false_discovery_control`` and Welch's interval is
``scipy.stats.ttest_ind(equal_var=False).confidence_interval()``; the functions below are
the previous implementations, kept verbatim as the reference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from feedbacklib.stats import as_float, benjamini_hochberg, finite, welch_diff_interval


def old_benjamini_hochberg(pvalues) -> np.ndarray:
    p = as_float(pvalues)
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


def old_welch_diff_interval(a, b, confidence: float = 0.95) -> tuple[float, float, float]:
    x, y = finite(a), finite(b)
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


P_VALUES = st.lists(st.one_of(st.floats(0.0, 1.0), st.just(float("nan"))), min_size=0, max_size=60)


@settings(max_examples=300, deadline=None)
@given(P_VALUES)
def test_benjamini_hochberg_is_the_old_code(pvalues):
    new, old = benjamini_hochberg(pvalues), old_benjamini_hochberg(pvalues)
    assert np.array_equal(np.isnan(new), np.isnan(old))
    np.testing.assert_allclose(new, old, rtol=1e-12, atol=0)


def test_benjamini_hochberg_known_answer_and_ties():
    assert benjamini_hochberg([0.01, 0.04, 0.03, np.nan]).round(3).tolist()[:3] == [0.03, 0.04, 0.04]
    ties = [0.02, 0.02, 0.02, 0.5, 1.0, 0.0]
    np.testing.assert_allclose(benjamini_hochberg(ties), old_benjamini_hochberg(ties), rtol=1e-12)
    assert np.isnan(benjamini_hochberg([np.nan, None])).all()
    assert benjamini_hochberg([]).size == 0


SAMPLES = st.lists(st.integers(1, 5).map(float), min_size=0, max_size=80)


@settings(max_examples=300, deadline=None)
@given(SAMPLES, SAMPLES, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_welch_interval_is_the_old_code(a, b, confidence):
    new = welch_diff_interval(a, b, confidence)
    old = old_welch_diff_interval(a, b, confidence)
    np.testing.assert_allclose(new, old, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("seed", range(5))
def test_welch_interval_on_continuous_data(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(3.5, 1.1, 40 + seed), rng.gamma(2.0, 1.5, 25 + 7 * seed)
    b[::4] = np.nan  # missing values are dropped first
    np.testing.assert_allclose(welch_diff_interval(a, b), old_welch_diff_interval(a, b), rtol=1e-9)
