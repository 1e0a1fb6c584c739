"""Known-answer tests for feedbacklib.stats.drivers.theme_drivers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from feedbacklib import schema as S
from feedbacklib.stats.drivers import DRIVER_COLUMNS, theme_drivers


def driver_frame(rng, n=1500, effect=-1.0):
    a = rng.random(n) < 0.2
    b = (rng.random(n) < 0.15) | (a & (rng.random(n) < 0.5))   # travels with a, no effect of its own
    csat = np.clip(np.round(4 + effect * a + rng.normal(0, 0.8, n)), 1, 5)
    nps = np.clip(np.round(8 + 3 * effect * a + rng.normal(0, 1.5, n)), 0, 10)
    model = np.where(rng.random(n) < 0.5, S.OUTSOURCED, S.IN_HOUSE)
    return pd.DataFrame({
        S.SERVICE_MODEL: pd.Categorical(model, categories=S.SERVICE_MODELS),
        S.TEXT: pd.array(["comment"] * n, dtype="string"),
        S.CSAT: pd.array(csat, dtype="Int8"), S.NPS: pd.array(nps, dtype="Int8"),
        S.theme_column("a"): a, S.theme_column("b"): b,
    })


def test_planted_theme_found_and_companion_not_blamed():
    out = theme_drivers(driver_frame(np.random.default_rng(0)))
    assert tuple(out.columns) == DRIVER_COLUMNS
    allrow = out[out["group"] == "all"].set_index("theme")
    assert allrow.loc["a", "significant"] and allrow.loc["a", "effect_lo"] < -0.9 < allrow.loc["a", "effect_hi"]
    assert not allrow.loc["b", "significant"]
    for model in (S.OUTSOURCED, S.IN_HOUSE):
        assert out[(out["group"] == model) & (out["theme"] == "a")]["significant"].all()
    assert out[out["group"] == S.UNKNOWN]["effect"].isna().all()


def test_nps_effect_in_nps_points():
    out = theme_drivers(driver_frame(np.random.default_rng(1)), score="nps", by=None)
    row = out.set_index("theme").loc["a"]
    assert row["unit"] == "NPS points" and row["significant"] and row["effect"] < -30


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_null_gives_no_driver(seed):
    out = theme_drivers(driver_frame(np.random.default_rng(seed), effect=0.0))
    assert not out["significant"].any()


def test_min_n_and_rare_themes():
    frame = driver_frame(np.random.default_rng(5), n=60)
    out = theme_drivers(frame, min_n=100)
    assert not out["significant"].any() and not out["reportable"].any()
    out = theme_drivers(frame, by=None, min_with=1000)
    assert out["effect"].isna().all()
