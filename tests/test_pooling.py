"""Partial pooling and funnel limits: small groups are not ranked above large ones by noise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedbacklib.pooling import POOLED_COLUMNS, Z_95, Z_998, funnel_limits, pooled_rates


def test_funnel_limits_known_values():
    lo, hi = funnel_limits(0.5, [100], Z_95)
    assert lo[0] == pytest.approx(0.5 - 1.959964 * 0.05, abs=1e-6) and hi[0] == pytest.approx(0.5 + 1.959964 * 0.05, abs=1e-6)
    lo998, hi998 = funnel_limits(0.5, [100], Z_998)
    assert lo998[0] < lo[0] and hi998[0] > hi[0]
    assert Z_998 == pytest.approx(3.090, abs=1e-3)
    # the funnel narrows with volume and stays within 0..1
    lo_small, hi_small = funnel_limits(0.9, [5, 5000], Z_998)
    assert hi_small[0] == 1.0 and hi_small[1] < 0.92


def test_small_lucky_team_is_not_ranked_above_a_large_good_team():
    """40 responses at 70% against 400 at 62%: the raw ranking is noise, the pooled one is not fooled."""
    rng = np.random.default_rng(0)
    teams = pd.DataFrame({
        "group": ["small", "large", "mid1", "mid2", "mid3"],
        "model": ["in_house"] * 5,
        "x": [28, 248, 110, 118, 104],
        "n": [40, 400, 200, 200, 200],
    })
    out = pooled_rates(teams).set_index("group")
    assert tuple(pooled_rates(teams).columns) == POOLED_COLUMNS
    assert out.loc["small", "rate"] > out.loc["large", "rate"]                # raw: small looks best
    assert out.loc["small", "pooled_rate"] < out.loc["small", "rate"]         # pulled toward the mean
    assert out.loc["small", "shrinkage"] > out.loc["large", "shrinkage"]      # fewer responses, pulled more
    assert out.loc["small", "pooled_rate"] <= out.loc["large", "pooled_rate"] + 1e-9
    assert not out.loc["small", "outside95"]                                   # within what chance produces
    assert (out["pooled_lo"] <= out["pooled_rate"]).all() and (out["pooled_rate"] <= out["pooled_hi"]).all()
    del rng


def test_a_real_outlier_stays_visible_and_groups_pool_to_their_own_model():
    teams = pd.DataFrame({
        "group": ["a1", "a2", "a3", "b1", "b2", "bad"],
        "model": ["in_house"] * 3 + ["outsourced"] * 3,
        "x": [300, 310, 290, 250, 260, 60],
        "n": [500, 500, 500, 500, 500, 500],
    })
    out = pooled_rates(teams).set_index("group")
    assert out.loc["bad", "outside998"]                 # 12% against ~54% overall: far outside the funnel
    assert out.loc["bad", "pooled_rate"] < 0.25         # large n: the data dominate the prior
    assert out.loc["a1", "model_rate"] == pytest.approx(900 / 1500)


def test_no_spread_beyond_chance_pools_completely_but_keeps_honest_intervals():
    teams = pd.DataFrame({"group": list("abcd"), "model": ["m"] * 4, "x": [50, 51, 49, 50], "n": [100] * 4})
    out = pooled_rates(teams)
    assert np.allclose(out["pooled_rate"], 0.5, atol=0.01)
    width = (out["pooled_hi"] - out["pooled_lo"]).min()
    assert width > 0.05  # as wide as the model mean's own interval (400 ratings), not a false certainty


def test_empty_and_zero_volumes():
    assert pooled_rates(pd.DataFrame(columns=["group", "model", "x", "n"])).empty
    out = pooled_rates(pd.DataFrame({"group": ["a", "b"], "model": ["m", "m"], "x": [0, 3], "n": [0, 10]}))
    assert out["group"].tolist() == ["b"]
