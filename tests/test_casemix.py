"""Known-answer tests for feedbacklib.stats.casemix: MH, CMH, OLS-HC1 and Simpson's paradox."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from feedbacklib.stats import casemix as cm
from feedbacklib import schema as S

from .test_compare import make_frame, make_group


def simpson_frame(n: int = 1000, *, within_gap: float = -0.10) -> pd.DataFrame:
    """Outsourced handle mostly easy chats, in-house mostly hard calls (exact quotas).

    Within each channel outsourced satisfy ``within_gap`` fewer customers; overall
    they look better because of the channel mix.
    """
    rows = []
    base = {"chat": 0.85, "phone": 0.45}
    mix = {S.OUTSOURCED: {"chat": 0.8, "phone": 0.2}, S.IN_HOUSE: {"chat": 0.2, "phone": 0.8}}
    for model in (S.OUTSOURCED, S.IN_HOUSE):
        for channel, share in mix[model].items():
            m = int(n * share)
            p = base[channel] + (within_gap if model == S.OUTSOURCED else 0.0)
            k = int(round(p * m))
            csat = [5] * k + [2] * (m - k)
            rows.append(pd.DataFrame({
                S.SERVICE_MODEL: pd.Categorical([model] * m, categories=S.SERVICE_MODELS),
                S.CHANNEL: channel, S.CATEGORY: "Billing",
                S.CSAT: pd.array(csat, dtype="Int8"), S.TEXT: "comment",
            }))
    return pd.concat(rows, ignore_index=True)


def test_mh_single_stratum_is_the_plain_difference():
    rd, lo, hi = cm.mantel_haenszel_rd([30], [100], [20], [100])
    assert rd == pytest.approx(0.1)
    se = np.sqrt(0.3 * 0.7 / 100 + 0.2 * 0.8 / 100)
    assert (lo, hi) == pytest.approx((0.1 - 1.959964 * se, 0.1 + 1.959964 * se), abs=1e-6)


def test_mh_pools_a_common_difference_and_ignores_one_sided_strata():
    rd, lo, hi = cm.mantel_haenszel_rd([60, 20, 5], [100, 100, 10], [50, 10, 0], [100, 100, 0])
    assert rd == pytest.approx(0.10)
    assert lo < 0.10 < hi
    assert all(np.isnan(cm.mantel_haenszel_rd([1], [2], [0], [0])))


def test_cmh_single_stratum_matches_chi_square():
    table = np.array([[30, 70], [15, 85]])
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    expected = stats.chi2.sf(chi2 * (table.sum() - 1) / table.sum(), 1)
    assert cm.cmh_test([30], [100], [15], [100]) == pytest.approx(expected)


def test_ols_hc1_two_groups_matches_hand_formula():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1.0, 2.0, 80), rng.normal(0.0, 0.5, 120)
    y = np.concatenate([a, b])
    X = np.column_stack([np.ones(200), np.r_[np.ones(80), np.zeros(120)]])
    fit = cm.ols_hc1(X, y)
    n = 200
    hc0 = np.sqrt(a.var() / 80 + b.var() / 120)
    assert fit.coef[1] == pytest.approx(a.mean() - b.mean())
    assert fit.se[1] == pytest.approx(hc0 * np.sqrt(n / (n - 2)))


def test_strata_labels_normalise_contact_reasons():
    f = pd.DataFrame({S.CHANNEL: ["phone", "phone", None], S.CATEGORY: ["Technical fault", "technical_fault", ""]})
    labels = cm.strata_labels(f).tolist()
    assert labels[0] == labels[1] == "phone|technical_fault"
    assert labels[2] == "unknown|unknown"


def test_simpsons_paradox_raw_and_adjusted_disagree_and_adjusted_is_right():
    table = cm.adjusted_compare(simpson_frame(), themes=[]).set_index("metric")
    sat = table.loc["satisfied_share"]
    assert sat["raw_significant"] and sat["raw_diff"] > 0.10           # looks better overall
    assert sat["adj_significant"] and sat["adj_diff"] == pytest.approx(-0.10, abs=1e-9)
    assert sat["adj_diff_lo"] < -0.10 < sat["adj_diff_hi"]
    assert sat["disagreement"] == "sign_flip" and sat["disagree"]
    assert "opposite directions" in sat["finding"] and "fair comparison" in sat["finding"]
    csat = table.loc["csat_mean"]
    assert csat["raw_diff"] > 0 and csat["adj_diff"] == pytest.approx(-0.30, abs=1e-9)
    assert csat["disagreement"] == "sign_flip" and csat["adj_method"] == "ols_hc1"


def test_mix_only_difference_is_explained_away():
    table = cm.adjusted_compare(simpson_frame(within_gap=0.0), themes=[]).set_index("metric")
    sat = table.loc["satisfied_share"]
    assert sat["raw_significant"] and not sat["adj_significant"]
    assert sat["adj_diff"] == pytest.approx(0.0, abs=1e-9)
    assert sat["disagreement"] == "raw_only" and "mix of contacts" in sat["finding"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_null_data_gives_no_adjusted_finding(seed):
    rng = np.random.default_rng(seed)
    frame = make_frame(make_group(rng, 500, model=S.OUTSOURCED, vendor="Acme"),
                       make_group(rng, 500, model=S.IN_HOUSE))
    frame[S.CHANNEL] = rng.choice(["phone", "chat", "email"], len(frame))
    frame[S.CATEGORY] = rng.choice(["billing", "order"], len(frame))
    table = cm.adjusted_compare(frame, n_resamples=200)
    assert not table["adj_significant"].any()
    assert not table["disagree"].any() and (table["finding"] == "").all()


def test_small_groups_are_never_significant():
    table = cm.adjusted_compare(simpson_frame(n=40), themes=[], min_n=100)
    assert not table["adj_significant"].any() and not table["raw_significant"].any()


def test_vendor_version_and_columns():
    frame = simpson_frame()
    frame[S.VENDOR] = pd.array(np.where(frame[S.SERVICE_MODEL] == S.OUTSOURCED, "Acme", None), dtype="string")
    out = cm.adjusted_compare_vendors(frame, themes=[])
    assert list(out.columns) == ["vendor", *cm.ADJUSTED_COLUMNS]
    row = out.set_index("metric").loc["satisfied_share"]
    assert row["vendor"] == "Acme" and row["disagreement"] == "sign_flip"
    assert "Acme" in row["finding"]
