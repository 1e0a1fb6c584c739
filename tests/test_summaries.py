"""Statistics from summaries (issue 19 item 1) and statsmodels where it does the same thing (issue 14 item 5).

- The case-mix, drivers and theme-impact tables computed from additive summaries
  are the tables the row-level implementations (kept in ``tests/reference``) give,
  on the sample month and on generated frames.
- A summary built on parts and added up is the summary of the whole, and gives
  the same tables.
- The cell-based OLS with HC1 errors is statsmodels' ``OLS(...).fit(cov_type="HC1")``
  on the rows; the CMH test is statsmodels' ``StratifiedTable`` test, and both
  equal the hand-written versions they replace.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from feedbacklib import stats as C
import statsmodels.api as sm
from scipy import stats

from feedbacklib import schema as S
from feedbacklib.stats import casemix as cm
from feedbacklib.stats import drivers as dr
from feedbacklib.stats import impact as im
from feedbacklib.stats import summaries as su

from .reference import casemix_rows as old_cm
from .reference import drivers_rows as old_dr
from .reference import impact_rows as old_im
from .test_compare import make_frame, make_group

TOL = 1e-9


def assert_same_table(new: pd.DataFrame, old: pd.DataFrame, atol: float = TOL) -> None:
    """Same columns, rows, texts, counts and flags; floats equal within ``atol`` (NaN where NaN)."""
    assert list(new.columns) == list(old.columns)
    assert len(new) == len(old)
    for col in old.columns:
        a, b = new[col], old[col]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            assert np.array_equal(np.isnan(x), np.isnan(y)), col
            np.testing.assert_allclose(x, y, rtol=0, atol=atol, err_msg=col)
        else:
            assert a.astype(object).tolist() == b.astype(object).tolist(), col


def generated(seed: int = 0, n: int = 3000) -> pd.DataFrame:
    """Two service models, two vendors, teams, channels, messy contact reasons and planted effects."""
    rng = np.random.default_rng(seed)
    frame = make_frame(
        make_group(rng, n, model=S.OUTSOURCED, vendor="Acme", csat_shift={"surprise_charges": -2},
                   theme_p={"responsiveness": 0.2}),
        make_group(rng, n // 2, model=S.OUTSOURCED, vendor="Globex", csat_shift={"courtesy": -1}),
        make_group(rng, n, model=S.IN_HOUSE, csat_shift={"praise": 1}),
        make_group(rng, n // 10, model=S.UNKNOWN),
    )
    frame[S.CHANNEL] = pd.Categorical(rng.choice(["phone", "chat", "email", None], len(frame),
                                                 p=[0.4, 0.3, 0.25, 0.05]), categories=S.CHANNELS)
    frame[S.CATEGORY] = pd.array(rng.choice(["Billing", "billing", "Technical fault", "technical_fault",
                                             "order", None], len(frame)), dtype="string")
    frame[S.TEAM] = pd.array(rng.choice(["North", "South", "East"], len(frame)), dtype="string")
    frame[S.MONTH] = "2026-10"
    return frame


def _themes(frame: pd.DataFrame) -> list[str]:
    return [c.removeprefix("theme_") for c in frame.columns
            if c.startswith("theme_") and c != S.THEME_EVIDENCE]


CASES = ["adjusted", "vendors", "drivers_csat", "drivers_nps_team", "drivers_sentiment", "impact_csat",
         "impact_nps"]


def _both(case: str, frame: pd.DataFrame, themes: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    kw = dict(themes=themes)
    if case == "adjusted":
        return (cm.adjusted_compare(frame, n_resamples=200, **kw),
                old_cm.adjusted_compare(frame, n_resamples=200, **kw))
    if case == "vendors":
        return (cm.adjusted_compare_vendors(frame, n_resamples=200, **kw),
                old_cm.adjusted_compare_vendors(frame, n_resamples=200, **kw))
    if case == "drivers_csat":
        return dr.theme_drivers(frame, **kw), old_dr.theme_drivers(frame, **kw)
    if case == "drivers_nps_team":
        return (dr.theme_drivers(frame, score=S.NPS, by=S.TEAM, **kw),
                old_dr.theme_drivers(frame, score=S.NPS, by=S.TEAM, **kw))
    if case == "drivers_sentiment":
        return (dr.theme_drivers(frame, score=S.SENTIMENT, by=None, **kw),
                old_dr.theme_drivers(frame, score=S.SENTIMENT, by=None, **kw))
    if case == "impact_csat":
        return im.theme_impact(frame, n_resamples=500, **kw), old_im.theme_impact(frame, n_resamples=500, **kw)
    return (im.theme_impact(frame, score=S.NPS, n_resamples=500, **kw),
            old_im.theme_impact(frame, score=S.NPS, n_resamples=500, **kw))


@pytest.mark.parametrize("case", CASES)
def test_sample_month_tables_identical_to_row_implementations(sample_result, case):
    frame = sample_result.frame
    new, old = _both(case, frame, sample_result.theme_ids)
    assert len(new) > 0
    assert_same_table(new, old)


@pytest.mark.parametrize("case", CASES)
def test_generated_month_tables_identical_to_row_implementations(case):
    frame = generated()
    new, old = _both(case, frame, _themes(frame))
    assert_same_table(new, old)


def test_report_figures_found_on_generated_month():
    """The planted effects come out of the summary-based statistics (not only equal to the old ones)."""
    frame = generated(1)
    drivers = dr.theme_drivers(frame, themes=_themes(frame)).set_index(["group", "theme"])
    assert drivers.loc[("all", "surprise_charges"), "effect_hi"] < -0.5
    impact = im.theme_impact(frame, themes=_themes(frame))
    assert impact.iloc[0]["theme"] == "surprise_charges" and impact.iloc[0]["impact_hi"] < 0


# --------------------------------------------------------------------------- #
# Summaries add up
# --------------------------------------------------------------------------- #
def _normalised(table: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in table.columns if table[c].dtype.kind not in "fi" or c.startswith("pattern")
            or c == su.VALUE or c == su.HAS_TEXT]
    out = table.astype({c: object for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])})
    return out.sort_values(keys, na_position="last", key=lambda s: s.astype(str)).reset_index(drop=True)


def test_summaries_of_parts_add_up_to_the_summary_of_the_whole():
    frame = generated(2)
    themes = _themes(frame)
    whole = su.summarise(frame, themes=themes)
    bounds = [0, 1000, 4500, len(frame)]
    parts = [su.summarise(frame.iloc[a:b], themes=themes) for a, b in zip(bounds, bounds[1:])]
    for total in (su.combine(*parts), sum(parts), parts[0] + parts[1] + parts[2]):
        assert total.rows == whole.rows == len(frame)
        pd.testing.assert_frame_equal(_normalised(total.cells), _normalised(whole.cells), check_dtype=False)
        for score in su.SCORES:
            pd.testing.assert_frame_equal(_normalised(total.scores[score]), _normalised(whole.scores[score]),
                                          check_dtype=False)
    assert len(whole.cells) < len(frame) / 10      # small: a few hundred cells for 7,650 rows
    shipped = pickle.loads(pickle.dumps(parts[0]))   # what a worker sends back to the client
    pd.testing.assert_frame_equal((shipped + parts[1] + parts[2]).cells, su.combine(*parts).cells)


def test_statistics_from_combined_summaries_equal_those_from_rows():
    frame = generated(3)
    themes = _themes(frame)
    halves = [frame.iloc[: len(frame) // 3], frame.iloc[len(frame) // 3:]]
    total = sum(su.summarise(h, themes=themes) for h in halves)
    raw = C.compare_groups(frame, themes=themes, n_resamples=200)
    assert_same_table(cm.adjusted_from_summary(total, raw), old_cm.adjusted_compare(frame, themes=themes,
                                                                                   n_resamples=200))
    raw_v = C.compare_vendors(frame, themes=themes, n_resamples=200)
    assert_same_table(cm.adjusted_vendors_from_summary(total, raw_v),
                      old_cm.adjusted_compare_vendors(frame, themes=themes, n_resamples=200))
    assert_same_table(dr.drivers_from_summary(total, S.CSAT, S.SERVICE_MODEL), old_dr.theme_drivers(frame))
    assert_same_table(dr.drivers_from_summary(total, S.NPS, S.TEAM),
                      old_dr.theme_drivers(frame, score=S.NPS, by=S.TEAM))
    assert_same_table(im.impact_from_summary(total, n_resamples=400), old_im.theme_impact(frame, n_resamples=400))
    assert_same_table(im.impact_from_summary(total, score=S.NPS, n_resamples=400),
                      old_im.theme_impact(frame, score=S.NPS, n_resamples=400))


def test_combine_refuses_summaries_built_differently():
    frame = generated(4, n=200)
    a = su.summarise(frame, themes=["praise"])
    b = su.summarise(frame, themes=["courtesy"])
    with pytest.raises(ValueError, match="same themes"):
        su.combine(a, b)
    with pytest.raises(ValueError, match="at least one"):
        su.combine()
    with pytest.raises(ValueError, match="summarise"):
        dr.drivers_from_summary(su.summarise(frame, themes=["praise"], scores=()), S.CSAT)


def test_theme_pattern_round_trips_beyond_one_word():
    rng = np.random.default_rng(0)
    flags = rng.random((50, 130)) < 0.3
    words = su._pack(list(flags.T), 50)
    table = pd.DataFrame(dict(zip(su.pattern_columns(130), words)))
    assert len(words) == 3
    assert np.array_equal(su.pattern_flags(table, 130), flags)


def test_empty_and_themeless_frames():
    frame = generated(5, n=100).iloc[0:0]
    assert su.summarise(frame, themes=["praise"]).rows == 0
    small = generated(5, n=100)
    assert su.summarise(small, themes=["praise"], strata=None).rows == len(small) == 260
    assert im.theme_impact(frame, themes=["praise"])["n_scored"].tolist() == [0]
    assert im.theme_impact(generated(5, n=100), themes=[]).empty


# --------------------------------------------------------------------------- #
# statsmodels: the reference the cell fits are held to, and what the row fit now calls
# --------------------------------------------------------------------------- #
def _casemix_design(frame: pd.DataFrame, y: np.ndarray):
    """Rows of the case-mix regression (outsourced vs in-house, common support), as the old code built it."""
    in_a = C.equals_mask(frame, S.SERVICE_MODEL, S.OUTSOURCED)
    in_b = C.equals_mask(frame, S.SERVICE_MODEL, S.IN_HOUSE)
    keep = (in_a | in_b) & np.isfinite(y)
    stratum = cm.strata_labels(frame).to_numpy(dtype=object)[keep].astype(str)
    side = in_a[keep]
    mixed = pd.Series(side).groupby(stratum).agg(lambda v: v.any() and not v.all())
    use = mixed.reindex(stratum).to_numpy(dtype=bool)
    levels, codes = np.unique(stratum[use], return_inverse=True)
    dummies = np.eye(levels.size)[codes][:, 1:]
    X = np.column_stack([np.ones(use.sum()), side[use].astype(float), dummies])
    return X, y[keep][use], levels


@pytest.mark.parametrize("score", [S.CSAT, S.NPS])
def test_casemix_cell_fit_equals_statsmodels_hc1_on_rows(score):
    frame = generated(6)
    y = C.numeric(frame, score)
    if score == S.NPS:
        y = dr.score_points(y, S.NPS)
    X, yy, levels = _casemix_design(frame, y)
    ref = sm.OLS(yy, X).fit(cov_type="HC1")
    table = cm.adjusted_compare(frame, themes=[], n_resamples=50).set_index("metric")
    row = table.loc[C.CSAT_MEAN if score == S.CSAT else C.NPS_SCORE]
    assert row["n_strata"] == levels.size
    assert row["adj_diff"] == pytest.approx(ref.params[1], abs=1e-10)
    half = (row["adj_diff_hi"] - row["adj_diff_lo"]) / 2
    assert half == pytest.approx(stats.t.ppf(0.975, ref.df_resid) * ref.bse[1], abs=1e-10)
    # the cell primitive itself: one row per (side, stratum) cell
    cells = pd.DataFrame(X).assign(y=yy, y2=yy**2).groupby(list(range(X.shape[1])))
    g = cells.agg(n=("y", "size"), s=("y", "sum"), ss=("y2", "sum")).reset_index()
    fit = cm.ols_hc1_cells(g[list(range(X.shape[1]))].to_numpy(float), g["n"], g["s"], g["ss"])
    np.testing.assert_allclose(fit.coef, ref.params, rtol=0, atol=1e-10)
    np.testing.assert_allclose(fit.se, ref.bse, rtol=1e-9)
    assert fit.df_resid == ref.df_resid and fit.n == len(yy)


def test_drivers_cell_fit_equals_statsmodels_hc1_on_rows():
    frame = generated(7)
    themes = ["surprise_charges", "courtesy", "praise", "responsiveness"]
    y = C.numeric(frame, S.CSAT)
    keep = np.isfinite(y) & C.has_text(frame)
    X = np.column_stack([np.ones(keep.sum())] + [C.bool_flags(frame, S.theme_column(t))[keep] for t in themes])
    ref = sm.OLS(y[keep], X.astype(float)).fit(cov_type="HC1")
    out = dr.theme_drivers(frame, by=None, themes=themes).set_index("theme")
    for i, t in enumerate(themes, start=1):
        assert out.loc[t, "effect"] == pytest.approx(ref.params[i], abs=1e-10)
        p_ref = 2 * stats.t.sf(abs(ref.params[i] / ref.bse[i]), ref.df_resid)
        assert out.loc[t, "p_value"] == pytest.approx(p_ref, rel=1e-9, abs=1e-300)
        half = (out.loc[t, "effect_hi"] - out.loc[t, "effect_lo"]) / 2
        assert half == pytest.approx(stats.t.ppf(0.975, ref.df_resid) * ref.bse[i], abs=1e-10)


@pytest.mark.parametrize("seed", range(5))
def test_row_ols_hc1_is_the_hand_written_one(seed):
    rng = np.random.default_rng(seed)
    n = 300
    X = np.column_stack([np.ones(n), rng.random(n) < 0.4, rng.integers(0, 3, n) == 1, rng.normal(size=n)])
    if seed == 4:                                     # a collinear column: not identified, NaN se
        X = np.column_stack([X, X[:, 1]])
    y = 2 + 0.5 * X[:, 1] + rng.normal(size=n) * (1 + X[:, 2])
    y[rng.random(n) < 0.05] = np.nan
    new, old = cm.ols_hc1(X, y), old_cm.ols_hc1(X, y)
    np.testing.assert_allclose(new.coef, old.coef, rtol=0, atol=1e-10)
    np.testing.assert_allclose(new.se, old.se, rtol=1e-9)          # NaN where NaN
    assert new.df_resid == old.df_resid and new.n == old.n
    assert np.isnan(new.se).any() == (seed == 4)


def test_row_ols_hc1_without_residual_degrees_of_freedom():
    fit = cm.ols_hc1(np.column_stack([np.ones(2), [0.0, 1.0]]), [1.0, 3.0])
    assert fit.coef == pytest.approx([1.0, 2.0]) and np.isnan(fit.se).all()
    assert np.isnan(cm.ols_hc1(np.ones((0, 2)), []).coef).all()


@pytest.mark.parametrize("seed", range(6))
def test_cmh_is_statsmodels_stratified_table_and_the_hand_written_test(seed):
    rng = np.random.default_rng(seed)
    k = 1 + seed * 3
    n1, n0 = rng.integers(0, 60, k), rng.integers(1, 60, k)
    x1, x0 = rng.binomial(n1, 0.4), rng.binomial(n0, 0.3)
    assert cm.cmh_test(x1, n1, x0, n0) == pytest.approx(old_cm.cmh_test(x1, n1, x0, n0), rel=1e-12, abs=1e-300)
    both = (n1 > 0) & (n0 > 0)
    tables = np.array([[x1, n1 - x1], [x0, n0 - x0]])[:, :, both]
    ref = sm.stats.StratifiedTable(tables).test_null_odds(correction=False).pvalue
    assert cm.cmh_test(x1, n1, x0, n0) == pytest.approx(ref, abs=1e-12)


def test_cmh_edge_cases_unchanged():
    assert cm.cmh_test([0, 5], [5, 5], [0, 5], [5, 5]) == 1.0          # every margin fixed
    assert np.isnan(cm.cmh_test([1], [2], [0], [0]))                     # no stratum with both groups
    tiny = cm.cmh_test([900], [1000], [100], [1000])                      # statsmodels' 1 - cdf gives 0 here
    assert 0 < tiny == pytest.approx(old_cm.cmh_test([900], [1000], [100], [1000]), rel=1e-9)
