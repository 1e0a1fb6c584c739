"""Issue 13 item 4: theme rates corrected for the tagger's own error (Rogan–Gladen)."""

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feedbacklib.themes import load_taxonomy
from feedbacklib.themes.correction import (
    ErrorCounts,
    bootstrap_rate,
    corrected_rate,
    corrected_rates,
    measured_error,
    rogan_gladen,
)

FIXTURES = Path(__file__).parent / "fixtures" / "themes"


# -- known answers ------------------------------------------------------------------------------
@pytest.mark.parametrize("p, se, sp, want", [
    (0.2, 0.8, 0.9, 0.1 / 0.7),       # (0.2 + 0.9 - 1) / (0.8 + 0.9 - 1) = 1/7
    (0.3, 1.0, 1.0, 0.3),             # a perfect tagger changes nothing
    (0.15, 0.6, 0.95, 0.1 / 0.55),    # (0.15 - 0.05) / 0.55
    (0.5, 0.9, 0.9, 0.5),             # symmetric errors leave one half alone
    (0.02, 0.7, 0.95, 0.0),           # below the false-positive rate: clipped to 0
    (0.99, 0.9, 0.99, 1.0),           # above sensitivity: clipped to 1
])
def test_rogan_gladen_known_answers(p, se, sp, want):
    assert rogan_gladen(p, se, sp) == pytest.approx(want, abs=1e-12)


def test_rogan_gladen_inverts_the_expected_tagged_share():
    for pi in (0.0, 0.05, 0.3, 0.8, 1.0):
        for se, sp in ((0.7, 0.9), (0.55, 0.99), (0.95, 0.6)):
            p = se * pi + (1 - sp) * (1 - pi)
            assert rogan_gladen(p, se, sp) == pytest.approx(pi, abs=1e-12)
    assert rogan_gladen(0.02, 0.7, 0.95, clip=False) == pytest.approx(-0.03 / 0.65)


def test_rogan_gladen_refuses_chance_and_bad_rates():
    with pytest.raises(ValueError, match="no better than chance"):
        rogan_gladen(0.3, 0.5, 0.5)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        rogan_gladen(1.2, 0.8, 0.9)
    with pytest.raises(ValueError):
        rogan_gladen(0.2, float("nan"), 0.9)


def test_delta_interval_known_answer():
    # p = 0.125, se 0.8 (80 positives), sp 0.95 (240 negatives), n = 1000
    r = corrected_rate(125, 1000, 0.8, 0.95, n_positive=80, n_negative=240)
    j = 0.75
    est = (0.125 - 0.05) / j
    var = (0.125 * 0.875 / 1000 + est ** 2 * 0.8 * 0.2 / 80 + (1 - est) ** 2 * 0.95 * 0.05 / 240) / j ** 2
    assert r.estimate == pytest.approx(est)
    assert r.high - r.estimate == pytest.approx(1.959964 * math.sqrt(var), rel=1e-5)


# -- bootstrap ------------------------------------------------------------------------------------
def test_error_counts():
    c = ErrorCounts(tp=40, fp=10, fn=10, tn=140)
    assert (c.positives, c.negatives) == (50, 150)
    assert (c.sensitivity, c.specificity, c.precision, c.recall) == (0.8, 140 / 150, 0.8, 0.8)
    assert math.isnan(ErrorCounts(0, 0, 0, 5).sensitivity)


def test_bootstrap_point_and_interval():
    c = ErrorCounts(tp=80, fp=12, fn=20, tn=228)  # se 0.8, sp 0.95
    r = bootstrap_rate(125, 1000, c)
    assert r.corrected and r.estimate == pytest.approx((0.125 - 0.05) / 0.75)
    assert r.low < r.estimate < r.high
    assert r == bootstrap_rate(125, 1000, c)  # deterministic
    # the tagger's measured error widens the interval beyond the month's sampling error alone
    big = ErrorCounts(tp=80_000, fp=12_000, fn=20_000, tn=228_000)
    exact = bootstrap_rate(125, 1000, big)
    assert (r.high - r.low) > 1.3 * (exact.high - exact.low)
    # ... and it agrees with the delta method when the counts are large
    d = corrected_rate(125, 1000, 0.8, 0.95, n_positive=100, n_negative=240)
    assert r.high - r.low == pytest.approx(d.high - d.low, rel=0.15)


def test_bootstrap_covers_the_true_rate():
    # simulated months and labelled sets from a tagger with se 0.75, sp 0.92 and a true rate of 0.2
    rng = np.random.default_rng(7)
    se, sp, pi, n, pos, neg = 0.75, 0.92, 0.2, 2000, 60, 240
    hits = 0
    trials = 150
    for k in range(trials):
        true = rng.random(n) < pi
        tagged = np.where(true, rng.random(n) < se, rng.random(n) < 1 - sp).sum()
        tp = int((rng.random(pos) < se).sum())
        tn = int((rng.random(neg) < sp).sum())
        r = bootstrap_rate(int(tagged), n, ErrorCounts(tp, neg - tn, pos - tp, tn), n_boot=1000, seed=k)
        hits += r.low <= pi <= r.high
    assert hits / trials >= 0.88  # nominal 0.95


def test_bootstrap_without_a_usable_tagger_returns_the_tagged_share():
    r = bootstrap_rate(30, 100, ErrorCounts(tp=5, fp=50, fn=5, tn=50))  # se 0.5, sp 0.5
    assert not r.corrected and r.estimate == 0.3 and r.low < 0.3 < r.high
    assert not bootstrap_rate(30, 100, ErrorCounts(0, 0, 0, 0)).corrected
    with pytest.raises(ValueError, match="tagged <= n"):
        bootstrap_rate(101, 100, ErrorCounts(1, 1, 1, 1))


def test_corrected_rates_table():
    errors = {"a": ErrorCounts(tp=40, fp=10, fn=10, tn=140), "b": ErrorCounts(tp=5, fp=50, fn=5, tn=50)}
    t = corrected_rates({"a": 300, "b": 100, "c": 7}, 1000, errors)
    assert t["theme"].tolist() == ["a", "b", "c"]
    a = t.iloc[0]
    assert a["precision"] == 0.8 and a["recall"] == 0.8 and a["corrected"]
    assert a["estimate"] == pytest.approx(rogan_gladen(0.3, 0.8, 140 / 150))
    assert not t.iloc[1]["corrected"] and not t.iloc[2]["corrected"]
    assert (t["low"] <= t["estimate"]).all() and (t["estimate"] <= t["high"]).all()


# -- measured on a labels file --------------------------------------------------------------------
def test_measured_error_cross_validates_on_the_labels(tmp_path):
    tax = load_taxonomy()
    gold = pd.read_csv(FIXTURES / "cfpb_gold_small.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "labels.csv"
    gold.to_csv(path, index=False)
    errors = measured_error(tax, path, folds=3)
    labelled = [t for t in tax.ids if t in gold.columns]
    assert list(errors) == labelled
    for t, c in errors.items():
        assert c.positives == int(gold[t].astype(int).sum())
        assert c.positives + c.negatives == len(gold)
    assert errors == measured_error(tax, path, folds=3)  # deterministic (and cached)
    with pytest.raises(ValueError, match="no labels file"):
        measured_error(tax)
